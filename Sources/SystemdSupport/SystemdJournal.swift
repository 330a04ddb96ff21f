import CSystemd
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The journal's two doors: whether standard error is already a stream to journald, and
/// sending one structured entry with `sd_journal_sendv(3)`.
public enum SystemdJournal {
    /// journald's native socket, where `sd_journal_sendv` sends.
    public static let socketPath = "/run/systemd/journal/socket"

    /// Whether `journalStream` (the value of `JOURNAL_STREAM`, `DEVICE:INODE` in decimal) names
    /// the file open on `descriptor` (standard error by default). systemd.exec(5): a program
    /// should only log to the journal natively when this holds, since the variable is inherited
    /// by children whose standard error was redirected elsewhere.
    public static func isJournalStream(_ journalStream: String?, descriptor: Int32 = 2) -> Bool {
        guard let journalStream else { return false }
        let parts = journalStream.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// Whether this process's standard error is its journal stream (`JOURNAL_STREAM` from the
    /// environment).
    public static var standardErrorIsJournalStream: Bool {
        isJournalStream(ProcessInfo.processInfo.environment["JOURNAL_STREAM"], descriptor: STDERR_FILENO)
    }

    /// Sends one entry of `NAME=value` fields. Names must be valid journal field names
    /// (uppercase letters, digits and `_`, not starting with `_` or a digit, at most 64
    /// characters); journald drops fields that are not. Values may hold any bytes, newlines
    /// included (libsystemd switches to the length-prefixed form).
    ///
    /// Returns 0, or a negative errno when the entry did not reach a journald: `-ENOENT` when
    /// its socket is missing, `-ECONNREFUSED` when nothing listens on it. The caller must fall
    /// back then, since nothing is written anywhere. (libsystemd itself reports success for a
    /// missing socket, so the socket is looked for first.)
    public static func send(_ fields: [(name: String, value: String)]) -> Int32 {
        guard !fields.isEmpty else { return -EINVAL }
        var status = stat()
        guard stat(socketPath, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK else { return -ENOENT }
        // One buffer with every `NAME=value`, and an iovec per field pointing into it.
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(fields.count)
        for field in fields {
            let start = bytes.count
            bytes.append(contentsOf: field.name.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: field.value.utf8)
            ranges.append(start..<bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer -> Int32 in
            let vectors = ranges.map { range in
                iovec(iov_base: buffer.baseAddress! + range.lowerBound, iov_len: range.count)
            }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}
