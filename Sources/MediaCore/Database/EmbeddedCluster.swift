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
/// - Listens only on a unix socket inside `.db` (no TCP), with peer authentication: the owner
///   and root are the superuser role, members of the library root's group the client role, and
///   the socket admits no one else (see `EmbeddedCluster+Access.swift`).
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
            endpoint: .unixSocket(path: socketPath), user: role, database: Self.databaseName,
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
        // A cluster started by a version without the access settings (no pg_hba.conf of ours
        // beside it: trust, private socket) is restarted once with them.
        let startedWithoutAccess = isInitialized && !FileManager.default.fileExists(atPath: hbaPath)
        if isEvidentlyReady && !startedWithoutAccess { return }
        let account = try clusterAccount()
        try prepareDirectory(owner: account)
        let lock = try await acquireLock(timeout: timeout)
        defer { releaseLock(lock) }

        // initdb and `pg_ctl start -w` take seconds (tens on a loaded machine) and wait for
        // their processes: on a thread of their own, never on the cooperative pool, whose few
        // threads every other task of the process (a daemon's services, a test run's other
        // tests) needs meanwhile.
        try await onOwnThread { () throws(MediaError) in
            if !isInitialized {
                try initialize(as: account)
            }
            if try isRunning(as: account), !FileManager.default.fileExists(atPath: hbaPath) {
                logger.event(
                    .databaseStarted, "restarting the embedded PostgreSQL with the library's access settings",
                    metadata: ["directory": "\(dataDirectory)"], level: .notice)
                try stop()
            }
            if try !isRunning(as: account) {
                try start(as: account)
            }
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
        let options =
            "-k " + Self.shellQuoted(directory) + " -c max_connections=\(maxConnections)" + (try prepareAccess(for: account))
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
}
