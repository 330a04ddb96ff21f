import Foundation
import MediaCodecs
@testable import MediaCore
import MediaDaemon
import MediaTestHarness
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mediad`'s background optimiser, in process, against a real library and the real optimiser.
@Suite(.serialized) struct BackgroundOptimizerTests {
    /// A database failure between a rename and its row update leaves the daemon's own `replace`
    /// intent (its process still runs, so an open's recovery would not take it). The optimiser's
    /// next round finishes it from the file's hash, and the original whose copy was never
    /// renamed is optimised for real, instead of both waiting for the next start.
    @Test func itsOwnInterruptedReplacementsAreFinishedByItsNextRoundNotTheNextStart() async throws {
        try await TestDatabase.withFresh { url in
            let library = try await IngestLibrary(url: url)
            do {
                var ids: [Int64] = []
                var paths: [String] = []
                for (index, colour) in ["red", "blue"].enumerated() {
                    let sample = library.sample("screen-\(index).png")
                    // RGB stored uncompressed: the real optimiser's PNG rewrite saves most of it.
                    try await onOwnThread {
                        try SampleMedia.make([
                            SampleMedia.convert, "-size", "800x600", "xc:\(colour)", "-define", "png:compression-level=0",
                            "-define", "png:compression-filter=0", "PNG24:" + sample,
                        ])
                    }
                    let result = try await library.ingest(sample)
                    ids.append(try #require(result.id))
                    paths.append(try #require(result.path))
                }
                // The state a failed row update leaves: intents owned by this (live) process; the
                // first copy renamed over its original, the second still in .tmp.
                let me = getpid()
                try FileManager.default.createDirectory(atPath: library.root + "/.tmp", withIntermediateDirectories: true)
                var renamedSHA = ""
                for (index, path) in paths.enumerated() {
                    let temporary = ".tmp/\(me)-copy\(index).png"
                    var bytes = try Data(contentsOf: URL(fileURLWithPath: library.root + "/" + path))
                    bytes.append(contentsOf: [0, 1, 2, 3])
                    try bytes.write(to: URL(fileURLWithPath: library.root + "/" + temporary))
                    chmod(library.root + "/" + temporary, 0o444)
                    let sha = try ContentStore.sha256(ofFileAt: library.root + "/" + temporary)
                    if index == 0 { renamedSHA = sha }
                    try await library.connection.query(
                        """
                        INSERT INTO file_intent (path, action, asset_id, owner_pid, replacement_path, replacement_sha256,
                                                 replacement_bytes, replacement_method)
                        VALUES (\(path), 'replace', \(ids[index]), \(Int(me)), \(temporary), \(sha), \(Int64(bytes.count)), 'test-copy')
                        """, logger: testLogger)
                }
                try #require(rename(library.root + "/.tmp/\(me)-copy0.png", library.root + "/" + paths[0]) == 0)

                let optimizer = BackgroundOptimizer(
                    connector: DatabaseConnector(url: url, logger: testLogger),
                    optimization: OriginalOptimization(
                        root: library.root, optimizer: NativeOriginalOptimizer(), request: .lossless, logger: testLogger),
                    idle: { true }, logger: testLogger)
                let running = Task { await optimizer.run() }
                let deadline = ContinuousClock.now + .seconds(60)
                var methods: [String] = []
                while ContinuousClock.now < deadline {
                    methods = try await strings(library, "SELECT coalesce(optimization, '-') FROM asset ORDER BY id")
                    if methods == ["test-copy", "png-lossless"] { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                running.cancel()
                await running.value

                #expect(methods == ["test-copy", "png-lossless"], "the renamed copy recorded, the other original optimised")
                #expect(try await library.count("SELECT count(*)::int FROM file_intent") == 0)
                #expect(try await strings(library, "SELECT stored_sha256 FROM asset WHERE id = \(ids[0])") == [renamedSHA])
                #expect(!FileManager.default.fileExists(atPath: library.root + "/.tmp/\(me)-copy1.png"), "the unused copy is gone")
                for row in try await strings(library, "SELECT path || ' ' || stored_sha256 FROM asset ORDER BY id") {
                    let parts = row.split(separator: " ").map(String.init)
                    #expect(try ContentStore.sha256(ofFileAt: library.root + "/" + parts[0]) == parts[1], "\(row)")
                }
                await library.close()
            } catch {
                await library.close()
                throw error
            }
        }
    }

    private func strings(_ library: IngestLibrary, _ sql: String) async throws -> [String] {
        var found: [String] = []
        let rows = try await library.connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        for try await value in rows.decode(String.self) { found.append(value) }
        return found
    }
}
