import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How `mediaq export` puts an asset into a project folder.
public enum ExportMode: String, CaseIterable, Sendable, Encodable {
    /// Try reflink, hardlink, symlink, copy in that order; the first that works is used.
    case auto
    /// A copy-on-write clone (`ioctl(FICLONE)`): no bytes copied, an independent file.
    /// Only on filesystems that share extents (Btrfs, XFS, bcachefs), within one filesystem.
    case reflink
    /// Another name for the library's read-only original; same filesystem only.
    case hardlink
    /// A symbolic link to the original's absolute path.
    case symlink
    /// A full copy, fsynced and read back.
    case copy

    /// The modes `auto` tries, cheapest first.
    public static let autoOrder: [ExportMode] = [.reflink, .hardlink, .symlink, .copy]
}

/// One asset as export needs it.
public struct ExportSource: Sendable, Equatable {
    public let id: Int64
    public let kind: MediaFormat.Kind
    public let sha256: String
    /// Relative to LIBRARY_ROOT.
    public let path: String
    /// What the stored file hashes to: `sha256` unless it was optimised (docs/storage.md).
    /// An export is the stored file, named by the asset's identity.
    public let storedSha256: String

    public init(id: Int64, kind: MediaFormat.Kind, sha256: String, path: String, storedSha256: String? = nil) {
        self.id = id
        self.kind = kind
        self.sha256 = sha256
        self.path = path
        self.storedSha256 = storedSha256 ?? sha256
    }

    /// `<sha256>.<ext>`: a name that is the content, so exporting twice is harmless.
    public var exportName: String {
        let ext = (path as NSString).pathExtension
        return ext.isEmpty ? sha256 : sha256 + "." + ext
    }
}

/// What became of one exported asset.
public struct ExportResult: Sendable, Encodable, Equatable {
    public enum Status: String, Sendable, Encodable {
        /// Made now.
        case exported
        /// Already there, and verified to be the asset.
        case existing
    }

    /// How the result was verified.
    public enum Verification: String, Sendable, Encodable {
        /// Read in full; its SHA-256 is the asset's.
        case sha256
        /// The same inode as the library's original.
        case sameFile = "same-file"
    }

    public let id: Int64
    public let sha256: String
    /// The library's original, absolute.
    public let source: String
    /// The exported file, absolute.
    public let path: String
    public let status: Status
    /// The mode that made it (for `existing`: what it is).
    public let mode: ExportMode
    public let verified: Verification
    /// Modes `auto` tried first, with why each could not be used here.
    public let skipped: [Skipped]

    public struct Skipped: Sendable, Encodable, Equatable {
        public let mode: ExportMode
        public let reason: String
    }
}

/// Puts assets into a folder outside the library, never making a second full copy when a
/// cheaper link works, and checks every result.
public struct AssetExporter: Sendable {
    /// LIBRARY_ROOT.
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// A mode failed because the filesystems cannot do it (the next mode may work), or for
    /// another reason (the next would fail too).
    enum Attempt: Error {
        case unsupported(String)
        case failed(MediaError)
    }

    /// With `.auto`, a symbolic link is made only when `symlinkHeld` (the caller pinned the
    /// asset for its run): GC removing the original would leave it dangling. Across
    /// filesystems, an unpinned export is therefore a copy.
    public func export(
        _ asset: ExportSource, to directory: String, mode: ExportMode, symlinkHeld: Bool = false
    ) throws(MediaError) -> ExportResult {
        let source = root + "/" + asset.path
        let destination = directory + "/" + asset.exportName
        var info = stat()
        guard stat(source, &info) == 0 else {
            throw MediaError(
                .originalMissing, "asset \(asset.id)'s original \(source) cannot be read: \(LibraryRoot.errnoText())")
        }
        if let existing = try existingExport(of: asset, source: source, at: destination) {
            return existing
        }
        var skipped: [ExportResult.Skipped] = []
        for candidate in mode == .auto ? ExportMode.autoOrder : [mode] {
            if mode == .auto && candidate == .symlink && !symlinkHeld {
                skipped.append(
                    .init(
                        mode: .symlink,
                        reason: "not pinned for a run (--pin RUN): GC could remove the original and break the link"))
                continue
            }
            do {
                let verified = try make(candidate, from: source, to: destination, asset: asset)
                return ExportResult(
                    id: asset.id, sha256: asset.sha256, source: source, path: destination, status: .exported,
                    mode: candidate, verified: verified, skipped: skipped)
            } catch {
                switch error {
                case .unsupported(let reason):
                    if mode != .auto {
                        throw MediaError(
                            .exportModeUnsupported,
                            "cannot \(candidate.rawValue) \(source) to \(directory): \(reason); try --mode auto")
                    }
                    skipped.append(.init(mode: candidate, reason: reason))
                case .failed(let failure):
                    throw failure
                }
            }
        }
        throw MediaError(
            .exportModeUnsupported,
            "no export mode works from \(source) to \(directory): "
                + skipped.map { "\($0.mode.rawValue): \($0.reason)" }.joined(separator: "; "))
    }

    // MARK: - The modes

    private func make(
        _ mode: ExportMode, from source: String, to destination: String, asset: ExportSource
    ) throws(Attempt) -> ExportResult.Verification {
        switch mode {
        case .auto:
            preconditionFailure("auto is not a mode of its own")
        case .hardlink:
            guard link(source, destination) == 0 else { throw linkFailure("hard link", destination) }
            try verifySameFile(destination, as: source, removeOnFailure: true)
            LibraryRoot.syncDirectory((destination as NSString).deletingLastPathComponent)
            return .sameFile
        case .symlink:
            guard symlink(source, destination) == 0 else { throw linkFailure("symbolic link", destination) }
            try verifySameFile(destination, as: source, removeOnFailure: true)
            LibraryRoot.syncDirectory((destination as NSString).deletingLastPathComponent)
            return .sameFile
        case .reflink, .copy:
            let temporary =
                (destination as NSString).deletingLastPathComponent
                + "/.tmp-export-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())-" + asset.exportName
            defer { unlink(temporary) }
            if mode == .reflink {
                try clone(source, to: temporary)
            } else {
                try copy(source, to: temporary, asset: asset)
            }
            try verifyHash(temporary, asset: asset)
            // link, not rename: an export never replaces a file that appeared meanwhile.
            guard link(temporary, destination) == 0 else { throw linkFailure("file", destination) }
            LibraryRoot.syncDirectory((destination as NSString).deletingLastPathComponent)
            return .sha256
        }
    }

    /// `ioctl(FICLONE)`: the destination shares the source's extents until either is written.
    private func clone(_ source: String, to temporary: String) throws(Attempt) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .failed(writeError("cannot open \(source)")) }
        defer { close(input) }
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard output >= 0 else { throw .failed(writeError("cannot create \(temporary)")) }
        defer { close(output) }
        // FICLONE is _IOW(0x94, 9, int).
        let ficlone: UInt = 0x4004_9409
        if ioctl(output, ficlone, input) != 0 {
            let code = errno
            switch code {
            case EOPNOTSUPP, ENOTTY, EXDEV, EINVAL, ENOSYS, EPERM:
                throw .unsupported(
                    code == EXDEV
                        ? "the folders are on different filesystems"
                        : "the filesystem does not support reflinks (\(LibraryRoot.errnoText(code)))")
            default:
                throw .failed(writeError("cannot clone \(source)", code))
            }
        }
        guard fsync(output) == 0 else { throw .failed(writeError("cannot fsync \(temporary)")) }
    }

    /// A streamed copy whose bytes are hashed as they pass; the hash must be the asset's.
    private func copy(_ source: String, to temporary: String, asset: ExportSource) throws(Attempt) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .failed(writeError("cannot open \(source)")) }
        defer { close(input) }
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard output >= 0 else { throw .failed(writeError("cannot create \(temporary)")) }
        defer { close(output) }
        let digest: String
        do {
            digest = try FileIO.sha256(streaming: input) { FileIO.writeAll(output, $0) }.sha256
        } catch {
            switch error {
            case .read(let code): throw .failed(writeError("cannot read \(source)", code))
            case .consumer(let code): throw .failed(writeError("cannot write \(temporary)", code))
            }
        }
        guard digest == asset.storedSha256 else {
            throw .failed(
                MediaError(
                    .checksumMismatch,
                    "asset \(asset.id)'s original \(source) reads as \(digest), not \(asset.storedSha256): it is damaged; nothing was exported"
                ))
        }
        guard fsync(output) == 0 else { throw .failed(writeError("cannot fsync \(temporary)")) }
    }

    // MARK: - Verification

    /// A file already at the destination is accepted only when it is the asset.
    private func existingExport(
        of asset: ExportSource, source: String, at destination: String
    ) throws(MediaError) -> ExportResult? {
        var info = stat()
        guard lstat(destination, &info) == 0 else { return nil }
        func result(_ mode: ExportMode, _ verified: ExportResult.Verification) -> ExportResult {
            ExportResult(
                id: asset.id, sha256: asset.sha256, source: source, path: destination, status: .existing,
                mode: mode, verified: verified, skipped: [])
        }
        let isLink = (info.st_mode & S_IFMT) == S_IFLNK
        if (try? verifySameFile(destination, as: source, removeOnFailure: false)) != nil {
            return result(isLink ? .symlink : .hardlink, .sameFile)
        }
        if !isLink && (info.st_mode & S_IFMT) == S_IFREG && (try? verifyHash(destination, asset: asset)) != nil {
            return result(.copy, .sha256)
        }
        throw MediaError(
            .exportConflict, "\(destination) exists and is not asset \(asset.id) (\(asset.sha256)); nothing was overwritten")
    }

    /// Same device and inode as the original, through the link if it is one.
    private func verifySameFile(_ path: String, as source: String, removeOnFailure: Bool) throws(Attempt) {
        var made = stat()
        var original = stat()
        guard stat(path, &made) == 0, stat(source, &original) == 0,
            made.st_dev == original.st_dev, made.st_ino == original.st_ino
        else {
            if removeOnFailure { unlink(path) }
            throw .failed(MediaError(.checksumMismatch, "\(path) was made but is not \(source)"))
        }
    }

    private func verifyHash(_ path: String, asset: ExportSource) throws(Attempt) {
        let digest: String
        do {
            digest = try ContentStore.sha256(ofFileAt: path)
        } catch {
            throw .failed(writeError("cannot read back \(path)"))
        }
        guard digest == asset.storedSha256 else {
            throw .failed(
                MediaError(
                    .checksumMismatch, "\(path) reads back as \(digest), not asset \(asset.id)'s \(asset.storedSha256)"))
        }
    }

    private func linkFailure(_ what: String, _ destination: String) -> Attempt {
        let code = errno
        switch code {
        case EXDEV: return .unsupported("the folders are on different filesystems")
        case EPERM, EOPNOTSUPP, EMLINK:
            return .unsupported("the filesystem refuses a \(what) (\(LibraryRoot.errnoText(code)))")
        case EEXIST:
            return .failed(MediaError(.exportConflict, "\(destination) appeared while it was being made; nothing was overwritten"))
        default:
            return .failed(writeError("cannot make a \(what) at \(destination)", code))
        }
    }

    private func writeError(_ action: String, _ code: Int32 = errno) -> MediaError {
        MediaError(.exportFailed, "\(action): \(LibraryRoot.errnoText(code))")
    }
}
