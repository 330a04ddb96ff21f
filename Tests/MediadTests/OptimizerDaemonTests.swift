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
            let made = try Executables.mediaq(["db", "migrate"] + options)
            try #require(made.status == 0, "\(made.transcript)")
            let staging = folder.path + "/staging"
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try SampleMedia.make([
                SampleMedia.convert, "-seed", "7", "-size", "640x480", "plasma:fractal", "-quality", "92",
                "-define", "jpeg:optimize-coding=false", staging + "/photo.jpg",
            ])
            try SampleMedia.make([
                SampleMedia.convert, "-seed", "8", "-size", "400x300", "plasma:fractal", "-depth", "8",
                "-define", "png:compression-level=0", staging + "/screen.png",
            ])

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
            let outcome = daemon.stop()
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
}
