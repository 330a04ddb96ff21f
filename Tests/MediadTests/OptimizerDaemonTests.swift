import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

/// With `media.optimize = lossless`, `mediad` optimises what was dropped, in the background,
/// after each drop's receipt.
@Suite struct OptimizerDaemonTests {
    @Test func mediadOptimisesDroppedOriginalsInTheBackground() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let options = ["--library-root", root, "--database-url", url.urlString]
            let staging = folder.path + "/staging"
            // Processes are waited for on a thread of their own, never on the cooperative pool.
            let made = try await onOwnThread { () throws -> ChildProcess.Outcome in
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
                try SampleMedia.make([
                    SampleMedia.convert, "-seed", "7", "-size", "640x480", "plasma:fractal", "-quality", "92",
                    "-define", "jpeg:optimize-coding=false", staging + "/photo.jpg",
                ])
                try SampleMedia.make([
                    SampleMedia.convert, "-seed", "8", "-size", "400x300", "plasma:fractal", "-depth", "8",
                    "-define", "png:compression-level=0", staging + "/screen.png",
                ])
                // The download kept, to be dropped again once its original was optimised.
                try FileManager.default.copyItem(atPath: staging + "/photo.jpg", toPath: staging + "/photo-again.jpg")
                return try Executables.mediaq(["db", "migrate"] + options)
            }
            try #require(made.status == 0, "\(made.transcript)")

            let daemon = try RunningDaemon(
                folder: folder.path, arguments: options + ["--sidecar-grace-ms", "0"], environment: ["MEDIA_OPTIMIZE": "lossless"])
            guard daemon.waitReady() else { return }
            let drop = root + "/drop"
            for name in ["photo.jpg", "screen.png"] {
                try FileManager.default.moveItem(atPath: staging + "/" + name, toPath: drop + "/" + name)
            }
            let received = try await Drops.waitUntil(60) { Drops.receiptCount(drop, ["photo.jpg", "screen.png"]) == 2 }
            let optimised = "SELECT count(*)::text FROM asset WHERE stored_sha256 IS NOT NULL"
            let checked = "SELECT count(*)::text FROM asset WHERE optimize_checked_at IS NOT NULL"
            let deadline = ContinuousClock.now + .seconds(90)
            while (try? await TestDatabase.texts(optimised, on: url)) != ["2"], ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let firstTwo = try await TestDatabase.texts(optimised, on: url)
            // More drops after the backlog is done: received, then optimised without a rest first.
            let later = try Drops.pngs(2, into: drop, prefix: "later", staging: staging)
            let laterReceived = try await Drops.waitUntil(30) { Drops.receiptCount(drop, later) == later.count }
            let catchUp = ContinuousClock.now + .seconds(30)
            while (try? await TestDatabase.texts(checked, on: url)) != ["4"], ContinuousClock.now < catchUp {
                try await Task.sleep(for: .milliseconds(200))
            }
            // The optimiser's workers run at the lowest CPU priority (nice 19), apart from the drops'.
            let niceness = Self.workerNiceness(of: daemon.pid)
            #expect(niceness["optimiser"]?.isEmpty == false && niceness["optimiser"]?.allSatisfy { $0 == 19 } == true, "\(niceness)")
            #expect(niceness["drops"]?.allSatisfy { $0 == 0 } ?? true, "\(niceness)")

            // The same download dropped again after its original was optimised: a duplicate of
            // that asset, known by the download's hash.
            try FileManager.default.moveItem(atPath: staging + "/photo-again.jpg", toPath: drop + "/photo-again.jpg")
            let againReceived = try await Drops.waitUntil(30) { Drops.receiptCount(drop, ["photo-again.jpg"]) == 1 }
            struct Receipt: Decodable {
                let status: String
                let id: Int64
            }
            let first = try JSONDecoder().decode(
                Receipt.self, from: Data(contentsOf: URL(fileURLWithPath: drop + "/.receipts/photo.jpg.json")))
            let again = try JSONDecoder().decode(
                Receipt.self, from: Data(contentsOf: URL(fileURLWithPath: drop + "/.receipts/photo-again.jpg.json")))
            let outcome = daemon.stop()
            #expect(againReceived && again.status == "duplicate" && again.id == first.id, "\(again) after \(first)")
            #expect(
                try await TestDatabase.texts("SELECT (stored_sha256 IS NOT NULL)::text FROM asset WHERE id = \(first.id)", on: url) == [
                    "true"
                ], "the optimised original stays")
            #expect(received && laterReceived, "every drop got its receipt: \(outcome.transcript.suffix(2000))")
            #expect(firstTwo == ["2"], "\(outcome.transcript.suffix(3000))")
            #expect(try await TestDatabase.texts(checked, on: url) == ["4"], "tried within seconds of their drop")
            #expect(outcome.standardError.contains("original optimised"), "\(outcome.transcript.suffix(2000))")
            for line in try await TestDatabase.texts("SELECT path || ' ' || stored_sha256 FROM asset", on: url) {
                let parts = line.split(separator: " ").map(String.init)
                #expect(try ContentStore.sha256(ofFileAt: root + "/" + parts[0]) == parts[1])
            }
            try await LibraryConsistency.expectConsistent(root: root, url: url)
        }
    }

    /// The nice values of the daemon's decoder workers, by pool: "optimiser" (started with
    /// `--low-priority`) and "drops".
    static func workerNiceness(of daemon: Int32) -> [String: [Int]] {
        var found: [String: [Int]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard Int32(entry) != nil,
                let commandLine = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)
            else { continue }
            let arguments = commandLine.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            // Fields after the command's parenthesis: state, ppid, …; nice is field 19 of stat.
            guard arguments.contains("--decoder-worker"), let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 17, Int32(fields[1]) == daemon, let nice = Int(fields[16]) else { continue }
            found[arguments.contains("--low-priority") ? "optimiser" : "drops", default: []].append(nice)
        }
        return found
    }
}
