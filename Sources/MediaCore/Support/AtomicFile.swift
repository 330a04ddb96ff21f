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

    /// Writes `data` beside `destination` and fsyncs it; nothing is visible at `destination` yet.
    public static func prepare(_ data: Data, for destination: String) throws(MediaError) -> AtomicFile {
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else {
            throw MediaError(.outputNotWritten, "cannot write \(destination): \(LibraryRoot.errnoText()) (in \(folder))")
        }
        var failure = data.withUnsafeBytes { FileIO.writeAll(fd, $0) }
        if failure == nil && fsync(fd) != 0 { failure = errno }
        close(fd)
        if let failure {
            unlink(temporary)
            throw MediaError(.outputNotWritten, "cannot write \(destination): \(LibraryRoot.errnoText(failure))")
        }
        return AtomicFile(destination: destination, temporary: temporary)
    }

    /// Renames the written file into place and makes the rename durable.
    public func commit() throws(MediaError) {
        guard rename(temporary, destination) == 0 else {
            let code = errno
            unlink(temporary)
            throw MediaError(.outputNotWritten, "cannot write \(destination): \(LibraryRoot.errnoText(code))")
        }
        LibraryRoot.syncDirectory(URL(fileURLWithPath: destination).deletingLastPathComponent().path)
    }

    public func discard() {
        unlink(temporary)
    }

    /// Both steps at once.
    public static func write(_ data: Data, to destination: String) throws(MediaError) {
        try prepare(data, for: destination).commit()
    }
}
