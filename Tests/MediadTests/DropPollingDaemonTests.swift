import Foundation
@testable import MediaCore
import MediaDaemon
import MediaTestHarness
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mediad` with its drop folder forced into polling mode (as on NFS or SMB, where inotify sees
/// no other machine's writes): drops written slowly, renamed in, or in a subfolder are each
/// ingested once, with their sidecars.
@Suite struct DropPollingDaemonTests {
    @Test func aPolledDropFolderIngestsEveryDropOnceWithItsSidecar() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let drop = folder.path + "/drop"
            let daemon = try RunningDaemon(
                folder: folder.path,
                arguments: [
                    "--library-root", root, "--database-url", url.urlString, "--drop-dir", drop, "--sidecar-grace-ms", "300",
                    "--drop-watch", "poll", "--drop-poll-ms", "250",
                ])
            guard daemon.waitReady() else { return }
            let staging = folder.path + "/staging"
            let names = try Drops.pngs(3, into: staging, prefix: "p", staging: folder.path + "/made")
            // 1. Written in place, slowly: chunks 100 ms apart. A thread of its own writes them,
            // so that the pauses are the writer's and not the test pool's (other tests block its
            // two threads in child processes for seconds at a time).
            let bytes = try Data(contentsOf: URL(fileURLWithPath: staging + "/" + names[0]))
            try #"{"tags": ["slow"], "provider": "pexels"}"#.write(
                toFile: drop + "/" + names[0] + ".json", atomically: true, encoding: .utf8)
            let written = try await SlowWriter.write(bytes, to: drop + "/" + names[0], chunks: 3, pause: 0.1)
            #expect(written, "the slow writer wrote every chunk")
            // 2. Renamed in, its sidecar too.
            try #"{"tags": ["renamed"], "provider": "pexels"}"#.write(
                toFile: staging + "/" + names[1] + ".json", atomically: true, encoding: .utf8)
            #expect(rename(staging + "/" + names[1] + ".json", drop + "/" + names[1] + ".json") == 0)
            #expect(rename(staging + "/" + names[1], drop + "/" + names[1]) == 0)
            // 3. In a subfolder made while the daemon runs.
            try FileManager.default.createDirectory(atPath: drop + "/run-9", withIntermediateDirectories: true)
            #expect(rename(staging + "/" + names[2], drop + "/run-9/" + names[2]) == 0)
            let dropped = [names[0], names[1], "run-9/" + names[2]]
            let done = try await Drops.waitUntil(60) { Drops.receiptCount(drop, dropped) == dropped.count }
            let outcome = daemon.stop()
            #expect(done, "\(Drops.receiptCount(drop, dropped)) of 3 receipts: \(outcome.transcript.suffix(2000))")
            #expect(outcome.standardError.contains("polling the drop folder"), "says how it watches")
            #expect(DropWatcher.existingFiles(under: drop).isEmpty)
            try await LibraryConsistency.expectConsistent(root: root, url: url)
            #expect(try await LibraryConsistency.assetCount(url) == 3, "each once")
            let connection = try await TestDatabase.connect(url)
            let rows = try await connection.query(
                "SELECT t.name FROM asset_tag x JOIN tag t ON t.id = x.tag_id ORDER BY t.name", logger: testLogger)
            var tags: [String] = []
            for try await name in rows.decode(String.self) { tags.append(name) }
            try await connection.close()
            #expect(tags == ["renamed", "slow"], "both sidecars applied")
        }
    }
}

/// Writes a file in chunks from a thread of its own, with real pauses between them.
enum SlowWriter {
    static func write(_ bytes: Data, to path: String, chunks: Int, pause: TimeInterval) async throws -> Bool {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                guard fd >= 0 else { return continuation.resume(returning: false) }
                let size = (bytes.count + chunks - 1) / chunks
                var ok = true
                for start in stride(from: 0, to: bytes.count, by: size) {
                    let chunk = bytes[start..<min(start + size, bytes.count)]
                    let wrote = chunk.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                    ok = ok && wrote == chunk.count
                    if start + size < bytes.count { Thread.sleep(forTimeInterval: pause) }
                }
                close(fd)
                continuation.resume(returning: ok)
            }
            thread.start()
        }
    }
}
