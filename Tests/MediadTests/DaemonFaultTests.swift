import Foundation
@testable import MediaCore
import MediaDaemon
import PostgresNIO
import MediaTestSupport
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mediad` as a process under the faults issue 5 names: decoders that crash or hang, the
/// database going away, the library's drive unmounted, SIGHUP, SIGTERM mid-burst, `kill -9`.
@Suite(.serialized) struct DaemonFaultTests {
    @Test func aFileThatCrashesOrHangsTheDecoderIsQuarantinedAndTheDaemonCarriesOn() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let drop = folder.path + "/drop"
            try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
            try SampleMedia.make([SampleMedia.convert, "-size", "300x200", "xc:blue", drop + "/fine.png"])
            try SampleMedia.make([
                SampleMedia.convert, "-size", "300x200", "xc:red", "-set", "comment", "MEDIAD-FAULT:crash", drop + "/crashes.png",
            ])
            try SampleMedia.make([
                SampleMedia.convert, "-size", "300x200", "xc:green", "-set", "comment", "MEDIAD-FAULT:hang", drop + "/hangs.png",
            ])
            let daemon = try RunningDaemon(
                folder: folder.path,
                arguments: [
                    "--library-root", root, "--database-url", url.urlString, "--drop-dir", drop,
                    "--decode-timeout-seconds", "2", "--decoder-memory", "1GiB", "--workers", "2",
                ],
                environment: ["MEDIAD_DECODER_FAULTS": "1"])
            guard daemon.waitReady() else { return }
            let rejected = drop + "/.rejected/"
            let settled = try await Drops.waitUntil(60) {
                FileManager.default.fileExists(atPath: Drops.receipt(drop, "fine.png"))
                    && FileManager.default.fileExists(atPath: rejected + "crashes.png.error.json")
                    && FileManager.default.fileExists(atPath: rejected + "hangs.png.error.json")
            }
            // Still alive and still working after both.
            try SampleMedia.make([SampleMedia.convert, "-size", "300x200", "xc:white", drop + "/after.png"])
            let after = try await Drops.waitUntil(30) { FileManager.default.fileExists(atPath: Drops.receipt(drop, "after.png")) }
            // The worker that stored after.png waits, idle, with the configured address-space limit.
            var limits: [String] = []
            _ = try await Drops.waitUntil(30) {
                limits = ProcessTable.children(of: daemon.pid).compactMap {
                    try? String(contentsOfFile: "/proc/\($0)/limits", encoding: .utf8)
                }
                // Read until a worker has set its limit: that is its first step, just after exec.
                return limits.contains { $0.contains("Max address space") && $0.contains("1073741824") }
            }
            let workers = ProcessTable.children(of: daemon.pid)
            let outcome = daemon.stop()
            #expect(settled, "\(outcome.transcript)")
            #expect(after, "the daemon went on ingesting: \(outcome.transcript)")
            #expect(outcome.status == 0, "\(outcome.transcript)")
            #expect(limits.contains { $0.contains("Max address space") && $0.contains("1073741824") }, "\(limits)")

            struct Reason: Decodable {
                let code: String
                let message: String
            }
            let crashed = try JSONDecoder().decode(
                Reason.self, from: Data(contentsOf: URL(fileURLWithPath: rejected + "crashes.png.error.json")))
            #expect(crashed.code == "decoder_quarantined")
            #expect(
                crashed.message.contains("SIGABRT") && crashed.message.contains("second time") && crashed.message.contains("crashes.png"),
                "\(crashed.message)")
            let hung = try JSONDecoder().decode(
                Reason.self, from: Data(contentsOf: URL(fileURLWithPath: rejected + "hangs.png.error.json")))
            #expect(hung.code == "decoder_quarantined")
            #expect(hung.message.contains("hung"), "\(hung.message)")
            #expect(FileManager.default.fileExists(atPath: rejected + "crashes.png"), "the file itself is kept, aside")
            // The first failure of each was retried, not quarantined at once.
            #expect(outcome.standardError.contains("code=decoder_crashed"), "\(outcome.standardError)")
            #expect(
                outcome.standardError.contains("code=decoder_hung") && outcome.standardError.contains("event=decoderHung"),
                "a hang is told from a crash by its code: \(outcome.standardError)")
            #expect(!outcome.standardError.contains("Program crashed"), "no crash report floods the log")
            // Workers end with the daemon.
            let gone = try await Drops.waitUntil(5) { workers.allSatisfy { kill($0, 0) != 0 } }
            #expect(gone, "decoder workers \(workers) outlived the daemon")
            try await LibraryConsistency.expectConsistent(root: root, url: url)
            #expect(try await LibraryConsistency.assetCount(url) == 2)
        }
    }

    @Test func dropsWaitWhileTheDatabaseIsDownAndGoOnWhenItReturns() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // A server of this test's own, so stopping it disturbs no other test.
        let server = EmbeddedCluster(libraryRoot: folder.path + "/server", logger: testLogger)
        try FileManager.default.createDirectory(
            atPath: folder.path + "/server", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        try await server.ensureRunning()
        let url = server.url
        let root = folder.path + "/library"
        let drop = folder.path + "/drop"
        let staging = folder.path + "/staging"
        let daemon = try RunningDaemon(
            folder: folder.path,
            arguments: [
                "--library-root", root, "--database-url", url.urlString, "--drop-dir", drop,
                "--sidecar-grace-ms", "0", "--workers", "2", "--decode-timeout-seconds", "5",
            ])
        guard daemon.waitReady() else { return }
        let first = try Drops.pngs(40, into: drop, prefix: "before", staging: staging)
        _ = try await Drops.waitUntil(60) { Drops.receiptCount(drop, first) >= 10 }
        // Under load: the server goes away.
        #expect(try server.stop())
        let second = try Drops.pngs(40, into: drop, prefix: "during", staging: staging)
        let waiting = daemon.notify.receive(until: { $0.contains("waiting:") }, timeout: 30)
        #expect(waiting != nil, "STATUS= says the drops wait")
        try await Task.sleep(for: .seconds(2))
        let stranded = second.filter { FileManager.default.fileExists(atPath: drop + "/" + $0) }
        #expect(stranded.count == second.count, "drops stay in the drop folder while the database is down")
        try await server.ensureRunning()
        let all = first + second
        // A drop whose query the outage cut off is given up after its deadline (135 s here).
        let done = try await Drops.waitUntil(240) { Drops.receiptCount(drop, all) == all.count }
        let outcome = daemon.stop()
        #expect(
            done,
            "every drop was ingested once the database was back: \(Drops.receiptCount(drop, all)) of \(all.count)\n\(outcome.transcript)")
        #expect(outcome.status == 0)
        #expect(outcome.standardError.contains("event=waiting"), "one line says the drops wait, with the reason")
        #expect(outcome.standardError.contains("event=resumed"), "one line says they resumed")
        #expect(DropWatcher.existingFiles(under: drop).isEmpty)
        try await LibraryConsistency.expectConsistent(root: root, url: url)
        #expect(try await LibraryConsistency.assetCount(url) == all.count)
        _ = try? server.stop()
    }

    @Test func aLibraryDriveUnmountedWhileRunningIsNotWrittenIntoAndIngestResumesWhenItReturns() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let disk = folder.path + "/disk"  // what the drive holds
            let mountPoint = folder.path + "/mnt"
            let drop = folder.path + "/drop"
            let staging = folder.path + "/staging"
            for path in [disk, mountPoint] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
            let mount = try ChildProcess.run(["/usr/bin/mount", "--bind", disk, mountPoint], environment: [:])
            try #require(mount.status == 0, "bind mount (the tests run as root): \(mount.transcript)")
            defer { _ = try? ChildProcess.run(["/usr/bin/umount", "-l", mountPoint], environment: [:]) }
            let daemon = try RunningDaemon(
                folder: folder.path,
                arguments: [
                    "--library-root", mountPoint, "--database-url", url.urlString, "--drop-dir", drop,
                    "--sidecar-grace-ms", "0",
                ])
            guard daemon.waitReady() else { return }
            let first = try Drops.pngs(3, into: drop, prefix: "mounted", staging: staging)
            _ = try await Drops.waitUntil(30) { Drops.receiptCount(drop, first) == first.count }

            let unmount = try ChildProcess.run(["/usr/bin/umount", "-l", mountPoint], environment: [:])
            try #require(unmount.status == 0, "\(unmount.transcript)")
            let second = try Drops.pngs(3, into: drop, prefix: "unmounted", staging: staging)
            let waiting = daemon.notify.receive(until: { $0.contains("waiting:") && $0.contains("mounted") }, timeout: 30)
            #expect(waiting != nil, "STATUS= says why the drops wait")
            #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint) == [], "nothing is written into the bare mount point")
            #expect(second.allSatisfy { FileManager.default.fileExists(atPath: drop + "/" + $0) })

            let remount = try ChildProcess.run(["/usr/bin/mount", "--bind", disk, mountPoint], environment: [:])
            try #require(remount.status == 0, "\(remount.transcript)")
            let done = try await Drops.waitUntil(90) { Drops.receiptCount(drop, second) == second.count }
            let outcome = daemon.stop()
            #expect(done, "\(outcome.transcript)")
            #expect(outcome.standardError.contains("no longer holds the library"), "\(outcome.standardError)")
            try await LibraryConsistency.expectConsistent(root: mountPoint, url: url)
            #expect(try await LibraryConsistency.assetCount(url) == 6)
        }
    }

    @Test func aBurstOf2000FilesIsIngestedWithNothingLeftOver() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let drop = folder.path + "/drop"
            let daemon = try RunningDaemon(
                folder: folder.path,
                arguments: [
                    "--library-root", root, "--database-url", url.urlString, "--drop-dir", drop,
                    "--sidecar-grace-ms", "200",
                ])
            guard daemon.waitReady() else { return }
            // Half in the top folder, half in a subfolder made while the daemon runs; a sidecar
            // for every tenth.
            var names = try Drops.pngs(1000, into: drop, prefix: "top", staging: folder.path + "/staging")
            names += try Drops.pngs(1000, into: drop + "/run-7", prefix: "sub", staging: folder.path + "/staging")
                .map { "run-7/" + $0 }
            for name in names.enumerated().filter({ $0.offset % 10 == 0 }).map(\.element) {
                try #"{"tags": ["burst"], "provider": "pexels"}"#.write(
                    toFile: drop + "/" + name + ".json", atomically: false, encoding: .utf8)
            }
            let done = try await Drops.waitUntil(600) { Drops.receiptCount(drop, names) == names.count }
            let counted = daemon.notify.receive(until: { $0.contains("ingested 2000") }, timeout: 10)
            let outcome = daemon.stop()
            #expect(done, "\(Drops.receiptCount(drop, names)) of \(names.count) receipts\n\(outcome.transcript.suffix(3000))")
            #expect(counted != nil, "STATUS= counts 2000 ingested")
            #expect(outcome.status == 0)
            #expect(DropWatcher.existingFiles(under: drop).isEmpty, "no media or sidecar left in the drop folder")
            try await LibraryConsistency.expectConsistent(root: root, url: url)
            #expect(try await LibraryConsistency.assetCount(url) == 2000)
            let connection = try await TestDatabase.connect(url)
            let rows = try await connection.query(
                "SELECT count(*)::int FROM asset_tag JOIN tag ON tag.id = asset_tag.tag_id WHERE tag.name = 'burst'", logger: testLogger)
            var tagged = 0
            for try await count in rows.decode(Int.self) { tagged = count }
            try await connection.close()
            #expect(tagged == 200, "every sidecar's tags were applied")
        }
    }

    @Test func sigtermInTheMiddleOfABurstStopsCleanlyAndLosesNothing() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let drop = folder.path + "/drop"
            let arguments = ["--library-root", root, "--database-url", url.urlString, "--drop-dir", drop, "--sidecar-grace-ms", "0"]
            let daemon = try RunningDaemon(folder: folder.path, arguments: arguments)
            guard daemon.waitReady() else { return }
            let names = try Drops.pngs(300, into: drop, prefix: "burst", staging: folder.path + "/staging")
            _ = try await Drops.waitUntil(60) { Drops.receiptCount(drop, names) >= 30 }
            let started = Date()
            let outcome = daemon.stop()
            let took = Date().timeIntervalSince(started)
            #expect(outcome.status == 0, "\(outcome.transcript)")
            #expect(took < 30, "stopped within the unit's stop timeout: \(took) s")
            // Every drop is either done (receipt, gone from the drop folder) or still waiting there.
            for name in names {
                let receipt = FileManager.default.fileExists(atPath: Drops.receipt(drop, name))
                let waiting = FileManager.default.fileExists(atPath: drop + "/" + name)
                #expect(receipt != waiting, "\(name): receipt \(receipt), still in the drop folder \(waiting)")
            }
            let done = Drops.receiptCount(drop, names)
            #expect(done < names.count, "the stop came mid-burst")
            try await LibraryConsistency.expectConsistent(root: root, url: url)
            #expect(try await LibraryConsistency.assetCount(url) == done)

            // The rest goes in at the next start.
            let again = try RunningDaemon(folder: folder.path, arguments: arguments, socketName: "notify-2")
            guard again.waitReady() else { return }
            let finished = try await Drops.waitUntil(120) { Drops.receiptCount(drop, names) == names.count }
            _ = again.stop()
            #expect(finished)
            #expect(try await LibraryConsistency.assetCount(url) == names.count)
        }
    }

    @Test func killedAtRandomMomentsEveryDropEndsStoredOnceOrStillWaiting() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let drop = folder.path + "/drop"
            let staging = folder.path + "/staging"
            let arguments = ["--library-root", root, "--database-url", url.urlString, "--drop-dir", drop, "--sidecar-grace-ms", "0"]
            var names: [String] = []
            var delays: [Int] = []
            for round in 0..<12 {
                names += try Drops.pngs(25, into: drop, prefix: "round\(round)", staging: staging)
                if round % 4 == 0 {
                    // A video too: a longer copy and decode to be killed in.
                    let name = "round\(round)-clip.mp4"
                    try SampleMedia.video(
                        staging + "/" + name, seconds: 3,
                        extra: [
                            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-metadata", "comment=round \(round)",
                        ])
                    #expect(rename(staging + "/" + name, drop + "/" + name) == 0)
                    names.append(name)
                }
                let daemon = try RunningDaemon(folder: folder.path, arguments: arguments, socketName: "notify-\(round)")
                let delay = Int.random(in: 150...2500)
                delays.append(delay)
                try await Task.sleep(for: .milliseconds(delay))
                _ = daemon.kill()
            }
            let daemon = try RunningDaemon(folder: folder.path, arguments: arguments, socketName: "notify-final")
            guard daemon.waitReady() else { return }
            let done = try await Drops.waitUntil(300) { Drops.receiptCount(drop, names) == names.count }
            let outcome = daemon.stop()
            #expect(
                done, "kill delays \(delays) ms: \(Drops.receiptCount(drop, names)) of \(names.count)\n\(outcome.transcript.suffix(3000))")
            #expect(DropWatcher.existingFiles(under: drop).isEmpty)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: drop + "/.rejected")) ?? [] == [], "nothing was rejected")
            let problems = try await LibraryConsistency.problems(root: root, url: url)
            #expect(problems == [], "kill delays \(delays) ms")
            let assets = try await LibraryConsistency.assetCount(url)
            #expect(assets == names.count, "each drop (all distinct) stored exactly once: \(assets) assets for \(names.count) drops")
        }
    }

    @Test func sighupReloadsTheConfiguration() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let drop = folder.path + "/drop"
            let config = folder.path + "/config.json"
            try #"{"daemon": {"sidecarGraceMs": 600000, "logLevel": "info"}}"#.write(toFile: config, atomically: true, encoding: .utf8)
            let daemon = try RunningDaemon(
                folder: folder.path,
                arguments: ["--config", config, "--library-root", root, "--database-url", url.urlString, "--drop-dir", drop])
            guard daemon.waitReady() else { return }
            let early = try Drops.pngs(1, into: drop, prefix: "long-grace", staging: folder.path + "/staging")
            let waited = try await Drops.waitUntil(3) { Drops.receiptCount(drop, early) == 1 }
            #expect(!waited, "a 10-minute grace holds a drop without a sidecar")

            try #"{"daemon": {"sidecarGraceMs": 0, "logLevel": "debug"}, "media": {"pixelLimit": 1000}}"#
                .write(toFile: config, atomically: true, encoding: .utf8)
            daemon.process.signal(SIGHUP)
            #expect(daemon.notify.receive(until: { $0.contains("RELOADING=1") }, timeout: 10) != nil)
            #expect(daemon.notify.receive(until: { $0.contains("READY=1") }, timeout: 10) != nil)
            let later = try Drops.pngs(1, into: drop, prefix: "no-grace", staging: folder.path + "/staging")
            let rejected = try await Drops.waitUntil(30) {
                FileManager.default.fileExists(atPath: drop + "/.rejected/" + later[0] + ".error.json")
            }
            #expect(rejected, "the reloaded pixel limit (1000) refuses a 48×32 picture at once")

            try "{ not json".write(toFile: config, atomically: true, encoding: .utf8)
            daemon.process.signal(SIGHUP)
            // Each reload is done (READY=1 after RELOADING=1, refused or not) before the next
            // step: a drop made while the good file is being read could meet the old limit.
            #expect(daemon.notify.receive(until: { $0.contains("RELOADING=1") }, timeout: 10) != nil)
            #expect(daemon.notify.receive(until: { $0.contains("READY=1") }, timeout: 10) != nil)
            try #"{"daemon": {"sidecarGraceMs": 0}}"#.write(toFile: config, atomically: true, encoding: .utf8)
            daemon.process.signal(SIGHUP)
            #expect(daemon.notify.receive(until: { $0.contains("RELOADING=1") }, timeout: 10) != nil)
            #expect(daemon.notify.receive(until: { $0.contains("READY=1") }, timeout: 10) != nil)
            let last = try Drops.pngs(1, into: drop, prefix: "restored", staging: folder.path + "/staging")
            let stored = try await Drops.waitUntil(30) { Drops.receiptCount(drop, last) == 1 }
            let outcome = daemon.stop()
            #expect(stored, "\(outcome.transcript)")
            #expect(outcome.status == 0)
            let log = outcome.standardError
            #expect(log.contains("configuration reloaded"), "\(log)")
            #expect(log.contains("configuration not reloaded") && log.contains("config.json"), "a bad file is refused with its name")
            #expect(log.contains("debug mediad: drop folder event"), "the reloaded log level applies")
        }
    }
}
