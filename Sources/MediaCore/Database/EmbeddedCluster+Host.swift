import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

// What the embedded cluster needs from the host: the account it runs as, its private
// directory, the starters' lock, and PostgreSQL's own programs run as that account.
extension EmbeddedCluster {
    // MARK: - Account, directory, lock

    struct Account: Sendable {
        let name: String
        let uid: uid_t
        let gid: gid_t
        /// Whether commands must switch to this account (we are root).
        let needsSwitch: Bool
    }

    func clusterAccount() throws(MediaError) -> Account {
        let uid = geteuid()
        if uid != 0 {
            guard let entry = getpwuid(uid) else {
                throw MediaError(.embeddedDatabaseFailed, "cannot look up the current user (uid \(uid))")
            }
            return Account(name: String(cString: entry.pointee.pw_name), uid: uid, gid: entry.pointee.pw_gid, needsSwitch: false)
        }
        var info = stat()
        if stat(directory, &info) == 0, info.st_uid != 0, let entry = getpwuid(info.st_uid) {
            return Account(name: String(cString: entry.pointee.pw_name), uid: info.st_uid, gid: entry.pointee.pw_gid, needsSwitch: true)
        }
        if stat(libraryRoot, &info) == 0, info.st_uid != 0, let entry = getpwuid(info.st_uid) {
            return Account(name: String(cString: entry.pointee.pw_name), uid: info.st_uid, gid: entry.pointee.pw_gid, needsSwitch: true)
        }
        guard let entry = getpwnam("postgres") else {
            throw MediaError(
                .embeddedDatabaseFailed,
                "PostgreSQL cannot run as root, and there is no 'postgres' account to run the embedded "
                    + "cluster as; install Debian's postgresql package, run as another user, or set DATABASE_URL")
        }
        return Account(name: "postgres", uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, needsSwitch: true)
    }

    func prepareDirectory(owner: Account) throws(MediaError) {
        if !FileManager.default.fileExists(atPath: directory) {
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                throw MediaError(.libraryRootNotWritable, "cannot create \(directory): \(LibraryRoot.errnoText())")
            }
        }
        if owner.needsSwitch {
            var info = stat()
            if stat(directory, &info) == 0, info.st_uid != owner.uid {
                guard chown(directory, owner.uid, owner.gid) == 0 else {
                    throw MediaError(
                        .embeddedDatabaseFailed, "cannot hand \(directory) to user \(owner.name): \(LibraryRoot.errnoText())")
                }
            }
            // The server must reach its directory through every parent.
            var parent = (libraryRoot as NSString).standardizingPath
            while parent != "/" && !parent.isEmpty {
                if stat(parent, &info) == 0, (info.st_mode & 0o001) == 0,
                    !(info.st_uid == owner.uid && (info.st_mode & 0o100) != 0),
                    !(info.st_gid == owner.gid && (info.st_mode & 0o010) != 0)
                {
                    throw MediaError(
                        .embeddedDatabaseFailed,
                        "the embedded PostgreSQL runs as user \(owner.name), who cannot enter \(parent) "
                            + "(mode \(String(info.st_mode & 0o777, radix: 8))); choose a LIBRARY_ROOT that user "
                            + "can reach, or set DATABASE_URL")
                }
                parent = (parent as NSString).deletingLastPathComponent
            }
        } else {
            var info = stat()
            if stat(directory, &info) == 0, info.st_uid != geteuid() {
                let ownerName = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
                throw MediaError(
                    .embeddedDatabaseFailed,
                    "the embedded PostgreSQL in \(directory) belongs to \(ownerName); run as that user or root, "
                        + "or set DATABASE_URL to a shared server")
            }
        }
    }

    /// Waits for the starters' lock without blocking a thread: a task of this process that holds
    /// it may need the cooperative pool to finish.
    func acquireLock(timeout: Double) async throws(MediaError) -> Int32 {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw MediaError(.embeddedDatabaseFailed, "cannot open \(lockPath): \(LibraryRoot.errnoText())")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                close(fd)
                throw MediaError(
                    .embeddedDatabaseFailed,
                    "another process has been starting the embedded PostgreSQL in \(directory) for over \(Int(timeout)) s")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return fd
    }

    func releaseLock(_ fd: Int32) {
        flock(fd, LOCK_UN)
        close(fd)
    }

    func checkSocketPathLength() throws(MediaError) {
        // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
        if socketPath.utf8.count > 107 {
            throw MediaError(
                .invalidConfiguration,
                "LIBRARY_ROOT \(libraryRoot) is too long for the embedded PostgreSQL's socket path "
                    + "(\(socketPath.utf8.count) bytes, at most 107); use a shorter path or set DATABASE_URL")
        }
    }

    // MARK: - Running PostgreSQL's programs

    struct CommandResult {
        let status: Int32
        let output: String
    }

    func run(_ arguments: [String], as account: Account) throws(MediaError) -> CommandResult {
        let program = try Self.postgresBinary(arguments[0])
        var command = [program] + arguments.dropFirst()
        if account.needsSwitch {
            command = ["/usr/sbin/runuser", "-u", account.name, "--"] + command
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        environment.removeValue(forKey: "PGDATA")
        let outcome: ChildProcess.Outcome
        do {
            // The server must not inherit a working directory it cannot enter.
            outcome = try ChildProcess.run(command, workingDirectory: directory, environment: environment)
        } catch {
            throw MediaError(.embeddedDatabaseFailed, error.description)
        }
        let text = outcome.output
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
        return CommandResult(status: outcome.status, output: text)
    }

    /// The newest installed PostgreSQL's programs, or `MEDIA_PG_BINDIR` when set.
    static func postgresBinary(_ name: String) throws(MediaError) -> String {
        var directories: [String] = []
        if let configured = ProcessInfo.processInfo.environment["MEDIA_PG_BINDIR"], !configured.isEmpty {
            directories.append(configured)
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted(by: >)
        directories += versions.map { "/usr/lib/postgresql/\($0)/bin" }
        directories += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/" + name) {
            return directory + "/" + name
        }
        throw MediaError(
            .embeddedDatabaseFailed,
            "PostgreSQL's \(name) is not installed (looked in /usr/lib/postgresql/*/bin and PATH); "
                + "run scripts/install-deps.sh or set DATABASE_URL")
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
