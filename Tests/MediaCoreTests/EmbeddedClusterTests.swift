import Foundation
@testable import MediaCore
import MediaDaemon
import MediaTestSupport
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The embedded default: no DATABASE_URL, a private cluster in `<root>/.db`.
@Suite(.serialized) struct EmbeddedClusterTests {
    func postmasterPID(_ root: String) -> String? {
        (try? String(contentsOfFile: root + "/.db/data/postmaster.pid", encoding: .utf8))?
            .split(separator: "\n").first.map(String.init)
    }

    @Test func startsFromNothingIsReusedAndStops() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let root = folder.path + "/library"

        let made = try Executables.mediaq(["db", "migrate", "--library-root", root])
        try #require(made.status == 0, "\(made.transcript)")
        #expect(made.standardOutput.contains("applied 0001_initial.sql"))
        let cluster = EmbeddedCluster(libraryRoot: root, logger: testLogger)
        #expect(cluster.isInitialized)
        #expect(try cluster.isRunning())
        #expect(FileManager.default.fileExists(atPath: root + "/" + LibraryRoot.markerName))
        let pid = try #require(postmasterPID(root))

        // A second process finds the running cluster and uses it.
        let status = try Executables.mediaq(["db", "status", "--library-root", root, "--json"])
        #expect(status.status == 0, "\(status.transcript)")
        #expect(status.standardOutput.contains("\"embedded\" : true"))
        #expect(postmasterPID(root) == pid)
        let check = try Executables.mediaq(["db", "check", "--library-root", root])
        #expect(check.status == 0, "\(check.transcript)")

        // It listens on its own socket only: no TCP port.
        let settings = try Executables.mediaq(["db", "status", "--library-root", root])
        #expect(settings.standardOutput.contains(root + "/.db/.s.PGSQL.5432"))

        let stop = try Executables.mediaq(["db", "stop", "--library-root", root])
        #expect(stop.status == 0, "\(stop.transcript)")
        #expect(stop.standardOutput.contains("stopped the embedded PostgreSQL"))
        #expect(try !cluster.isRunning())
        let again = try Executables.mediaq(["db", "stop", "--library-root", root])
        #expect(again.standardOutput.contains("was not running"))

        // Started on demand by the next command that needs it.
        let reopened = try Executables.mediaq(["db", "migrate", "--library-root", root])
        #expect(reopened.status == 0, "\(reopened.transcript)")
        #expect(reopened.standardOutput.contains("schema already current"))
        #expect(try cluster.isRunning())
    }

    @Test func aClusterStartedWithoutTheAccessSettingsIsRestartedOnceWithThem() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let root = folder.path + "/library"
        try #require(try Executables.mediaq(["db", "migrate", "--library-root", root]).status == 0)
        let cluster = EmbeddedCluster(libraryRoot: root, logger: testLogger)
        let hba = try String(contentsOfFile: cluster.hbaPath, encoding: .utf8)
        #expect(hba.contains("local all all peer map=library") && !hba.contains("trust"), "\(hba)")
        // As a cluster left running by an older version finds it: none of our files beside it.
        try FileManager.default.removeItem(atPath: cluster.hbaPath)
        let before = try #require(postmasterPID(root))
        let upgraded = try Executables.mediaq(["db", "migrate", "--library-root", root])
        #expect(upgraded.status == 0, "\(upgraded.transcript)")
        #expect(upgraded.standardError.contains("restarting the embedded PostgreSQL"), "\(upgraded.transcript)")
        #expect(postmasterPID(root) != before, "restarted")
        #expect(FileManager.default.fileExists(atPath: cluster.hbaPath))
        let after = try #require(postmasterPID(root))
        #expect(try Executables.mediaq(["stats", "--library-root", root]).status == 0)
        #expect(postmasterPID(root) == after, "once")
    }

    @Test func processesStartingAtOnceShareOneCluster() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let root = folder.path + "/library"
        let environment = Executables.cleanEnvironment([:])
        let children = try (0..<4).map { _ in
            try ChildProcess.spawn(
                [Executables.path("mediaq"), "db", "migrate", "--json", "--library-root", root], environment: environment)
        }
        let outcomes = children.map { $0.wait() }
        for outcome in outcomes {
            #expect(outcome.status == 0, "\(outcome.transcript)")
        }
        struct Report: Decodable {
            let libraryId: UUID
            let applied: [String]
        }
        let reports = outcomes.compactMap { try? JSONDecoder().decode(Report.self, from: Data($0.standardOutput.utf8)) }
        #expect(reports.count == 4)
        #expect(Set(reports.map(\.libraryId)).count == 1)
        // The schema was applied by exactly one of them.
        #expect(reports.filter { !$0.applied.isEmpty }.count == 1)
    }

    @Test func stopWithADatabaseURLIsAUsageError() throws {
        let outcome = try Executables.mediaq(
            ["db", "stop", "--library-root", "/nonexistent", "--database-url", "postgres://x@127.0.0.1:1/x"])
        #expect(outcome.status == 2, "\(outcome.transcript)")
        #expect(outcome.standardError.contains("no embedded cluster"))
    }
}

/// `mediad` under a stand-in service manager: a real NOTIFY_SOCKET datagram socket.
@Suite(.serialized) struct DaemonReadinessTests {
    @Test func reportsReadyAfterOpeningAndStopsCleanlyOnSIGTERM() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let root = folder.path + "/library"
        let notify = try NotifyReceiver(path: folder.path + "/notify.sock")
        defer { notify.close() }

        let daemon = try ChildProcess.spawn(
            [Executables.path("mediad"), "--library-root", root],
            environment: Executables.cleanEnvironment(["NOTIFY_SOCKET": notify.path]))
        let ready = notify.receive(until: { $0.contains("READY=1") }, timeout: 120)
        guard let ready else {
            daemon.signal(SIGKILL)
            Issue.record("no READY=1 within 120 s: \(daemon.wait().transcript)")
            return
        }
        #expect(ready.contains("STATUS=watching; queue 0"))
        #expect(ready.contains("MAINPID=\(daemon.pid)"))
        // Ready means ready: the library is marked and the schema is there.
        #expect(FileManager.default.fileExists(atPath: root + "/" + LibraryRoot.markerName))
        let check = try Executables.mediaq(["db", "check", "--library-root", root])
        #expect(check.status == 0, "\(check.transcript)")

        daemon.signal(SIGTERM)
        let stopping = notify.receive(until: { $0.contains("STOPPING=1") }, timeout: 30)
        #expect(stopping != nil)
        let outcome = daemon.wait()
        #expect(outcome.status == 0, "\(outcome.transcript)")
    }

    @Test func ingestsDropsWithSidecarsEarlyLateAndNever() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let drop = folder.path + "/drop"
            let notify = try NotifyReceiver(path: folder.path + "/notify.sock")
            defer { notify.close() }
            // Left before the start: found by the start-up scan.
            try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
            try SampleMedia.image(drop + "/before.jpg")
            let daemon = try ChildProcess.spawn(
                [
                    Executables.path("mediad"), "--library-root", root, "--database-url", url.urlString,
                    "--drop-dir", drop, "--sidecar-grace-ms", "300", "--workers", "2",
                ],
                environment: Executables.cleanEnvironment(["NOTIFY_SOCKET": notify.path]))
            guard notify.receive(until: { $0.contains("READY=1") }, timeout: 60) != nil else {
                daemon.signal(SIGKILL)
                Issue.record("no READY=1: \(daemon.wait().transcript)")
                return
            }
            let staging = folder.path + "/staging"
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            // Sidecar first, then the media renamed in.
            try #"{"tags": ["early"], "provider": "pexels", "providerId": "1"}"#.write(
                toFile: drop + "/early.png.json", atomically: true, encoding: .utf8)
            try SampleMedia.make([SampleMedia.convert, "-size", "300x200", "xc:blue", staging + "/early.png"])
            #expect(rename(staging + "/early.png", drop + "/early.png") == 0)
            // Media first, sidecar after the grace period: applied late.
            try SampleMedia.make([SampleMedia.convert, "-size", "300x200", "xc:green", drop + "/late.png"])
            // In a subfolder made while running, no sidecar ever.
            try FileManager.default.createDirectory(atPath: drop + "/run-2", withIntermediateDirectories: true)
            try SampleMedia.video(drop + "/run-2/clip.mp4", seconds: 2, extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
            // A bad sidecar.
            try "{ nope".write(toFile: drop + "/bad.png.json", atomically: true, encoding: .utf8)
            try SampleMedia.make([SampleMedia.convert, "-size", "30x20", "xc:red", drop + "/bad.png"])

            let receipts = ["before.jpg", "early.png", "late.png", "run-2/clip.mp4"].map { drop + "/.receipts/" + $0 + ".json" }
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && !receipts.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                try await Task.sleep(for: .milliseconds(100))
            }
            for receipt in receipts { #expect(FileManager.default.fileExists(atPath: receipt), "\(receipt)") }
            try #"{"tags": ["late"]}"#.write(toFile: drop + "/late.png.json", atomically: true, encoding: .utf8)
            let rejected = drop + "/.rejected/bad.png.error.json"
            while Date() < deadline
                && (FileManager.default.fileExists(atPath: drop + "/late.png.json") || !FileManager.default.fileExists(atPath: rejected))
            {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(!FileManager.default.fileExists(atPath: drop + "/late.png.json"), "the late sidecar was applied and removed")
            #expect(FileManager.default.fileExists(atPath: rejected))
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: drop + "/.rejected").sorted()
                    == ["bad.png", "bad.png.error.json", "bad.png.json"], "only the bad drop is rejected")
            #expect(DropWatcher.existingFiles(under: drop).isEmpty, "nothing is left waiting")
            // The newest status may queue behind older ones while the socket is not read.
            var statuses: [String] = []
            let status = notify.receive(
                until: {
                    statuses.append($0)
                    return $0.contains("ingested 4") && $0.contains("rejected 1")
                }, timeout: 30)
            #expect(status != nil, "STATUS= counts the drops; seen: \(statuses.suffix(5))")

            daemon.signal(SIGTERM)
            #expect(notify.receive(until: { $0.contains("STOPPING=1") }, timeout: 30) != nil)
            let outcome = daemon.wait()
            #expect(outcome.status == 0, "\(outcome.transcript)")
            #expect(outcome.standardError.contains("late sidecar applied"), "\(outcome.standardError)")

            let shown = try Executables.mediaq([
                "show", "--json", "--library-root", root, "--database-url", url.urlString,
                try receiptId(drop + "/.receipts/late.png.json"),
            ])
            struct Shown: Decodable { let tags: [String] }
            #expect(try JSONDecoder().decode(Shown.self, from: Data(shown.standardOutput.utf8)).tags == ["late"])
        }
    }

    @Test func feedsTheWatchdogWhenSystemdAsks() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let notify = try NotifyReceiver(path: folder.path + "/notify.sock")
            defer { notify.close() }
            let daemon = try ChildProcess.spawn(
                [
                    Executables.path("mediad"), "--library-root", folder.path + "/library", "--database-url", url.urlString,
                    "--workers", "\(RunningDaemon.defaultWorkers)",
                ],
                environment: Executables.cleanEnvironment(["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"]))
            let ready = notify.receive(until: { $0.contains("READY=1") }, timeout: 60)
            let pings = [
                notify.receive(until: { $0.contains("WATCHDOG=1") }, timeout: 3),
                notify.receive(until: { $0.contains("WATCHDOG=1") }, timeout: 3),
            ]
            daemon.signal(SIGTERM)
            let outcome = daemon.wait()
            #expect(ready != nil, "\(outcome.transcript)")
            #expect(pings.allSatisfy { $0 != nil }, "WATCHDOG=1 about every half second")
            #expect(outcome.status == 0, "\(outcome.transcript)")
        }
    }

    func receiptId(_ path: String) throws -> String {
        struct Receipt: Decodable { let id: Int64 }
        return String(try JSONDecoder().decode(Receipt.self, from: Data(contentsOf: URL(fileURLWithPath: path))).id)
    }

    @Test func exitsRetryableWhenTheDatabaseIsDown() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let outcome = try ChildProcess.run(
            [
                Executables.path("mediad"), "--library-root", folder.path + "/library",
                "--database-url", "postgres://media@127.0.0.1:1/media",
            ],
            environment: Executables.cleanEnvironment([:]))
        #expect(outcome.status == 75, "\(outcome.transcript)")
        #expect(outcome.standardError.contains("connection refused"))
    }
}
