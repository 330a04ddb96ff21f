public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file that appears whole or not at all: written under a temporary name in the same folder,
/// fsynced, then renamed over the destination, and the folder fsynced. A reader sees the old
/// file or the new one, never a part; after a crash, at most a `.NAME.tmp-…` file is left.
///
/// In two steps, so that a caller can commit other work (marking assets used) between writing
/// and publishing, and `discard` when that work fails.
public struct AtomicFile: Sendable {
    public let destination: String
    public let temporary: String
    let failureCode: MediaError.Code

    /// Writes `data` beside `destination` and fsyncs it; nothing is visible at `destination` yet.
    /// A failure is reported with `code` (the caller's view of what was not written).
    public static func prepare(
        _ data: Data, for destination: String, failure code: MediaError.Code = .outputNotWritten
    ) throws(MediaError) -> AtomicFile {
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else {
            throw MediaError(code, "cannot write \(destination): \(LibraryRoot.errnoText()) (in \(folder))")
        }
        var failure = data.withUnsafeBytes { FileIO.writeAll(fd, $0) }
        if failure == nil && fsync(fd) != 0 { failure = errno }
        close(fd)
        if let failure {
            unlink(temporary)
            throw MediaError(code, "cannot write \(destination): \(LibraryRoot.errnoText(failure))")
        }
        return AtomicFile(destination: destination, temporary: temporary, failureCode: code)
    }

    /// Renames the written file into place and makes the rename durable.
    public func commit() throws(MediaError) {
        guard rename(temporary, destination) == 0 else {
            let code = errno
            unlink(temporary)
            throw MediaError(failureCode, "cannot write \(destination): \(LibraryRoot.errnoText(code))")
        }
        LibraryRoot.syncDirectory(URL(fileURLWithPath: destination).deletingLastPathComponent().path)
    }

    public func discard() {
        unlink(temporary)
    }

    /// Both steps at once.
    public static func write(
        _ data: Data, to destination: String, failure code: MediaError.Code = .outputNotWritten
    ) throws(MediaError) {
        try prepare(data, for: destination, failure: code).commit()
    }

    /// `value` as pretty, key-sorted JSON with a final newline, both steps at once.
    public static func writeJSON(
        _ value: some Encodable, to destination: String, failure code: MediaError.Code = .outputNotWritten
    ) throws(MediaError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(value) + Data("\n".utf8)
        } catch {
            throw MediaError(code, "cannot encode \(destination): \(error)")
        }
        try write(data, to: destination, failure: code)
    }
}
