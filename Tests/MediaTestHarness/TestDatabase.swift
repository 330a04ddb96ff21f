package import Foundation
package import Logging
package import MediaCore
package import PostgresNIO
package import Testing

#if canImport(Glibc)
import Glibc
#endif

package let testLogger: Logger = {
    var logger = Logger(label: "tests")
    logger.logLevel = .warning
    return logger
}()

/// A fresh database for one test on the server `TEST_DATABASE_URL` names, or, when that is
/// unset, on an embedded cluster the tests start themselves; dropped afterwards.
///
/// The suites run in parallel, and a test may start `mediad` and several `mediaq` processes,
/// so the tests would open more connections than a server admits. Each fresh database is
/// therefore made with a `CONNECTION LIMIT` (the connections its test may hold at once, which
/// PostgreSQL enforces for the non-superuser role the tests use), and a test waits until the
/// limits of the databases that exist at once fit in the server's `max_connections`.
package enum TestDatabase {
    /// What a test's database admits unless the test says more: the test's own connection, a
    /// `mediaq` process or two, and room for the library opener beside them.
    package static let defaultConnections = 4

    /// Runs `body` with the URL of a new, empty database that admits at most `connections`
    /// connections at once, and drops the database afterwards whatever happens.
    package static func withFresh<T>(
        connections: Int = defaultConnections, _ body: (DatabaseURL) async throws -> T
    ) async throws -> T {
        let server = TestServer.shared
        let name = "media_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        var url = try await server.create(name, connections: connections)
        url.database = name
        do {
            let result = try await body(url)
            try await server.drop(name, connections: connections)
            return result
        } catch {
            try? await server.drop(name, connections: connections)
            throw error
        }
    }

    package static func connect(_ url: DatabaseURL) async throws -> PostgresConnection {
        try await DatabaseConnector(url: url, logger: testLogger).connect()
    }
}

/// The server the tests make their databases on, with one administrative connection shared by
/// every test (which also keeps concurrent `CREATE DATABASE`s from copying `template1` at once),
/// and the budget of connections the tests' databases may hold.
package actor TestServer {
    package static let shared = TestServer()

    /// The role the tests use on the embedded cluster: not a superuser, so that PostgreSQL
    /// enforces each test database's `CONNECTION LIMIT`, as it does for the role CI makes on the
    /// system cluster (scripts/start-test-postgres.sh).
    package static let embeddedRole = "media_test"
    /// Left free for what the budget does not see: `psql` run by a script, a person looking.
    package static let headroom = 2

    /// The server's URL and the budget, found once: the actor is re-entered while it waits.
    private var preparation: Task<(DatabaseURL, ConnectionBudget), any Error>?
    /// The shared administrative connection, made once (and again after it was lost).
    private var admin: Task<PostgresConnection, any Error>?
    private var budget: ConnectionBudget?
    private var serverURL: DatabaseURL?

    /// Makes database `name` once `connections` fit in the budget; returns the server's URL.
    package func create(_ name: String, connections: Int) async throws -> DatabaseURL {
        let (url, budget) = try await prepared()
        try await budget.acquire(connections)
        do {
            try await adminQuery("CREATE DATABASE \(name) CONNECTION LIMIT \(connections)")
        } catch {
            await budget.release(connections)
            throw error
        }
        return url
    }

    /// Drops the database and gives its connections back to the budget. `WITH (FORCE)` is
    /// refused while an autovacuum worker (a superuser process) is in the database, which a
    /// loaded server shows now and then: that is retried for a few seconds.
    package func drop(_ name: String, connections: Int) async throws {
        var lastError: (any Error)?
        for attempt in 0..<20 {
            do {
                try await adminQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                lastError = nil
                break
            } catch {
                lastError = error
                try? await Task.sleep(for: .milliseconds(100 * (attempt + 1)))
            }
        }
        await budget?.release(connections)
        if let lastError { throw lastError }
    }

    private func prepared() async throws -> (DatabaseURL, ConnectionBudget) {
        if preparation == nil {
            preparation = Task { try await self.prepare() }
        }
        return try await preparation!.value
    }

    private func prepare() async throws -> (DatabaseURL, ConnectionBudget) {
        let url = try await Self.locateServer()
        serverURL = url
        admin = Task { try await DatabaseConnector(url: url, logger: testLogger).connect() }
        let limits = try await withAdmin { connection in
            let rows = try await connection.query(
                """
                SELECT current_setting('max_connections')::int,
                       current_setting('superuser_reserved_connections')::int,
                       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                       (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend')
                """, logger: testLogger)
            var limits: [(Int, Int, Bool, Int)] = []
            for try await row in rows.decode((Int, Int, Bool, Int).self) { limits.append(row) }
            return limits
        }
        guard let (maxConnections, reserved, superuser, inUse) = limits.first else {
            throw MediaError(.databaseError, "the test server did not report its connection limits")
        }
        // In use already: this admin connection and whatever else runs on the server.
        let total = maxConnections - (superuser ? 0 : reserved) - inUse - Self.headroom
        guard total >= TestDatabase.defaultConnections else {
            throw MediaError(
                .databaseUnavailable,
                "the test server admits \(maxConnections) connections and \(inUse) are in use: too few for the tests")
        }
        let made = ConnectionBudget(total: total)
        budget = made
        return (url, made)
    }

    private func adminQuery(_ sql: String) async throws {
        try await withAdmin { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        }
    }

    /// Runs `body` on the shared administrative connection, connecting again when it was lost.
    private func withAdmin<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        guard let made = admin else { throw MediaError(.databaseError, "the test server is not located yet") }
        var connection = try await made.value
        if connection.isClosed, let url = serverURL {
            if let current = admin, try await current.value === connection {
                admin = Task { try await DatabaseConnector(url: url, logger: testLogger).connect() }
            }
            connection = try await admin!.value
        }
        return try await body(connection)
    }

    /// Where fresh databases are made: `TEST_DATABASE_URL`, or the embedded cluster of the
    /// product in a folder of its own, left running between runs like any embedded cluster
    /// (`mediaq db stop` style), reached as a role that is not a superuser.
    private static func locateServer() async throws -> DatabaseURL {
        if let text = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !text.isEmpty {
            return try DatabaseURL.parse(text, defaultUser: LibraryConfiguration.currentUserName())
        }
        let root = "/tmp/media-library-test-cluster"
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let cluster = EmbeddedCluster(libraryRoot: root, logger: testLogger)
        try await cluster.ensureRunning()
        // The cluster admits its owner and root as its superuser role only (peer authentication
        // mapped in pg_ident.conf, rewritten at each start): the tests' role is mapped too.
        let identPath = root + "/.db/pg_ident.conf"
        let identLine = "library \(LibraryConfiguration.currentUserName()) \(embeddedRole)"
        let ident = try String(contentsOfFile: identPath, encoding: .utf8)
        let needsReload = !ident.split(separator: "\n").contains(Substring(identLine))
        if needsReload {
            try (ident + identLine + "\n").write(toFile: identPath, atomically: false, encoding: .utf8)
        }
        var url = cluster.url
        url.database = "postgres"
        let superuser = try await DatabaseConnector(url: url, logger: testLogger).connect()
        do {
            if needsReload { try await superuser.query("SELECT pg_reload_conf()", logger: testLogger) }
            try await superuser.query(
                PostgresQuery(
                    unsafeSQL: """
                        DO $$
                        BEGIN
                          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(embeddedRole)') THEN
                            CREATE ROLE \(embeddedRole) LOGIN CREATEDB;
                          END IF;
                          -- DROP DATABASE … WITH (FORCE) signals the sessions still in the database.
                          GRANT pg_signal_backend TO \(embeddedRole);
                        END
                        $$
                        """), logger: testLogger)
            try await superuser.close()
        } catch {
            try? await superuser.close()
            throw error
        }
        url.user = embeddedRole
        return url
    }
}

/// Connections handed out to tests, first come first served: a test waits until its share
/// fits, and a large share is not overtaken by small ones for ever.
package actor ConnectionBudget {
    package let total: Int
    private var available: Int
    private var waiting: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    package init(total: Int) {
        self.total = total
        self.available = total
    }

    package func acquire(_ count: Int) async throws {
        guard count <= total else {
            throw MediaError(
                .invalidConfiguration,
                "a test asks for \(count) connections and the test server can give \(total) at once")
        }
        if waiting.isEmpty && count <= available {
            available -= count
            return
        }
        await withCheckedContinuation { continuation in waiting.append((count, continuation)) }
    }

    package func release(_ count: Int) {
        available += count
        while let first = waiting.first, first.count <= available {
            available -= first.count
            waiting.removeFirst()
            first.continuation.resume()
        }
    }
}

/// A temporary folder that the `postgres` account can enter (the embedded cluster runs as it
/// when tests run as root), removed afterwards.
package final class TemporaryFolder {
    package let path: String

    package init() throws {
        let path = "/tmp/media-library-test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        self.path = path
    }

    /// Stops an embedded cluster that a test started inside, then removes everything.
    package func remove() {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            let candidate = path + "/" + entry
            if FileManager.default.fileExists(atPath: candidate + "/.db/data/PG_VERSION") {
                _ = try? EmbeddedCluster(libraryRoot: candidate, logger: testLogger).stop()
            }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The built executables, found beside the test bundle.
package enum Executables {
    package static var directory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    package static func path(_ name: String) -> String { directory + "/" + name }

    /// Runs `mediaq` with `arguments` and an environment without the library settings of the
    /// machine running the tests, plus `environment`.
    package static func mediaq(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Outcome {
        try ChildProcess.run([path("mediaq")] + arguments, environment: cleanEnvironment(environment))
    }

    package static func cleanEnvironment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in [
            "LIBRARY_ROOT", "DATABASE_URL", "MEDIA_DROP_DIR", "MEDIA_BUDGET_BYTES", "MEDIA_RESERVE_BYTES", "MEDIA_GC_LOW_WATER_PERCENT",
            "MEDIA_GC_KEEP_PER_PROVIDER", "MEDIA_INGEST_FILE_KEYWORDS", "MEDIA_CONFIG", "MEDIA_OPTIMIZE", "MEDIA_OPTIMIZE_MIN_SAVING",
            "NOTIFY_SOCKET",
            "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID",
        ] {
            environment.removeValue(forKey: key)
        }
        for key in environment.keys where key.hasPrefix("MEDIAD_") { environment.removeValue(forKey: key) }
        // Loading WordNet takes half a minute of a debug build's time: only the tests of it do.
        environment["MEDIA_WORDNET"] = "off"
        environment.merge(extra) { $1 }
        return environment
    }
}

extension ChildProcess.Outcome {
    /// For failed expectations: everything the process said.
    package var transcript: String { "exit \(status)\n--- stdout\n\(standardOutput)--- stderr\n\(standardError)" }
}
