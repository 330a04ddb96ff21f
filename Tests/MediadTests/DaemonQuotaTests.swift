import Foundation
@testable import MediaCore
import PostgresNIO
import MediaTestSupport
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The quota through `mediad`: a drop over budget waits (STATUS says so), GC runs in the
/// background, and the drop is ingested once there is room.
@Suite(.serialized) struct DaemonQuotaTests {
    @Test func aDropOverBudgetWaitsWhileGCMakesRoomThenIsIngested() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let library = TestLibrary(root: folder.path + "/library", url: url, folder: folder.path)
            try #require(try library.mediaq(["db", "migrate"]).status == 0)
            // Old assets of some size: noise does not compress.
            let source = folder.path + "/old"
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            var files: [String] = []
            for index in 0..<4 {
                let file = source + "/old-\(index).png"
                try SampleMedia.make([SampleMedia.convert, "-size", "300x300", "xc:", "+noise", "Random", file])
                files.append(file)
            }
            let ingested = try library.mediaq(["ingest", "--provider", "pexels"] + files)
            try #require(ingested.status == 0, "\(ingested.transcript)")
            try await library.execute("UPDATE asset SET last_used_at = now() - interval '30 days'")
            let pinned = try await library.integers("SELECT min(id) FROM asset")[0]
            try await library.execute(
                "INSERT INTO pin (run_id, asset_id, expires_at) VALUES ('run', \(pinned), now() + interval '1 hour')")
            let used = try await library.integers("SELECT sum(original_bytes + thumbnail_bytes)::int8 FROM storage_usage")[0]
            // Any new drop is over this budget (the thumbnail allowance alone is 128 KiB).
            let budget = used + 64 * 1024
            let drop = folder.path + "/drop"
            let daemon = try RunningDaemon(
                folder: folder.path,
                arguments: library.arguments + [
                    "--drop-dir", drop, "--budget", String(budget), "--reserve", "0", "--gc-low-water", "50",
                    "--sidecar-grace-ms", "0", "--workers", "1",
                ])
            guard daemon.waitReady() else { return }
            let names = try Drops.pngs(1, into: drop, prefix: "new", staging: folder.path + "/staging")
            let waiting = daemon.notify.receive(until: { $0.contains("waiting: over budget") }, timeout: 30)
            let stored = try await Drops.waitUntil(60) { Drops.receiptCount(drop, names) == 1 }
            // A file larger than the whole budget: rejected with its own code, not left waiting.
            let huge = folder.path + "/staging/huge.png"
            try SampleMedia.image(huge, extra: ["+noise", "Random"])
            let hugeBytes = try FileManager.default.attributesOfItem(atPath: huge)[.size] as? Int64 ?? 0
            #expect(hugeBytes > budget, "\(hugeBytes) > \(budget)")
            #expect(rename(huge, drop + "/huge.png") == 0)
            let reason = drop + "/.rejected/huge.png.error.json"
            let refused = try await Drops.waitUntil(60) { FileManager.default.fileExists(atPath: reason) }
            let why = (try? String(contentsOfFile: reason, encoding: .utf8)) ?? ""
            #expect(refused && why.contains("larger_than_budget"), "\(why)")
            let outcome = daemon.stop()
            #expect(waiting != nil, "STATUS= says the drop waits for the budget: \(outcome.transcript)")
            #expect(stored, "the drop was ingested once GC made room: \(outcome.transcript)")
            #expect(outcome.standardError.contains("code=over_budget"), "\(outcome.standardError)")
            #expect(outcome.standardError.contains("event=collected"), "GC ran in the background")
            let receipt = try String(contentsOfFile: Drops.receipt(drop, names[0]), encoding: .utf8)
            #expect(receipt.contains("\"ingested\""), "not rejected: \(receipt)")
            let left = try await library.integers("SELECT id FROM asset ORDER BY id")
            #expect(left.contains(pinned), "the pinned asset stays")
            #expect(left.count < 5, "old assets were collected: \(left)")
            let size = try await library.integers("SELECT sum(original_bytes + thumbnail_bytes)::int8 FROM storage_usage")[0]
            #expect(size <= budget, "the library is within its budget: \(size) of \(budget)")
            try await LibraryConsistency.expectConsistent(root: library.root, url: url)
        }
    }
}
