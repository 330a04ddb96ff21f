#if canImport(Glibc)
import Glibc
#endif

/// A file as the kernel knows it at one moment: device, inode, size and modification time. A
/// renamed file keeps its stamp; a rewritten or replaced one does not.
public struct FileStamp: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modifiedNanoseconds: Int64

    /// The stamp of what `path` names now (following links), or nil when it cannot be examined.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}
