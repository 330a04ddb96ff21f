import Foundation
import Logging
@testable import MediaCore
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

let testLogger: Logger = {
    var logger = Logger(label: "tests")
    logger.logLevel = .warning
    return logger
}()

/// A fresh database for one test on the server `TEST_DATABASE_URL` names, or, when that is
/// unset, on an embedded cluster the tests start themselves; dropped afterwards.
enum TestDatabase {
    /// Where fresh databases are made.
    static func serverURL() async throws -> DatabaseURL {
        if let text = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !text.isEmpty {
            return try DatabaseURL.parse(text, defaultUser: LibraryConfiguration.currentUserName())
        }
        // No server named: the same embedded cluster the product uses, in a folder of its own,
        // left running between runs like any embedded cluster (`mediaq db stop` style).
        let root = "/tmp/media-library-test-cluster"
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let cluster = EmbeddedCluster(libraryRoot: root, logger: testLogger)
        try await cluster.ensureRunning()
        var url = cluster.url
        url.database = "postgres"
        return url
    }

    /// Runs `body` with the URL of a new, empty database, and drops the database afterwards
    /// whatever happens.
    static func withFresh<T>(_ body: (DatabaseURL) async throws -> T) async throws -> T {
        let server = try await serverURL()
        let name = "media_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try await DatabaseConnector(url: server, logger: testLogger).connect()
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: testLogger)
        var url = server
        url.database = name
        do {
            let result = try await body(url)
            try await drop(name, admin: admin)
            return result
        } catch {
            try? await drop(name, admin: admin)
            throw error
        }
    }

    /// Drops the database and always closes `admin`. `WITH (FORCE)` is refused while an
    /// autovacuum worker (a superuser process) is in the database, which a loaded server shows
    /// now and then: that is retried for a few seconds.
    private static func drop(_ name: String, admin: PostgresConnection) async throws {
        var lastError: (any Error)?
        for attempt in 0..<20 {
            do {
                try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: testLogger)
                lastError = nil
                break
            } catch {
                lastError = error
                try? await Task.sleep(for: .milliseconds(100 * (attempt + 1)))
            }
        }
        try? await admin.close()
        if let lastError { throw lastError }
    }

    static func connect(_ url: DatabaseURL) async throws -> PostgresConnection {
        try await DatabaseConnector(url: url, logger: testLogger).connect()
    }
}

/// A temporary folder that the `postgres` account can enter (the embedded cluster runs as it
/// when tests run as root), removed afterwards.
final class TemporaryFolder {
    let path: String

    init() throws {
        let path = "/tmp/media-library-test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        self.path = path
    }

    /// Stops an embedded cluster that a test started inside, then removes everything.
    func remove() {
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
enum Executables {
    static var directory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    static func path(_ name: String) -> String { directory + "/" + name }

    /// Runs `mediaq` with `arguments` and an environment without the library settings of the
    /// machine running the tests, plus `environment`.
    static func mediaq(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Outcome {
        try ChildProcess.run([path("mediaq")] + arguments, environment: cleanEnvironment(environment))
    }

    static func cleanEnvironment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in ["LIBRARY_ROOT", "DATABASE_URL", "MEDIA_DROP_DIR", "MEDIA_BUDGET_BYTES", "MEDIA_RESERVE_BYTES", "MEDIA_GC_LOW_WATER_PERCENT", "MEDIA_GC_KEEP_PER_PROVIDER", "MEDIA_CONFIG", "NOTIFY_SOCKET",
                    "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            environment.removeValue(forKey: key)
        }
        for key in environment.keys where key.hasPrefix("MEDIAD_") { environment.removeValue(forKey: key) }
        environment.merge(extra) { $1 }
        return environment
    }
}

extension ChildProcess.Outcome {
    /// For failed expectations: everything the process said.
    var transcript: String { "exit \(status)\n--- stdout\n\(standardOutput)--- stderr\n\(standardError)" }
}
