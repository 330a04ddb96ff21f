import Foundation
@testable import MediaCore
import MediaTestHarness
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct OptimizeOutput: Decodable {
    struct Kind: Decodable {
        let optimized: Int
        let bytesBefore: Int64
        let bytesAfter: Int64
        let bytesSaved: Int64
    }
    struct Asset: Decodable {
        let id: Int64
        let kind: String
        let path: String
        let outcome: String
        let method: String?
        let bytesBefore: Int64
        let bytesAfter: Int64
        let quality: Double?
        let reason: String?
    }
    let ok: Bool
    let dryRun: Bool
    let examined: Int
    let optimized: Int
    let notWorthIt: Int
    let notApplicable: Int
    let failed: Int
    let image: Kind
    let video: Kind
    let bytesSaved: Int64
    let assets: [Asset]
}

/// `mediaq optimize` on real libraries: the real optimiser in `mediad --decoder-worker`
/// processes, PostgreSQL, files, kills.
@Suite(.serialized) struct OptimizeCommandTests {
    /// Runs `mediaq` off the cooperative pool (it blocks until the child ends).
    static func mediaq(
        _ library: TestLibrary, _ arguments: [String], environment: [String: String] = [:]
    ) async throws -> ChildProcess.Outcome {
        let all = arguments + library.arguments
        return try await onOwnThread { try Executables.mediaq(all, environment: environment) }
    }

    /// A baseline JPEG with a camera-like texture, a PNG saved at the lowest compression and an
    /// MP4 with its index at the end, each as downloaded into `folder/downloads`.
    static func makeDownloads(in folder: String, seed: Int = 1) throws -> [String] {
        let downloads = folder + "/downloads"
        try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: true)
        let jpeg = downloads + "/photo-\(seed).jpg"
        try SampleMedia.make([
            SampleMedia.convert, "-seed", "\(seed)", "-size", "640x480", "plasma:fractal", "-quality", "92",
            "-define", "jpeg:optimize-coding=false", jpeg,
        ])
        let png = downloads + "/screen-\(seed).png"
        try SampleMedia.make([
            SampleMedia.convert, "-seed", "\(seed + 100)", "-size", "400x300", "plasma:fractal", "-depth", "8",
            "-define", "png:compression-level=0", "-define", "png:compression-filter=0", png,
        ])
        let mp4 = downloads + "/clip-\(seed).mp4"
        try SampleMedia.video(
            mp4, seconds: 1, size: "320x240",
            extra: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-metadata", "comment=\(seed)"])
        return [jpeg, png, mp4]
    }

    /// Ingests copies of `downloads` (the downloads themselves stay, to be dropped again).
    static func ingest(_ library: TestLibrary, _ downloads: [String]) async throws -> [Int64] {
        let staging = library.folder + "/staging-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        var copies: [String] = []
        for download in downloads {
            let copy = staging + "/" + (download as NSString).lastPathComponent
            try FileManager.default.copyItem(atPath: download, toPath: copy)
            copies.append(copy)
        }
        let outcome = try await mediaq(
            library, ["ingest", "--json", "--provider", "pexels", "--tags", "optimise,test"] + copies)
        try #require(outcome.status == 0, "\(outcome.transcript)")
        return try IngestOutput.decode(outcome.standardOutput).files.compactMap(\.id)
    }

    static func sha256(_ path: String) throws -> String { try ContentStore.sha256(ofFileAt: path) }

    static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : -1
    }

    /// Every present original exists, hashes to its row's stored hash and is its row's size.
    static func expectOriginalsMatchRows(
        _ library: TestLibrary, sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        let rows = try await library.strings(
            "SELECT path || ' ' || coalesce(stored_sha256, sha256) || ' ' || bytes FROM asset WHERE state = 'present' ORDER BY id")
        for row in rows {
            let parts = row.split(separator: " ").map(String.init)
            let path = library.root + "/" + parts[0]
            #expect(FileManager.default.fileExists(atPath: path), "\(parts[0]) exists", sourceLocation: sourceLocation)
            #expect((try? sha256(path)) == parts[1], "\(parts[0]) hashes to its stored hash", sourceLocation: sourceLocation)
            #expect(String(size(path)) == parts[2], "\(parts[0]) is its row's size", sourceLocation: sourceLocation)
        }
    }

    @Test func optimisesAJPEGAPNGAndATrailingIndexMP4KeepingWhatTheyAre() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let downloads = try Self.makeDownloads(in: library.folder)
            let ids = try await Self.ingest(library, downloads)
            try #require(ids.count == 3)
            let paths = try await library.strings("SELECT path FROM asset ORDER BY id")
            let before = try await library.integers("SELECT bytes FROM asset ORDER BY id")
            let usageBefore = try await library.integers("SELECT sum(original_bytes)::int8 FROM storage_usage")

            let outcome = try await Self.mediaq(library, ["optimize", "--json"])
            #expect(outcome.status == 0, "\(outcome.transcript)")
            let summary = try TestLibrary.decode(OptimizeOutput.self, outcome)
            #expect(summary.examined == 3 && summary.failed == 0, "\(summary.assets)")
            let methods = Dictionary(uniqueKeysWithValues: summary.assets.map { ($0.id, $0) })
            #expect(methods[ids[0]]?.outcome == "optimized" && methods[ids[0]]?.method == "jpeg-lossless", "\(summary.assets)")
            #expect(methods[ids[1]]?.outcome == "optimized" && methods[ids[1]]?.method == "png-lossless", "\(summary.assets)")
            #expect(methods[ids[2]]?.outcome == "optimized" && methods[ids[2]]?.method == "mp4-faststart", "\(summary.assets)")
            #expect(summary.bytesSaved > 0 && summary.image.bytesSaved > 0)
            #expect(outcome.standardError.isEmpty || !outcome.standardError.contains("error"))

            // Identity unchanged: same paths and download hashes; the stored facts are the file's.
            #expect(try await library.strings("SELECT path FROM asset ORDER BY id") == paths)
            for (index, path) in paths.enumerated() {
                let absolute = library.root + "/" + path
                #expect(
                    try Self.sha256(downloads[index]) == (try await library.strings("SELECT sha256 FROM asset WHERE id = \(ids[index])"))[0]
                )
                #expect(
                    try await library.strings("SELECT stored_sha256 FROM asset WHERE id = \(ids[index])") == [try Self.sha256(absolute)])
                #expect(try await library.integers("SELECT download_bytes FROM asset WHERE id = \(ids[index])") == [before[index]])
                var info = stat()
                #expect(stat(absolute, &info) == 0 && info.st_mode & 0o777 == 0o444, "the original stays read-only")
            }
            try await Self.expectOriginalsMatchRows(library)
            let after = try await library.integers("SELECT bytes FROM asset ORDER BY id")
            let saved = zip(before, after).reduce(Int64(0)) { $0 + $1.0 - $1.1 }
            #expect(saved == summary.bytesSaved)
            #expect(try await library.integers("SELECT sum(original_bytes)::int8 FROM storage_usage") == [usageBefore[0] - saved])

            // The metadata file says what is stored.
            let kind = MediaFormat.Kind.image
            let sha = try await library.strings("SELECT sha256 FROM asset WHERE id = \(ids[0])")[0]
            let metadata = try #require(try AssetMetadata.read(at: library.root + "/" + AssetMetadata.path(sha256: sha, kind: kind)))
            #expect(metadata.stored?.sha256 == (try await library.strings("SELECT stored_sha256 FROM asset WHERE id = \(ids[0])"))[0])
            #expect(metadata.stored?.method == "jpeg-lossless" && metadata.bytes == before[0] && metadata.stored?.bytes == after[0])

            // Nothing left to try; doctor verifies the stored hashes; stats count the saving.
            let again = try TestLibrary.decode(OptimizeOutput.self, try await Self.mediaq(library, ["optimize", "--json"]))
            #expect(again.examined == 0)
            let doctor = try await Self.mediaq(library, ["doctor", "--json", "--verify", "all"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            #expect(try TestLibrary.decode(DoctorOutput.self, doctor).verified == 3)
            struct Stats: Decodable {
                struct Optimized: Decodable {
                    let kind: String
                    let assets: Int
                    let bytesSaved: Int64
                }
                let optimized: [Optimized]
                let optimizedBytesSaved: Int64
            }
            let stats = try TestLibrary.decode(Stats.self, try await Self.mediaq(library, ["stats", "--json"]))
            #expect(stats.optimizedBytesSaved == saved)
            #expect(stats.optimized.map(\.assets).reduce(0, +) == 3)

            struct Shown: Decodable {
                struct Stored: Decodable {
                    let sha256: String
                    let bytes: Int64
                    let method: String
                }
                let sha256: String
                let bytes: Int64
                let downloadBytes: Int64?
                let stored: Stored?
            }
            let shown = try TestLibrary.decode(Shown.self, try await Self.mediaq(library, ["show", "--json", String(ids[0])]))
            #expect(shown.stored?.method == "jpeg-lossless" && shown.downloadBytes == before[0] && shown.bytes == after[0])
            let text = try await Self.mediaq(library, ["show", String(ids[0])])
            #expect(text.standardOutput.contains("stored:     optimised (jpeg-lossless)"), "\(text.transcript)")

            // Export copies the stored file, verified against the stored hash.
            let project = library.folder + "/project"
            let exported = try await Self.mediaq(library, ["export", "--json", "--mode", "copy", "--to", project] + ids.map(String.init))
            #expect(exported.status == 0, "\(exported.transcript)")

            // The same download dropped again is the same asset, known by its download's hash.
            let redropped = try await Self.ingest(library, downloads)
            #expect(redropped == ids)
            #expect(try await library.integers("SELECT count(*) FROM asset") == [3])
            try await Self.expectOriginalsMatchRows(library)
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func aDryRunWritesNothingAndReportsTheSaving() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let downloads = try Self.makeDownloads(in: library.folder, seed: 2)
            let ids = try await Self.ingest(library, downloads)
            try #require(ids.count == 3)
            let hashes = try await library.strings("SELECT path FROM asset ORDER BY id").map { try Self.sha256(library.root + "/" + $0) }
            let outcome = try await Self.mediaq(library, ["optimize", "--dry-run", "--json"])
            #expect(outcome.status == 0, "\(outcome.transcript)")
            let summary = try TestLibrary.decode(OptimizeOutput.self, outcome)
            #expect(summary.dryRun && summary.optimized >= 2 && summary.bytesSaved > 0, "\(summary.assets)")
            #expect(
                try await library.strings("SELECT path FROM asset ORDER BY id").map { try Self.sha256(library.root + "/" + $0) } == hashes)
            #expect(
                try await library.integers("SELECT count(*) FROM asset WHERE stored_sha256 IS NOT NULL OR optimize_checked_at IS NOT NULL")
                    == [0])
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
            // A real run afterwards still finds every one.
            let real = try TestLibrary.decode(OptimizeOutput.self, try await Self.mediaq(library, ["optimize", "--json", "--limit", "2"]))
            #expect(real.examined == 2)
        }
    }

    @Test func killedRunsLeaveTheOldOrTheNewOriginalNeverNone() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            var downloads: [String] = []
            for seed in 10..<14 { downloads += try Self.makeDownloads(in: library.folder, seed: seed) }
            let ids = try await Self.ingest(library, downloads)
            try #require(ids.count == downloads.count)
            var generator = SystemRandomNumberGenerator()
            let rounds = 6
            var insideReplacement = 0
            for round in 0..<rounds {
                // A pause between each intent and its rename widens the window a kill may land in.
                // Every other round is killed inside it: there the pause is far longer than the
                // watch below can take on a loaded machine. The others are killed at a random moment
                // once the run has replaced one more original; they examine at most 3 assets, so the
                // library keeps work for the rounds after them (16 downloads, 12 of them shrink).
                let inside = round % 2 == 0
                let optimisedBefore = try await library.integers("SELECT count(*) FROM asset WHERE stored_sha256 IS NOT NULL")[0]
                let process = try ChildProcess.spawn(
                    [Executables.path("mediaq"), "optimize"] + (inside ? [] : ["--limit", "3"]) + library.arguments,
                    environment: Executables.cleanEnvironment(["MEDIAQ_OPTIMIZE_PAUSE_MS": inside ? "60000" : "300"]))
                // Watched on one connection: a new one per look may take longer than the window.
                let watcher = try await TestDatabase.connect(library.url)
                let deadline = ContinuousClock.now + .seconds(60)
                var reached = false
                while ContinuousClock.now < deadline, !reached, !process.hasEnded {
                    let sql: PostgresQuery =
                        inside
                        ? "SELECT count(*)::int FROM file_intent WHERE action = 'replace'"
                        : "SELECT count(*)::int - \(optimisedBefore) FROM asset WHERE stored_sha256 IS NOT NULL"
                    for try await count in try await watcher.query(sql, logger: testLogger).decode(Int.self) { reached = count > 0 }
                    if !reached { try await Task.sleep(for: .milliseconds(10)) }
                }
                try? await watcher.close()
                // A random round's run may end by itself before the watch sees it replace one.
                if inside { try #require(reached, "round \(round): no replacement was pending within 60 s") }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...(inside ? 200 : 600), using: &generator)))
                process.signal(SIGKILL)
                let status = await onOwnThread { process.wait() }.status
                // Its decoder worker may be writing a copy into .tmp still: it sees its parent gone
                // within 200 ms and exits (DecoderServer.exitWhenOrphaned); a copy it finishes later
                // would be a leftover for the next open, not for this one.
                try await Task.sleep(for: .seconds(1))
                let pending = try await library.integers("SELECT count(*) FROM file_intent WHERE action = 'replace'")[0]
                if pending > 0 { insideReplacement += 1 }
                // The next command that opens the library for writing finishes the interrupted step.
                let doctor = try await Self.mediaq(library, ["doctor", "--json"])
                let report = try TestLibrary.decode(DoctorOutput.self, doctor)
                let optimised = try await library.integers("SELECT count(*) FROM asset WHERE stored_sha256 IS NOT NULL")[0]
                print(
                    "optimize round \(round): killed (\(status)) with \(pending) replacement(s) pending, \(optimised) optimised, "
                        + "doctor \(report.problems.map(\.kind))")
                #expect(report.problems.isEmpty, "\(doctor.transcript)")
                #expect(try await library.integers("SELECT count(*) FROM file_intent") == [0])
                try await Self.expectOriginalsMatchRows(library)
                try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
            }
            #expect(insideReplacement >= rounds / 2, "kills landed between an intent and its row update")
            let last = try await Self.mediaq(library, ["optimize", "--json"])
            #expect(last.status == 0, "\(last.transcript)")
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE optimize_checked_at IS NULL") == [0])
            try await Self.expectOriginalsMatchRows(library)
            let doctor = try await Self.mediaq(library, ["doctor", "--json", "--verify", "all"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    /// Both halves of recovering a `replace` intent left by a dead process: the rename happened
    /// (the row takes the copy's facts) or did not (the row stays); the copy goes either way.
    @Test func recoveryFinishesOrUndoesAReplacementFromItsIntent() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let downloads = try Self.makeDownloads(in: library.folder, seed: 5)
            let ids = try await Self.ingest(library, Array(downloads.prefix(2)))
            try #require(ids.count == 2)
            let paths = try await library.strings("SELECT path FROM asset ORDER BY id")
            // A process id that no longer runs: a child that has ended.
            let dead = try ChildProcess.spawn(["/bin/true"], environment: [:])
            _ = await onOwnThread { dead.wait() }
            try FileManager.default.createDirectory(atPath: library.root + "/.tmp", withIntermediateDirectories: true)
            var copies: [(temporary: String, sha: String, bytes: Int64)] = []
            for (index, path) in paths.enumerated() {
                // A copy that still decodes (bytes after the image's end), as an optimiser's would.
                let temporary = ".tmp/\(dead.pid)-copy\(index)" + "." + (path as NSString).pathExtension
                var bytes = try Data(contentsOf: URL(fileURLWithPath: library.root + "/" + path))
                bytes.append(contentsOf: [0, 1, 2, 3])
                try bytes.write(to: URL(fileURLWithPath: library.root + "/" + temporary))
                chmod(library.root + "/" + temporary, 0o444)
                copies.append((temporary, try Self.sha256(library.root + "/" + temporary), Int64(bytes.count)))
                try await library.execute(
                    """
                    INSERT INTO file_intent (path, action, asset_id, owner_pid, replacement_path, replacement_sha256,
                                             replacement_bytes, replacement_method)
                    VALUES ('\(path)', 'replace', \(ids[index]), \(dead.pid), '\(temporary)', '\(copies[index].sha)',
                            \(bytes.count), 'test-copy')
                    """)
            }
            let before = try await library.integers("SELECT bytes FROM asset ORDER BY id")
            // The first was renamed before the crash; the second was not.
            try #require(rename(library.root + "/" + copies[0].temporary, library.root + "/" + paths[0]) == 0)
            let doctor = try await Self.mediaq(library, ["doctor", "--json", "--verify", "all"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            #expect(try await library.integers("SELECT count(*) FROM file_intent") == [0])
            #expect(try await library.strings("SELECT coalesce(stored_sha256, '-') FROM asset ORDER BY id") == [copies[0].sha, "-"])
            #expect(try await library.integers("SELECT bytes FROM asset ORDER BY id") == [copies[0].bytes, before[1]])
            #expect(try await library.integers("SELECT coalesce(download_bytes, 0) FROM asset ORDER BY id") == [before[0], 0])
            #expect(!library.exists(copies[1].temporary))
            try await Self.expectOriginalsMatchRows(library)
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    /// The download dropped again where the optimised original is gone (lost), or where its
    /// row is (a database from before it): the download goes back, and the row describes it.
    @Test func theDownloadDroppedAgainReplacesAMissingOrUnrecordedOptimisedOriginal() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let downloads = try Self.makeDownloads(in: library.folder, seed: 6)
            let ids = try await Self.ingest(library, Array(downloads.prefix(2)))
            try #require(ids.count == 2)
            let optimised = try await Self.mediaq(library, ["optimize", "--json"])
            #expect(optimised.status == 0, "\(optimised.transcript)")
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE stored_sha256 IS NOT NULL") == [2])
            let paths = try await library.strings("SELECT path FROM asset ORDER BY id")
            // The first one's file is gone; the second one's row is.
            try FileManager.default.removeItem(atPath: library.root + "/" + paths[0])
            try await library.execute("DELETE FROM asset WHERE id = \(ids[1])")
            let again = try await Self.ingest(library, Array(downloads.prefix(2)))
            #expect(again.first == ids[0])
            for (index, path) in paths.enumerated() {
                #expect(try Self.sha256(library.root + "/" + path) == (try Self.sha256(downloads[index])), "the download is back")
            }
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE stored_sha256 IS NOT NULL") == [0])
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE optimize_checked_at IS NULL") == [2])
            try await Self.expectOriginalsMatchRows(library)
            let doctor = try await Self.mediaq(library, ["doctor", "--json", "--verify", "all"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func reindexAfterALostDatabaseRestoresTheStoredFacts() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let downloads = try Self.makeDownloads(in: library.folder, seed: 3)
            _ = try await Self.ingest(library, downloads)
            let optimised = try await Self.mediaq(library, ["optimize", "--json"])
            #expect(optimised.status == 0, "\(optimised.transcript)")
            let facts =
                "SELECT sha256 || ' ' || coalesce(stored_sha256, '-') || ' ' || bytes || ' ' || coalesce(download_bytes, 0) || ' ' || coalesce(optimization, '-') FROM asset ORDER BY sha256"
            let before = try await library.strings(facts)
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE stored_sha256 IS NOT NULL")[0] >= 2)
            try await TestDatabase.withFresh { lostURL in
                let rebuilt = TestLibrary(root: library.root, url: lostURL, folder: library.folder)
                let reindex = try await Self.mediaq(rebuilt, ["reindex", "--json"])
                #expect(reindex.status == 0, "\(reindex.transcript)")
                #expect(try await rebuilt.strings(facts) == before)
                let usage = try await library.integers("SELECT sum(original_bytes)::int8 FROM storage_usage")
                #expect(try await rebuilt.integers("SELECT sum(original_bytes)::int8 FROM storage_usage") == usage)
                try await Self.expectOriginalsMatchRows(rebuilt)
                let doctor = try await Self.mediaq(rebuilt, ["doctor", "--json", "--verify", "all"])
                #expect(doctor.status == 0, "\(doctor.transcript)")
            }
        }
    }

    /// Rows restored from before the optimisation (a backup) say the download is stored:
    /// `doctor --verify` finds the metadata file naming the bytes and `--fix` takes its facts,
    /// never quarantining a good original.
    @Test func doctorFixesRowsRestoredFromBeforeAnOptimisation() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let downloads = try Self.makeDownloads(in: library.folder, seed: 7)
            let ids = try await Self.ingest(library, [downloads[0]])
            try #require(ids.count == 1)
            let optimised = try await Self.mediaq(library, ["optimize", "--json"])
            #expect(optimised.status == 0, "\(optimised.transcript)")
            let facts = "SELECT coalesce(stored_sha256, '-') || ' ' || bytes FROM asset"
            let after = try await library.strings(facts)
            // As the restored rows would have it (their metadata marks are cleared by the restore).
            try await library.execute(
                """
                UPDATE asset SET bytes = download_bytes, download_bytes = NULL, stored_sha256 = NULL, optimization = NULL,
                                 optimized_at = NULL, optimize_checked_at = NULL, optimize_outcome = NULL
                """)
            try await library.execute("DELETE FROM asset_metadata_pending")
            let found = try TestLibrary.decode(DoctorOutput.self, try await Self.mediaq(library, ["doctor", "--json", "--verify", "all"]))
            #expect(found.problems.map(\.kind) == ["stored_facts_behind"], "\(found.problems)")
            let fixing = try await Self.mediaq(library, ["doctor", "--json", "--fix", "--verify", "all"])
            #expect(fixing.status == 0, "\(fixing.transcript)")
            #expect(try await library.strings(facts) == after)
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE state = 'present'") == [1])
            try await Self.expectOriginalsMatchRows(library)
        }
    }

    @Test func aLossyReencodeIsOnlyDoneWhenAskedAndIsRecordedWithItsQuality() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let video = library.folder + "/heavy.mp4"
            try SampleMedia.video(
                video, seconds: 1, size: "320x240",
                extra: ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "5", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
            let ids = try await Self.ingest(library, [video])
            try #require(ids.count == 1)
            let outcome = try await Self.mediaq(
                library, ["optimize", "--json", "--reencode-video", "28", "--min-bitrate", "0", "--quality-floor", "25"])
            #expect(outcome.status == 0, "\(outcome.transcript)")
            let summary = try TestLibrary.decode(OptimizeOutput.self, outcome)
            #expect(summary.optimized == 1 && summary.video.bytesSaved > 0, "\(summary.assets)")
            let asset = try #require(summary.assets.first)
            #expect(asset.method == "h264-crf28" && (asset.quality ?? 0) >= 25, "\(asset)")
            #expect(try await library.strings("SELECT optimization FROM asset") == ["h264-crf28"])
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE optimization_quality >= 25") == [1])
            try await Self.expectOriginalsMatchRows(library)
            // Not again: it is re-encoded already.
            let again = try TestLibrary.decode(
                OptimizeOutput.self,
                try await Self.mediaq(library, ["optimize", "--json", "--reencode-video", "28", "--min-bitrate", "0"]))
            #expect(again.examined == 0)
            let doctor = try await Self.mediaq(library, ["doctor", "--json", "--verify", "all"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func theLossyFloorRefusesABadResultAndLeavesTheOriginal() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let downloads = try Self.makeDownloads(in: library.folder, seed: 4)
            let ids = try await Self.ingest(library, [downloads[2]])
            try #require(ids.count == 1)
            let path = try await library.strings("SELECT path FROM asset")[0]
            let hash = try Self.sha256(library.root + "/" + path)
            let outcome = try await Self.mediaq(
                library, ["optimize", "--json", "--reencode-video", "51", "--min-bitrate", "0", "--quality-floor", "60"])
            #expect(outcome.status == 1, "\(outcome.transcript)")
            let summary = try TestLibrary.decode(OptimizeOutput.self, outcome)
            #expect(summary.failed == 1 && summary.optimized == 0, "\(summary.assets)")
            #expect(try Self.sha256(library.root + "/" + path) == hash)
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE stored_sha256 IS NOT NULL") == [0])
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
            let usage = try await Self.mediaq(library, ["optimize", "--quality-floor", "30"])
            #expect(usage.status == 2, "\(usage.transcript)")
        }
    }

    /// `media.optimizeTimeoutSeconds` stops one optimisation that takes too long; the original is
    /// left as it was, the failure recorded, and only `--retry-failed` tries it again.
    @Test func anOptimisationPastTheTimeLimitFailsLeavesTheOriginalAndIsRetriedOnlyWhenAsked() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            // 7.7 megapixels stored uncompressed: re-encoding at zlib 9 with every filter and
            // comparing every sample takes several seconds, far past a 1 s limit.
            let png = library.folder + "/large-screen.png"
            try await onOwnThread {
                try SampleMedia.make([
                    SampleMedia.convert, "-seed", "9", "-size", "3200x2400", "plasma:fractal", "-depth", "8",
                    "-define", "png:compression-level=0", "-define", "png:compression-filter=0", png,
                ])
            }
            let ids = try await Self.ingest(library, [png])
            try #require(ids.count == 1)
            let path = try await library.strings("SELECT path FROM asset")[0]
            let download = try Self.sha256(png)

            let timedOut = try await Self.mediaq(
                library, ["optimize", "--json"], environment: ["MEDIA_OPTIMIZE_TIMEOUT_SECONDS": "1"])
            #expect(timedOut.status == 1, "\(timedOut.transcript)")
            let failed = try TestLibrary.decode(OptimizeOutput.self, timedOut)
            #expect(failed.failed == 1 && failed.optimized == 0, "\(failed.assets)")
            let reason = failed.assets.first?.reason ?? ""
            #expect(
                reason.contains("hung") && reason.contains("optimizeTimeoutSeconds") && reason.contains("--retry-failed"),
                "the reason names the time limit: \(reason)")
            #expect(try Self.sha256(library.root + "/" + path) == download, "the original is untouched")
            #expect(try await library.strings("SELECT optimize_outcome FROM asset") == ["failed"])
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE stored_sha256 IS NOT NULL") == [0])
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: library.root + "/.tmp")) ?? []
            #expect(leftovers.isEmpty, "the killed worker's copy is gone: \(leftovers)")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)

            // Not tried again on its own, even with time to spare.
            let again = try TestLibrary.decode(OptimizeOutput.self, try await Self.mediaq(library, ["optimize", "--json"]))
            #expect(again.examined == 0, "\(again.assets)")

            let retried = try await Self.mediaq(library, ["optimize", "--json", "--retry-failed"])
            #expect(retried.status == 0, "\(retried.transcript)")
            let done = try TestLibrary.decode(OptimizeOutput.self, retried)
            #expect(done.examined == 1 && done.optimized == 1 && done.image.bytesSaved > 0, "\(done.assets)")
            #expect(try await library.strings("SELECT optimize_outcome FROM asset") == ["optimized"])
            try await Self.expectOriginalsMatchRows(library)
            let doctor = try await Self.mediaq(library, ["doctor", "--json", "--verify", "all"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            let nothingLeft = try TestLibrary.decode(
                OptimizeOutput.self, try await Self.mediaq(library, ["optimize", "--json", "--retry-failed"]))
            #expect(nothingLeft.examined == 0)

            let usage = try await Self.mediaq(library, ["optimize", "--retry-failed", "--reencode-video", "23"])
            #expect(usage.status == 2 && usage.output.contains("--retry-failed"), "\(usage.transcript)")
        }
    }
}
