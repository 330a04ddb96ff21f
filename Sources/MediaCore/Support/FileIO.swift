import Crypto

#if canImport(Glibc)
import Glibc
#endif

/// The byte loops every file operation of the library shares: write all of a buffer, and read
/// a file once from its start while hashing it.
public enum FileIO {
    /// The size of the file at `path` (following links), or nil when it cannot be examined.
    public static func size(of path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// Makes everything written to the filesystem holding `path` durable: `syncfs(2)`, found
    /// at run time because Swift's Glibc module does not declare it (`sync(2)` where missing).
    /// One call after a batch of small files costs one journal commit instead of two fsyncs
    /// a file.
    public static func syncFilesystem(containing path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard let syncfs = syncfsFunction else {
            sync()
            return true
        }
        return syncfs(fd) == 0
    }

    private typealias SyncFS = @convention(c) (Int32) -> Int32

    private static let syncfsFunction: SyncFS? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: SyncFS.self)
    }()

    enum StreamFailure: Error {
        /// Reading the file failed, with this errno.
        case read(Int32)
        /// The consumer of the bytes failed, with this errno.
        case consumer(Int32)

        var code: Int32 {
            switch self {
            case .read(let code), .consumer(let code): code
            }
        }
    }

    /// Writes all of `bytes`; returns errno on failure.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }

    /// Reads `fd` from offset 0 to its end in 1 MiB chunks, hashing each chunk and handing it to
    /// `consumer` (which returns an errno to stop). Returns the SHA-256 and the byte count.
    static func sha256(
        streaming fd: Int32, into consumer: (UnsafeRawBufferPointer) -> Int32? = { _ in nil }
    ) throws(StreamFailure) -> (sha256: String, bytes: Int64) {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .read(errno)
            }
            if count == 0 { break }
            let failure = buffer.withUnsafeBytes { raw -> Int32? in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                hasher.update(bufferPointer: chunk)
                return consumer(chunk)
            }
            if let failure { throw .consumer(failure) }
            offset += off_t(count)
        }
        return (Migration.hex(hasher.finalize()), Int64(offset))
    }
}
