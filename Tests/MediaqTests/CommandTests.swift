import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mediaq db …` run as a separate process, the way the pipeline and a person run it.
@Suite struct DatabaseCheckCommandTests {
    struct Report: Decodable {
        struct Check: Decodable {
            let name: String
            let ok: Bool
            let message: String
            let code: String?
        }
        let ok: Bool
        let checks: [Check]
    }

    func check(_ arguments: [String], environment: [String: String] = [:]) throws -> (ChildProcess.Outcome, Report?, Duration) {
        let started = ContinuousClock.now
        let outcome = try Executables.mediaq(["db", "check", "--json"] + arguments, environment: environment)
        let elapsed = ContinuousClock.now - started
        let report = try? JSONDecoder().decode(Report.self, from: Data(outcome.standardOutput.utf8))
        return (outcome, report, elapsed)
    }

    /// A library made by `mediaq db migrate` on a fresh database.
    func withLibrary(_ body: (_ root: String, _ url: DatabaseURL) async throws -> Void) async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            let made = try Executables.mediaq(["db", "migrate", "--library-root", root, "--database-url", url.urlString])
            try #require(made.status == 0, "\(made.transcript)")
            try await body(root, url)
        }
    }

    @Test func passesOnAHealthyLibrary() async throws {
        try await withLibrary { root, url in
            let (outcome, report, _) = try check(["--library-root", root, "--database-url", url.urlString])
            #expect(outcome.status == 0, "\(outcome.transcript)")
            #expect(report?.ok == true)
            #expect(report?.checks.map(\.name) == ["library root", "database", "schema"])
            // Environment variables work as well as flags.
            let text = try Executables.mediaq(
                ["db", "check"], environment: ["LIBRARY_ROOT": root, "DATABASE_URL": url.urlString])
            #expect(text.status == 0, "\(text.transcript)")
            #expect(text.standardOutput.split(separator: "\n").allSatisfy { $0.hasPrefix("ok:") })
        }
    }

    @Test func serverDown() async throws {
        try await withLibrary { root, _ in
            // Nothing listens on port 1: the connection is refused at once.
            let (outcome, report, _) = try check(["--library-root", root, "--database-url", "postgres://media@127.0.0.1:1/media"])
            #expect(outcome.status == 75, "\(outcome.transcript)")
            let database = report?.checks.first { $0.name == "database" }
            #expect(database?.ok == false)
            #expect(database?.code == "database_unavailable")
            #expect(database?.message == "cannot connect to PostgreSQL at 127.0.0.1:1: connection refused")
        }
    }

    @Test func serverThatNeverAnswersStillAnswersWithinFiveSeconds() async throws {
        try await withLibrary { root, _ in
            let listener = try SilentListener()
            defer { listener.close() }
            let (outcome, report, elapsed) = try check(
                ["--library-root", root, "--database-url", "postgres://media@127.0.0.1:\(listener.port)/media?connect_timeout=30"])
            #expect(outcome.status == 75, "\(outcome.transcript)")
            #expect(elapsed < .seconds(5), "db check took \(elapsed)")
            let database = report?.checks.first { $0.name == "database" }
            #expect(database?.code == "database_timeout")
            #expect(database?.message.contains("127.0.0.1:\(listener.port)") == true)
        }
    }

    @Test func rootMissing() async throws {
        try await withLibrary { root, url in
            try FileManager.default.removeItem(atPath: root)
            let (outcome, report, _) = try check(["--library-root", root, "--database-url", url.urlString])
            #expect(outcome.status == 75, "\(outcome.transcript)")
            #expect(report?.checks.first?.code == "library_root_missing")
            #expect(report?.checks.first?.message == "LIBRARY_ROOT \(root) does not exist")
            #expect(!FileManager.default.fileExists(atPath: root), "db check must not create the root")
        }
    }

    @Test func markerMissing() async throws {
        try await withLibrary { root, url in
            try FileManager.default.removeItem(atPath: root + "/" + LibraryRoot.markerName)
            let (outcome, report, _) = try check(["--library-root", root, "--database-url", url.urlString])
            #expect(outcome.status == 75, "\(outcome.transcript)")
            #expect(report?.checks.first?.code == "library_root_unmarked")
            #expect(report?.checks.first?.message.contains("has no library marker") == true)
            #expect(!FileManager.default.fileExists(atPath: root + "/" + LibraryRoot.markerName))
        }
    }

    @Test func rootReadOnly() async throws {
        try await withLibrary { root, url in
            try await ReadOnlyMount.with(root) {
                let (outcome, report, _) = try check(["--library-root", root, "--database-url", url.urlString])
                #expect(outcome.status == 75, "\(outcome.transcript)")
                #expect(report?.checks.first?.code == "library_root_not_writable")
                #expect(report?.checks.first?.message == "LIBRARY_ROOT \(root) is not writable: it is on a read-only filesystem")
            }
        }
    }

    @Test func pendingMigrationsAreReportedNotApplied() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            // A marked root and an empty database: the schema is not current.
            let root = folder.path + "/library"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
            _ = try LibraryRoot(path: root).createMarkerIfAbsent(.init(libraryId: UUID()))
            let (outcome, report, _) = try check(["--library-root", root, "--database-url", url.urlString])
            #expect(outcome.status == 75, "\(outcome.transcript)")
            let schema = report?.checks.first { $0.name == "schema" }
            #expect(schema?.code == "schema_not_current")
            #expect(schema?.message.contains("0001_initial.sql") == true)
            let status = try Executables.mediaq(["db", "status", "--database-url", url.urlString, "--library-root", root])
            #expect(status.status == 0, "\(status.transcript)")
            #expect(status.standardOutput.contains("0001_initial.sql"))
            #expect(status.standardOutput.contains("pending"))
        }
    }

    @Test func invalidConfigurationIsAUsageError() throws {
        let outcome = try Executables.mediaq(["db", "check"], environment: ["MEDIA_BUDGET_BYTES": "lots", "LIBRARY_ROOT": "/nonexistent"])
        #expect(outcome.status == 2, "\(outcome.transcript)")
        #expect(outcome.standardError.contains("MEDIA_BUDGET_BYTES"))
        let unknown = try Executables.mediaq(["db", "frobnicate"])
        #expect(unknown.status == 2, "\(unknown.transcript)")
        #expect(unknown.standardError.contains("frobnicate"))
        let help = try Executables.mediaq(["db", "check", "--help"])
        #expect(help.status == 0)
        #expect(help.standardOutput.contains("Exit codes: 0 when every check passes; 75"))
    }
}

/// A TCP listener on loopback that accepts connections into its backlog and never says a word:
/// a server that does not answer at all.
final class SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        try #require(listen(fd, 16) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
