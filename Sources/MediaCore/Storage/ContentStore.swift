import Foundation

#if canImport(Glibc)
public import Glibc
#endif

/// The library's content-addressed files: where they go and how they get there whole.
///
/// Layout, relative to LIBRARY_ROOT:
/// - originals: `{images|videos}/original/<sha[0:2]>/<sha>.<ext>`, read-only once written;
/// - thumbnails: `{images|videos}/thumbs/<sha>.jpg`;
/// - work in progress: `.tmp/`, on the same filesystem, so that finishing is a rename.
public struct ContentStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public static let temporaryFolder = ".tmp"

    public static func folder(for kind: MediaFormat.Kind) -> String {
        kind == .image ? "images" : "videos"
    }

    /// Relative path of an original.
    public static func originalPath(sha256: String, extension ext: String, kind: MediaFormat.Kind) -> String {
        "\(folder(for: kind))/original/\(sha256.prefix(2))/\(sha256).\(ext)"
    }

    /// Relative path of a thumbnail or poster frame.
    public static func thumbnailPath(sha256: String, kind: MediaFormat.Kind) -> String {
        "\(folder(for: kind))/thumbs/\(sha256).jpg"
    }

    public func absolute(_ relative: String) -> String { root + "/" + relative }

    /// Whether a library file is there (without following a symbolic link).
    public func exists(_ relative: String) -> Bool {
        var info = stat()
        return lstat(absolute(relative), &info) == 0
    }

    public var temporaryDirectory: String { absolute(Self.temporaryFolder) }

    /// A new, unique temporary path in the library (the file is not created).
    public func temporaryPath(suffix: String) -> String {
        temporaryDirectory + "/\(getpid())-\(UUID().uuidString.prefix(8).lowercased())\(suffix)"
    }

    // MARK: - Copying in

    public struct StoredCopy: Sendable {
        /// The verified copy, in `.tmp`.
        public let temporaryPath: String
        public let sha256: String
        public let bytes: Int64
    }

    public enum StoreFailure: Error, Sendable {
        /// The source is not usable (not a regular file, a symlink, unreadable).
        case badSource(String)
        /// A symbolic link, a folder, a device: only regular files are ingested.
        case notARegularFile(String)
        /// The source changed while it was read: try again later.
        case sourceChanged(String)
        /// The library could not be written (full, read-only, I/O error).
        case libraryWrite(String)
        /// The copy did not read back as written.
        case verifyFailed(String)
    }

    /// Copies the open `source` into `.tmp`, hashing the bytes as they pass, fsyncs the copy,
    /// reads it back to verify the checksum, and checks that the source did not change meanwhile.
    public func copyIn(from source: OpenSource) throws(StoreFailure) -> StoredCopy {
        try createDirectory(temporaryDirectory)
        let path = temporaryPath(suffix: ".part")
        let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard output >= 0 else { throw .libraryWrite("cannot create \(path): \(Self.errnoText())") }
        var finished = false
        defer {
            close(output)
            if !finished { unlink(path) }
        }
        let digest: String
        let total: Int64
        do {
            (digest, total) = try FileIO.sha256(streaming: source.fd) { FileIO.writeAll(output, $0) }
        } catch {
            switch error {
            case .read(let code): throw .badSource("cannot read \(source.path): \(Self.errnoText(code))")
            case .consumer(let code): throw .libraryWrite("cannot write \(path): \(Self.errnoText(code))")
            }
        }
        try source.checkUnchanged(bytesRead: total)
        guard fsync(output) == 0 else { throw .libraryWrite("cannot flush \(path) to disk: \(Self.errnoText())") }
        let reread = try Self.sha256(ofFileAt: path)
        guard reread == digest else {
            throw .verifyFailed("the copy of \(source.path) reads back as \(reread.prefix(12)), not \(digest.prefix(12))")
        }
        finished = true
        return StoredCopy(temporaryPath: path, sha256: digest, bytes: total)
    }

    /// Takes the open `source` into `.tmp` without copying when it is on the library's
    /// filesystem: one read to hash it, then a hard link of the very file that was read (by its
    /// descriptor, not its name). Returns nil when the source is elsewhere: copy it instead.
    /// The source's own name is removed later, with `removeSourceName`, once the asset is recorded.
    public func moveIn(from source: OpenSource) throws(StoreFailure) -> StoredCopy? {
        try createDirectory(temporaryDirectory)
        var library = stat()
        guard stat(temporaryDirectory, &library) == 0 else {
            throw .libraryWrite("cannot examine \(temporaryDirectory): \(Self.errnoText())")
        }
        guard library.st_dev == source.device else { return nil }
        // A file another account owns (gather's, dropped into the shared drop folder) would stay
        // theirs, and writable by them, inside the library; the kernel's protected_hardlinks
        // refuses the link anyway. It is copied: the library's files are all its own.
        var owner = stat()
        guard fstat(source.fd, &owner) == 0, owner.st_uid == geteuid() else { return nil }
        let digest: String
        let total: Int64
        do {
            (digest, total) = try FileIO.sha256(streaming: source.fd)
        } catch {
            throw .badSource("cannot read \(source.path): \(Self.errnoText(error.code))")
        }
        try source.checkUnchanged(bytesRead: total)
        let path = temporaryPath(suffix: ".part")
        guard linkat(AT_FDCWD, source.stablePath, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 else {
            let code = errno
            if code == EXDEV { return nil }
            throw .libraryWrite("cannot link \(source.path) into \(temporaryDirectory): \(Self.errnoText(code))")
        }
        do {
            try source.checkUnchanged(bytesRead: total)
        } catch {
            unlink(path)
            throw error
        }
        return StoredCopy(temporaryPath: path, sha256: digest, bytes: total)
    }

    /// Removes the name the source was dropped under, if it still names the file that was
    /// ingested (a new file of the same name is left alone).
    public func removeSourceName(_ source: OpenSource) {
        Self.removeName(source.identity)
    }

    /// Unlinks `identity.path` if it still names that file (not one dropped since under the name).
    static func removeName(_ identity: OpenSource.Identity) {
        var info = stat()
        guard lstat(identity.path, &info) == 0, info.st_dev == identity.device, info.st_ino == identity.inode else { return }
        unlink(identity.path)
        LibraryRoot.syncDirectory((identity.path as NSString).deletingLastPathComponent)
    }

    /// Gives a moved-in source back its permissions when its ingest failed after the shared file
    /// was made read-only for the library.
    public func restoreSourceMode(_ source: OpenSource) {
        var info = stat()
        guard lstat(source.path, &info) == 0, info.st_dev == source.device, info.st_ino == source.inode else { return }
        chmod(source.path, source.mode)
    }

    /// Moves a verified temporary file to `relativePath`, read-only, unless a file is already
    /// there (same name, same content: a concurrent ingest of the same bytes won). Returns
    /// whether this call placed the file. The directory entry is fsynced.
    @discardableResult
    public func place(_ temporaryPath: String, at relativePath: String, mode: mode_t = 0o444) throws(StoreFailure) -> Bool {
        let destination = absolute(relativePath)
        let directory = (destination as NSString).deletingLastPathComponent
        try createDirectory(directory)
        guard chmod(temporaryPath, mode) == 0 else {
            throw .libraryWrite("cannot set the mode of \(temporaryPath): \(Self.errnoText())")
        }
        // link() refuses to replace: of two ingests of the same bytes exactly one places the file.
        if link(temporaryPath, destination) != 0 {
            let code = errno
            unlink(temporaryPath)
            if code == EEXIST { return false }
            throw .libraryWrite("cannot move a file to \(destination): \(Self.errnoText(code))")
        }
        unlink(temporaryPath)
        LibraryRoot.syncDirectory(directory)
        return true
    }

    /// Removes a library file (ENOENT is fine: removing is idempotent).
    public func remove(_ relativePath: String) throws(StoreFailure) {
        let path = absolute(relativePath)
        if unlink(path) != 0 && errno != ENOENT {
            throw .libraryWrite("cannot remove \(path): \(Self.errnoText())")
        }
    }

    // MARK: - Helpers

    public static func sha256(ofFileAt path: String) throws(StoreFailure) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .libraryWrite("cannot reopen \(path): \(errnoText())") }
        defer { close(fd) }
        do {
            return try FileIO.sha256(streaming: fd).sha256
        } catch {
            throw .libraryWrite("cannot read back \(path): \(errnoText(error.code))")
        }
    }

    func createDirectory(_ path: String) throws(StoreFailure) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw .libraryWrite("cannot create \(path): \(error.localizedDescription)")
        }
    }

    static func errnoText(_ code: Int32 = errno) -> String { LibraryRoot.errnoText(code) }
}

/// A file opened for ingest without following symlinks, with the size and modification time it
/// had when opened, so that a file still being written is noticed rather than stored half.
public final class OpenSource: Sendable {
    public let path: String
    let fd: Int32
    public let size: Int64
    let modified: timespec
    let device: dev_t
    let inode: ino_t
    let mode: mode_t

    public init(path: String) throws(ContentStore.StoreFailure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { throw .notARegularFile("\(path) is a symbolic link; only regular files are ingested") }
            throw .badSource("cannot open \(path): \(LibraryRoot.errnoText(code))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw .badSource("cannot examine \(path): \(LibraryRoot.errnoText())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notARegularFile("\(path) is not a regular file")
        }
        self.path = path
        self.fd = fd
        self.size = Int64(info.st_size)
        self.modified = info.st_mtim
        self.device = info.st_dev
        self.inode = info.st_ino
        self.mode = info.st_mode & 0o7777
    }

    deinit { close(fd) }

    /// A name and the file it named when opened.
    struct Identity: Sendable {
        let path: String
        let device: dev_t
        let inode: ino_t
    }

    var identity: Identity { Identity(path: path, device: device, inode: inode) }

    /// A path other libraries can open that names exactly this open file, not whatever the
    /// name points at now.
    public var stablePath: String { "/proc/self/fd/\(fd)" }

    /// Up to `count` bytes from the start.
    public func head(_ count: Int) throws(ContentStore.StoreFailure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard got >= 0 else { throw .badSource("cannot read \(path): \(LibraryRoot.errnoText())") }
        return Array(buffer.prefix(got))
    }

    /// Up to `count` bytes from the end.
    public func tail(_ count: Int) throws(ContentStore.StoreFailure) -> [UInt8] {
        let start = max(0, size - Int64(count))
        var buffer = [UInt8](repeating: 0, count: Int(size - start))
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard got >= 0 else { throw .badSource("cannot read \(path): \(LibraryRoot.errnoText())") }
        return Array(buffer.prefix(got))
    }

    func checkUnchanged(bytesRead: Int64) throws(ContentStore.StoreFailure) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .badSource("cannot examine \(path): \(LibraryRoot.errnoText())") }
        let unchanged =
            Int64(info.st_size) == size && bytesRead == size
            && info.st_mtim.tv_sec == modified.tv_sec && info.st_mtim.tv_nsec == modified.tv_nsec
        if !unchanged {
            throw .sourceChanged("\(path) changed while it was read (size \(size) → \(info.st_size)); it will be retried")
        }
    }
}
