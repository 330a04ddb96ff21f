public import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// LIBRARY_ROOT on disk: whether it is there, whether it is ours, whether we may write to it.
///
/// The marker file `.media-library.json` names the library's id. A root without it is never
/// written into once the database knows a library, because a drive that is not mounted shows
/// an empty directory where the library should be.
public struct LibraryRoot: Sendable {
    public static let markerName = ".media-library.json"
    /// Entries an empty, freshly made filesystem may already hold.
    static let ignorableEntries: Set<String> = ["lost+found"]

    public let path: String

    public init(path: String) {
        self.path = path
    }

    public var markerPath: String { path + "/" + Self.markerName }

    /// What is found at the root.
    public enum State: Sendable, Equatable {
        /// Nothing at the path.
        case missing
        /// The path exists but is not a directory.
        case notADirectory
        /// An empty directory with no marker.
        case emptyUnmarked
        /// A directory with files but no marker.
        case unmarkedWithContent(firstEntries: [String])
        case marked(LibraryMarker)
    }

    public struct LibraryMarker: Codable, Sendable, Equatable {
        public var libraryId: UUID
        public var createdAt: Date
        public var format: Int

        public init(libraryId: UUID, createdAt: Date = Date(), format: Int = 1) {
            self.libraryId = libraryId
            self.createdAt = createdAt
            self.format = format
        }

        enum CodingKeys: String, CodingKey { case libraryId, createdAt, format }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(libraryId.lowercased, forKey: .libraryId)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(format, forKey: .format)
        }
    }

    public func inspect() throws(MediaError) -> State {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return .missing }
            throw MediaError(.libraryRootMissing, "LIBRARY_ROOT \(path) cannot be examined: \(Self.errnoText())")
        }
        if (info.st_mode & S_IFMT) == S_IFLNK {
            // A symlinked root is fine; examine what it points at.
            guard stat(path, &info) == 0 else {
                return .missing
            }
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return .notADirectory }
        if FileManager.default.fileExists(atPath: markerPath) {
            return .marked(try readMarker())
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            if access(path, R_OK | X_OK) != 0 && errno == EACCES {
                throw MediaError(
                    .libraryRootNotWritable,
                    "LIBRARY_ROOT \(path) cannot be read by \(Self.accessDescription(info)); "
                        + "the library's readers are the members of its group (docs/operations.md, \"Access\")")
            }
            throw MediaError(.libraryRootNotWritable, "LIBRARY_ROOT \(path) cannot be listed: \(error.localizedDescription)")
        }
        // A marker left half-made by a crash (".tmp-…") does not make the root "in use", nor
        // does the drop folder that the install step makes before mediad's first start (files
        // gather put there early are drops, ingested once the library exists).
        var isDirectory: ObjCBool = false
        let meaningful = entries.filter {
            !Self.ignorableEntries.contains($0) && !$0.hasPrefix(".tmp-")
                && !($0 == "drop" && FileManager.default.fileExists(atPath: path + "/drop", isDirectory: &isDirectory)
                    && isDirectory.boolValue)
        }.sorted()
        guard !meaningful.isEmpty else { return .emptyUnmarked }
        return .unmarkedWithContent(firstEntries: Array(meaningful.prefix(3)) + (meaningful.count > 3 ? ["…"] : []))
    }

    /// "user gather (owner mediad, group media, mode 2750)", for a permission error.
    static func accessDescription(_ info: stat) -> String {
        let user = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(geteuid())"
        let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
        let group = getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) } ?? "gid \(info.st_gid)"
        return "user \(user) (owner \(owner), group \(group), mode \(String(info.st_mode & 0o7777, radix: 8)))"
    }

    public func readMarker() throws(MediaError) -> LibraryMarker {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: markerPath))
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(LibraryMarker.self, from: data)
        } catch {
            throw MediaError(
                .libraryMarkerInvalid,
                "library marker \(markerPath) cannot be read: \(error.localizedDescription); "
                    + "restore it from a backup or from `mediaq db status` (it holds the library id)")
        }
    }

    /// Writes `marker` unless a marker is already there, and returns the one that is there now.
    /// The file appears whole or not at all (written aside, fsynced, then linked into place), and
    /// of two processes creating a library at once exactly one marker wins.
    public func createMarkerIfAbsent(_ marker: LibraryMarker) throws(MediaError) -> LibraryMarker {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(marker) + Data("\n".utf8)
        } catch {
            throw MediaError(.libraryMarkerInvalid, "cannot encode the library marker: \(error)")
        }
        // Unique per call, not only per process: two opens in one process (tasks) must not
        // write, link and unlink the same temporary file.
        let temporary = path + "/.tmp-\(getpid())-\(UUID().uuidString.prefix(8))-\(Self.markerName)"
        try Self.writeDurably(data, to: temporary, mode: 0o444)
        defer { unlink(temporary) }
        if link(temporary, markerPath) != 0 {
            guard errno == EEXIST else {
                throw MediaError(
                    .libraryRootNotWritable, "cannot create library marker \(markerPath): \(Self.errnoText())")
            }
            return try readMarker()
        }
        Self.syncDirectory(path)
        return marker
    }

    /// Creates the root directory (and its parents) for a new library.
    public func create() throws(MediaError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw MediaError(.libraryRootNotWritable, "cannot create LIBRARY_ROOT \(path): \(error.localizedDescription)")
        }
    }

    /// Why the root cannot be written, or `nil` when it can. Checks the filesystem (a read-only
    /// mount refuses even root) as well as permissions.
    public func writeProblem() -> String? {
        var fs = statvfs()
        if statvfs(path, &fs) == 0, (fs.f_flag & UInt(ST_RDONLY)) != 0 {
            return "it is on a read-only filesystem"
        }
        if access(path, W_OK | X_OK) != 0 {
            return Self.errnoText()
        }
        return nil
    }

    /// Checks, before each write, that the root still holds the library opened at start and can
    /// be written: a drive unmounted under a running daemon leaves a bare mount point that must
    /// not be filled. Cheap enough to call per drop (one small read, one statvfs).
    public func confirm(libraryId: UUID) throws(MediaError) {
        guard FileManager.default.fileExists(atPath: markerPath) else {
            throw MediaError(
                .libraryRootUnmounted,
                "LIBRARY_ROOT \(path) no longer holds the library (no \(Self.markerName)): is its drive mounted?")
        }
        let marker = try readMarker()
        guard marker.libraryId == libraryId else {
            throw MediaError(
                .libraryMismatch,
                "LIBRARY_ROOT \(path) now holds library \(marker.libraryId.lowercased), not \(libraryId.lowercased)")
        }
        if let problem = writeProblem() {
            throw MediaError(.libraryRootNotWritable, "LIBRARY_ROOT \(path) is not writable: \(problem)")
        }
    }

    // MARK: - Helpers

    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code)).lowercased()
    }

    /// Writes `data` to a new file at `path` and fsyncs it.
    public static func writeDurably(_ data: Data, to path: String, mode: mode_t) throws(MediaError) {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else {
            throw MediaError(.libraryRootNotWritable, "cannot create \(path): \(errnoText())")
        }
        var failure = data.withUnsafeBytes { FileIO.writeAll(fd, $0) }
        if failure == nil && fsync(fd) != 0 { failure = errno }
        close(fd)
        if let failure {
            unlink(path)
            throw MediaError(.libraryRootNotWritable, "cannot write \(path): \(errnoText(failure))")
        }
    }

    public static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}

/// The mount table, read to tell an unmounted drive's bare mount point from a library.
public struct MountTable: Sendable {
    /// Mount points that are mounted now.
    public let mounted: Set<String>
    /// Mount points that `/etc/fstab` declares (other than swap and pseudo entries).
    public let declared: Set<String>

    public init(mounted: Set<String>, declared: Set<String>) {
        self.mounted = mounted
        self.declared = declared
    }

    public static func current(
        mountInfo: String = "/proc/self/mountinfo", fstab: String = "/etc/fstab"
    ) -> MountTable {
        var mounted: Set<String> = []
        if let text = try? String(contentsOfFile: mountInfo, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count > 4 { mounted.insert(unescape(fields[4])) }
            }
        }
        var declared: Set<String> = []
        if let text = try? String(contentsOfFile: fstab, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("#") { continue }
                let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if fields.count > 2, fields[1].hasPrefix("/"), fields[2] != "swap" {
                    declared.insert(unescape(fields[1]))
                }
            }
        }
        return MountTable(mounted: mounted, declared: declared)
    }

    /// The deepest fstab mount point that contains `path` and is not mounted now, if any: then
    /// `path` is a directory on the parent filesystem, not on the drive it should be on.
    public func unmountedMountPoint(containing path: String) -> String? {
        declared
            .filter { $0 != "/" && !mounted.contains($0) }
            .filter { path == $0 || path.hasPrefix($0 + "/") }
            .max { $0.count < $1.count }
    }

    /// mountinfo and fstab write a space as `\040`, a tab as `\011`, a backslash as `\134`.
    private static func unescape(_ field: Substring) -> String {
        var result = ""
        var characters = field.makeIterator()
        while let c = characters.next() {
            if c == "\\" {
                let octal = String([characters.next(), characters.next(), characters.next()].compactMap { $0 })
                if let code = UInt8(octal, radix: 8) {
                    result.append(Character(Unicode.Scalar(code)))
                } else {
                    result.append("\\" + octal)
                }
            } else {
                result.append(c)
            }
        }
        return result
    }
}
