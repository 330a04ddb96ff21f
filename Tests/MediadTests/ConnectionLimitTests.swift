import Foundation
import MediaTestSupport
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The embedded cluster's connection limit, as a pipeline meets it: more `mediaq` processes at
/// once than the cluster admits, and `mediad` asking for a connection while every slot is taken.
@Suite(.serialized) struct ConnectionLimitTests {
    /// Small, so that a handful of processes exceed it.
    static let limit = 8

    struct ErrorReport: Decodable {
        struct Detail: Decodable {
            let code: String
            let message: String
        }
        let ok: Bool
        let error: Detail
    }

    @Test func commandsBeyondTheLimitExit75WithOneLineAndTheDaemonWaitsForASlot() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let root = folder.path + "/library"
        let drop = root + "/drop"
        let environment = ["MEDIA_DB_MAX_CONNECTIONS": "\(Self.limit)"]
        let daemon = try RunningDaemon(
            folder: folder.path, arguments: ["--library-root", root, "--sidecar-grace-ms", "0", "--workers", "1"],
            environment: environment)
        guard daemon.waitReady() else { return }
        var stopped = false
        defer { if !stopped { _ = daemon.kill() } }
        let cluster = EmbeddedCluster(libraryRoot: root, logger: testLogger, maxConnections: Self.limit)
        let probe = try await TestDatabase.connect(cluster.url)
        let settings = try await probe.query("SHOW max_connections", logger: testLogger).collect().first?.decode(String.self)
        try await probe.close()
        #expect(settings == "\(Self.limit)", "the cluster was started with the configured limit")
        let search = ["search", "images", "--tags", "beach", "--json", "--library-root", root]

        // More processes at once than there are slots: each one either answers or says, in one
        // line, that it should be retried.
        let burst = try (0..<(Self.limit * 3)).map { _ in
            try ChildProcess.spawn([Executables.path("mediaq")] + search, environment: Executables.cleanEnvironment(environment))
        }
        for outcome in burst.map({ $0.wait() }) {
            #expect([0, 75].contains(outcome.status), "\(outcome.transcript)")
            if outcome.status == 75 { try expectRetryLater(outcome) }
        }

        // Every slot taken (by this test): every command is refused the same way, within 5 s.
        let held = try await fillEverySlot(cluster.url)
        do {
            let started = ContinuousClock.now
            let refused = try (0..<(Self.limit + 4)).map { _ in
                try ChildProcess.spawn([Executables.path("mediaq")] + search, environment: Executables.cleanEnvironment(environment))
            }.map { $0.wait() }
            #expect(ContinuousClock.now - started < .seconds(5 + Self.limit + 4))
            for outcome in refused {
                #expect(outcome.status == 75, "\(outcome.transcript)")
                try expectRetryLater(outcome)
            }

            // A drop now waits for a slot instead of failing, and says so.
            let names = try Drops.pngs(1, into: drop, prefix: "waits", staging: folder.path + "/staging")
            let waiting = daemon.notify.receive(until: { $0.contains("waiting:") }, timeout: 30)
            #expect(waiting?.contains("no free connection slot") == true, "STATUS= says why: \(waiting ?? "nothing")")
            #expect(Drops.receiptCount(drop, names) == 0, "a drop was stored while every connection slot was taken")
            #expect(FileManager.default.fileExists(atPath: drop + "/" + names[0]), "the drop stays where it was")
            #expect(!FileManager.default.fileExists(atPath: drop + "/.rejected/" + names[0]), "the drop is not rejected")
            for connection in held { try await connection.close() }

            // Slots free again: the drop is stored and commands answer.
            let stored = try await Drops.waitUntil(90) { Drops.receiptCount(drop, names) == 1 }
            #expect(stored, "the drop was stored once slots were free again")
            let answered = try Executables.mediaq(search, environment: environment)
            #expect(answered.status == 0, "\(answered.transcript)")
        } catch {
            for connection in held { try? await connection.close() }
            throw error
        }
        let outcome = daemon.stop()
        stopped = true
        #expect(outcome.status == 0, "\(outcome.transcript)")
        #expect(outcome.standardError.contains("no free connection slot"), "the daemon's log says why drops waited")
    }

    /// Exit 75 with one line on standard error that says why, and the JSON error document.
    private func expectRetryLater(_ outcome: ChildProcess.Outcome, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let lines = outcome.standardError.split(separator: "\n")
        #expect(lines.count == 1, "one line on standard error: \(outcome.transcript)", sourceLocation: sourceLocation)
        #expect(
            outcome.standardError.contains("no free connection slot") && outcome.standardError.contains("retry later"),
            "\(outcome.transcript)", sourceLocation: sourceLocation)
        let report = try JSONDecoder().decode(ErrorReport.self, from: Data(outcome.standardOutput.utf8))
        #expect(!report.ok && report.error.code == "database_unavailable", sourceLocation: sourceLocation)
    }

    /// Opens connections until the server refuses one for want of slots; returns those it holds.
    private func fillEverySlot(_ url: DatabaseURL) async throws -> [PostgresConnection] {
        var held: [PostgresConnection] = []
        do {
            for _ in 0..<(Self.limit + 1) {
                held.append(try await DatabaseConnector(url: url, logger: testLogger).connect())
            }
        } catch {
            guard error.message.contains("no free connection slot") else {
                for connection in held { try? await connection.close() }
                throw error
            }
            return held
        }
        for connection in held { try? await connection.close() }
        throw MediaError(.databaseError, "the cluster admitted more than \(Self.limit) connections")
    }
}
