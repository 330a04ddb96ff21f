import Foundation
public import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster in `<LIBRARY_ROOT>/.db`, used when no `DATABASE_URL` is set.
///
/// - Made with the system's `initdb` on first use, started on demand with `pg_ctl`, and left
///   running for the next process; `mediaq db stop` stops it.
/// - Listens only on a unix socket inside `.db` (no TCP), with trust authentication: the socket
///   directory is private to the cluster's owner (and root), which is the access control.
/// - Any number of processes may ask for it at once: an `flock` on `.db/cluster.lock` orders
///   the starters, and PostgreSQL's own `postmaster.pid` lock decides which server runs.
/// - PostgreSQL refuses to run as root. When we are root the cluster runs as the owner of
///   LIBRARY_ROOT if that is not root, else as the `postgres` account of Debian's package.
public struct EmbeddedCluster: Sendable {
    public static let databaseName = "media"
    public static let superuser = "media"
    static let socketPort = 5432

    public let libraryRoot: String
    public let logger: Logger
    /// `max_connections`, given on the server's command line when this process starts it, so
    /// that a changed setting applies at the next start (`mediaq db stop`).
    public let maxConnections: Int

    public init(
        libraryRoot: String, logger: Logger,
        maxConnections: Int = LibraryConfiguration.defaultMaxConnections(workers: DaemonSettings().workers)
    ) {
        self.libraryRoot = libraryRoot
        self.logger = logger
        self.maxConnections = maxConnections
    }

    /// The cluster of `configuration`'s library, with its connection limit.
    public init(_ configuration: LibraryConfiguration, logger: Logger) {
        self.init(
            libraryRoot: configuration.libraryRoot, logger: logger, maxConnections: configuration.embeddedMaxConnections)
    }

    public var directory: String { libraryRoot + "/.db" }
    public var dataDirectory: String { directory + "/data" }
    public var socketPath: String { directory + "/.s.PGSQL.\(Self.socketPort)" }
    var lockPath: String { directory + "/cluster.lock" }
    var logPath: String { directory + "/server.log" }

    /// The URL that reaches the cluster's library database.
    public var url: DatabaseURL {
        DatabaseURL(
            endpoint: .unixSocket(path: socketPath), user: Self.superuser, database: Self.databaseName,
            tlsMode: .disable, connectTimeoutSeconds: 3)
    }

    public var isInitialized: Bool { FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") }

    // MARK: - Starting

    /// Makes sure the cluster exists and is running and that the library database exists.
    /// Waits at most `timeout` seconds for another process that is starting it.
    public func ensureRunning(timeout: Double = 60) async throws(MediaError) {
        try checkSocketPathLength()
        // The common case costs a few stat calls, not a process: a command that runs many
        // times a minute must not pay for pg_ctl each time.
        if isEvidentlyReady { return }
        let account = try clusterAccount()
        try prepareDirectory(owner: account)
        let lock = try await acquireLock(timeout: timeout)
        defer { releaseLock(lock) }

        if !isInitialized {
            try initialize(as: account)
        }
        if try !isRunning(as: account) {
            try start(as: account)
        }
        if !FileManager.default.fileExists(atPath: readyMarkerPath) {
            try await createLibraryDatabase()
            _ = FileManager.default.createFile(atPath: readyMarkerPath, contents: Data())
        }
    }

    /// Written once the library database exists; with a live postmaster and its socket, the
    /// cluster needs nothing more.
    var readyMarkerPath: String { directory + "/library-database-created" }

    /// The postmaster named in `postmaster.pid` is alive, its socket is there, and the library
    /// database was made.
    var isEvidentlyReady: Bool {
        guard FileManager.default.fileExists(atPath: readyMarkerPath),
            FileManager.default.fileExists(atPath: socketPath),
            let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = Int32(line)
        else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Stops the cluster if it runs. Returns whether it was running.
    @discardableResult
    public func stop() throws(MediaError) -> Bool {
        guard isInitialized else { return false }
        let account = try clusterAccount()
        guard try isRunning(as: account) else { return false }
        let result = try run(
            ["pg_ctl", "stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60"], as: account)
        guard result.status == 0 else {
            throw MediaError(
                .embeddedDatabaseFailed, "could not stop the embedded PostgreSQL in \(directory): \(result.output)")
        }
        return true
    }

    public func isRunning() throws(MediaError) -> Bool {
        guard isInitialized else { return false }
        return try isRunning(as: clusterAccount())
    }

    private func isRunning(as account: Account) throws(MediaError) -> Bool {
        // pg_ctl status: 0 running, 3 not running, 4 no accessible data directory.
        let result = try run(["pg_ctl", "status", "-D", dataDirectory], as: account)
        return result.status == 0
    }

    private func initialize(as account: Account) throws(MediaError) {
        // initdb into a side directory, then rename: a crash mid-way leaves no half cluster.
        let staging = directory + "/data.initdb"
        try? FileManager.default.removeItem(atPath: staging)
        logger.event(.databaseStarted, "creating the embedded PostgreSQL cluster", metadata: ["directory": "\(dataDirectory)"])
        let result = try run(
            [
                "initdb", "-D", staging, "-U", Self.superuser, "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-instructions",
            ], as: account)
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: staging)
            throw MediaError(
                .embeddedDatabaseFailed, "initdb failed for the embedded PostgreSQL in \(directory): \(result.output)")
        }
        let settings = """

            # Added by the media library: a private cluster reached only through its socket.
            listen_addresses = ''
            unix_socket_permissions = 0700
            logging_collector = off
            log_min_messages = warning
            jit = off

            """
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: staging + "/postgresql.conf"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(settings.utf8))
            try handle.close()
        } catch {
            throw MediaError(.embeddedDatabaseFailed, "cannot configure the embedded PostgreSQL: \(error)")
        }
        guard rename(staging, dataDirectory) == 0 else {
            throw MediaError(
                .embeddedDatabaseFailed, "cannot move the new cluster into \(dataDirectory): \(LibraryRoot.errnoText())")
        }
        LibraryRoot.syncDirectory(directory)
    }

    private func start(as account: Account) throws(MediaError) {
        logger.event(.databaseStarted, "starting the embedded PostgreSQL", metadata: ["directory": "\(dataDirectory)"])
        // A socket left by a server that was killed would make the new one refuse to start.
        if !FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") {
            unlink(socketPath)
            unlink(socketPath + ".lock")
        }
        // The socket directory goes on the command line, not in postgresql.conf, so a library
        // that moves (rebase) takes its cluster along; so does the connection limit, so that it
        // follows the configuration (a cluster made before it was configurable has 60 in its file).
        let options = "-k " + Self.shellQuoted(directory) + " -c max_connections=\(maxConnections)"
        let result = try run(
            ["pg_ctl", "start", "-D", dataDirectory, "-l", logPath, "-w", "-t", "60", "-o", options],
            as: account)
        guard result.status == 0 else {
            if try isRunning(as: account) { return }  // another process won the race
            let log =
                (try? String(contentsOfFile: logPath, encoding: .utf8))?
                .split(separator: "\n").suffix(5).joined(separator: " | ") ?? ""
            throw MediaError(
                .embeddedDatabaseFailed,
                "the embedded PostgreSQL in \(directory) did not start: \(result.output) \(log)")
        }
    }

    private func createLibraryDatabase() async throws(MediaError) {
        var maintenance = url
        maintenance.database = "postgres"
        let connector = DatabaseConnector(url: maintenance, logger: logger)
        let connection = try await connector.connect()
        defer { Task { try? await connection.close() } }
        do {
            let rows = try await connection.query(
                "SELECT count(*) FROM pg_database WHERE datname = \(Self.databaseName)", logger: logger)
            var exists = false
            for try await count in rows.decode(Int.self) { exists = count > 0 }
            if !exists {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(Self.databaseName)"), logger: logger)
            }
        } catch {
            throw connector.translate(error, "cannot create the library database in the embedded PostgreSQL")
        }
    }

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

    private func prepareDirectory(owner: Account) throws(MediaError) {
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
    private func acquireLock(timeout: Double) async throws(MediaError) -> Int32 {
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

    private func releaseLock(_ fd: Int32) {
        flock(fd, LOCK_UN)
        close(fd)
    }

    private func checkSocketPathLength() throws(MediaError) {
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

    private func run(_ arguments: [String], as account: Account) throws(MediaError) -> CommandResult {
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
