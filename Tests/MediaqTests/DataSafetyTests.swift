import Foundation
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct ReindexOutput: Decodable {
    struct Problem: Decodable {
        let path: String
        let code: String
    }
    let ok: Bool
    let originals: Int
    let adopted: Int
    let adoptedWithoutMetadata: Int
    let updated: Int
    let unchanged: Int
    let problems: [Problem]
}

/// The library survives losing its database or its files: metadata files, `reindex`, doctor
/// adopting rather than deleting, lost originals. Real PostgreSQL, real files, real processes.
@Suite(.serialized) struct DataSafetyTests {
    /// Per SHA-256: its sorted tags and its sources, as text, from the rows.
    static func facts(_ library: TestLibrary) async throws -> [String: String] {
        let rows = try await library.strings(
            """
            SELECT a.sha256 || '|' || a.state::text || '|' ||
                   coalesce((SELECT string_agg(t.name, ',' ORDER BY t.name) FROM asset_tag x JOIN tag t ON t.id = x.tag_id
                             WHERE x.asset_id = a.id), '') || '|' ||
                   (SELECT string_agg(p.provider || '/' || coalesce(p.provider_asset_id, '-') || '/' || coalesce(p.source_url, '-'),
                                      ',' ORDER BY p.provider, p.provider_asset_id, p.source_url)
                    FROM provenance p WHERE p.asset_id = a.id)
            FROM asset a
            """)
        return Dictionary(
            uniqueKeysWithValues: rows.map { row in
                let parts = row.split(separator: "|", maxSplits: 1).map(String.init)
                return (parts[0], parts[1])
            })
    }

    /// The SHA-256s `mediaq search` returns, as a set.
    static func searched(_ library: TestLibrary, _ arguments: [String]) throws -> Set<String> {
        let outcome = try library.mediaq(["search"] + arguments + ["--json", "--limit", "100"])
        try #require(outcome.status == 0, "\(outcome.transcript)")
        let pattern = try Regex(#""sha256" : "([0-9a-f]{64})""#)
        return Set(outcome.standardOutput.matches(of: pattern).map { String($0.output[1].substring ?? "") })
    }

    static let searches: [[String]] = [
        ["images", "--tags", "photo"], ["videos", "--tags", "video"], ["images", "--tags", "sea,boat"],
    ]

    /// A library of seeded images and videos plus a few ingested with providers, ids and URLs.
    static func populate(_ library: TestLibrary, seed count: Int) throws {
        let seeded = try library.mediaq(["seed", "--count", "\(count)"])
        try #require(seeded.status == 0, "\(seeded.transcript)")
        try library.ingestPNGs(3, provider: "pexels", tags: "sea,boat", prefix: "sea")
        let source = library.folder + "/extra"
        let names = try Drops.pngs(1, into: source, prefix: "x", staging: library.folder + "/staging")
        let ingested = try library.mediaq([
            "ingest", "--provider", "pixabay", "--provider-id", "777", "--source-url", "https://pixabay.example/777",
            "--tags", "sea,harbour", source + "/" + names[0],
        ])
        try #require(ingested.status == 0, "\(ingested.transcript)")
    }

    @Test func everyAssetHasAMetadataFileThatFollowsItsRows() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let ids = try library.ingestPNGs(2, provider: "pexels", tags: "beach,sun")
            let sha = try await library.strings("SELECT sha256 FROM asset WHERE id = \(ids[0])")[0]
            let path = library.root + "/" + AssetMetadata.path(sha256: sha, kind: .image)
            let first = try #require(try AssetMetadata.read(at: path))
            #expect(first.tags == ["beach", "sun"] && first.sources.map(\.provider) == ["pexels"] && first.sha256 == sha)
            // The same bytes again, with another tag and source: the file follows.
            let original = library.root + "/" + (try await library.strings("SELECT path FROM asset WHERE id = \(ids[0])")[0])
            let again = try library.mediaq(["ingest", "--provider", "unsplash", "--tags", "dune", original])
            #expect(again.status == 0, "\(again.transcript)")
            let second = try #require(try AssetMetadata.read(at: path))
            #expect(second.tags == ["beach", "dune", "sun"] && Set(second.sources.map(\.provider)) == ["pexels", "unsplash"])
            #expect(try await library.integers("SELECT count(*) FROM asset_metadata_pending") == [0])
            // A change whose file was not written (a crash after the commit) is written at the next chance.
            try await library.execute(
                "INSERT INTO asset_tag (asset_id, tag_id) SELECT \(ids[0]), id FROM tag WHERE name = 'beach' ON CONFLICT DO NOTHING")
            try await library.execute(
                "DELETE FROM asset_tag x USING tag t WHERE x.asset_id = \(ids[0]) AND t.id = x.tag_id AND t.name = 'dune'")
            #expect(try await library.integers("SELECT count(*) FROM asset_metadata_pending") == [1], "the trigger marked it")
            let doctor = try library.mediaq(["doctor", "--fix", "--json"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            #expect(try AssetMetadata.read(at: path)?.tags == ["beach", "sun"])
            #expect(try await library.integers("SELECT count(*) FROM asset_metadata_pending") == [0])
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func reindexRebuildsALostDatabaseWithTheSameTagsSourcesAndSearches() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            try Self.populate(library, seed: 10)
            let before = try await Self.facts(library)
            let searchesBefore = try Self.searches.map { try Self.searched(library, $0) }
            #expect(before.count == 14 && searchesBefore.allSatisfy { !$0.isEmpty }, "\(searchesBefore)")
            // One original loses its metadata file too: it comes back untagged, from `unknown`.
            let bare = try await library.strings("SELECT sha256 FROM asset WHERE kind = 'image' ORDER BY id LIMIT 1")[0]
            try FileManager.default.removeItem(atPath: library.root + "/" + AssetMetadata.path(sha256: bare, kind: .image))

            try await TestDatabase.withFresh { lostURL in
                let rebuilt = TestLibrary(root: library.root, url: lostURL, folder: library.folder)
                let run = try rebuilt.mediaq(["reindex", "--json"])
                #expect(run.status == 0, "\(run.transcript)")
                let report = try TestLibrary.decode(ReindexOutput.self, run)
                #expect(report.originals == 14 && report.adopted == 14 && report.adoptedWithoutMetadata == 1, "\(run.standardOutput)")
                var expected = before
                expected[bare] = "present||unknown/-/-"
                #expect(try await Self.facts(rebuilt) == expected)
                for (query, found) in zip(Self.searches, searchesBefore) {
                    #expect(try Self.searched(rebuilt, query) == found.subtracting([bare]), "\(query)")
                }
                // Again: nothing to do, nothing doubled.
                let second = try TestLibrary.decode(ReindexOutput.self, try rebuilt.mediaq(["reindex", "--json"]))
                #expect(second.adopted == 0 && second.unchanged == 14 && second.updated == 0)
                #expect(try await rebuilt.integers("SELECT count(*) FROM asset") == [14])
                #expect(try await rebuilt.integers("SELECT count(*) FROM thumbnail WHERE status = 'ok'") == [14])
                try await LibraryConsistency.expectConsistent(root: library.root, url: lostURL)
            }
        }
    }

    @Test func reindexKilledAtRandomPointsFinishesOnTheNextRunWithoutDuplicates() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            try Self.populate(library, seed: 24)
            let before = try await Self.facts(library)
            // Some thumbnails go too, so that reindex also places files when it is killed.
            let thumbnails = try await library.strings("SELECT path FROM thumbnail WHERE path IS NOT NULL ORDER BY asset_id")
            for path in thumbnails.enumerated().filter({ $0.offset % 3 == 0 }).map(\.element) {
                try FileManager.default.removeItem(atPath: library.root + "/" + path)
            }
            try await TestDatabase.withFresh { lostURL in
                let rebuilt = TestLibrary(root: library.root, url: lostURL, folder: library.folder)
                var generator = SystemRandomNumberGenerator()
                var killedMidway = 0
                let rounds = 4
                for round in 0..<rounds {
                    let recordedBefore = try await Self.recordedCount(rebuilt)
                    // Each run is killed once it has recorded a random few more originals, with at least
                    // three left: 200 ms after each original, so the run cannot reach its end between
                    // our seeing the count and the kill, however slow the database answers.
                    let target = min(recordedBefore + Int.random(in: 1...5, using: &generator), before.count - 3)
                    let process = try ChildProcess.spawn(
                        [Executables.path("mediaq"), "reindex"] + rebuilt.arguments,
                        environment: Executables.cleanEnvironment(["MEDIAQ_REINDEX_PAUSE_MS": "200"]))
                    let deadline = ContinuousClock.now + .seconds(90)
                    while ContinuousClock.now < deadline, (try? await Self.recordedCount(rebuilt)) ?? 0 < target {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    // Somewhere in the pause or in the next original's work (probe, thumbnail, rows).
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...250, using: &generator)))
                    process.signal(SIGKILL)
                    let outcome = process.wait()
                    let recorded = try await Self.recordedCount(rebuilt)
                    if recorded < before.count { killedMidway += 1 }
                    print(
                        "reindex round \(round): target \(target), killed (\(outcome.status)) with \(recorded) of \(before.count) recorded")
                }
                #expect(killedMidway == rounds, "every kill lands before the end")
                let last = try rebuilt.mediaq(["reindex", "--json"])
                #expect(last.status == 0, "\(last.transcript)")
                #expect(try await Self.facts(rebuilt) == before)
                #expect(try await rebuilt.integers("SELECT count(*) FROM asset") == [Int64(before.count)])
                #expect(try await rebuilt.integers("SELECT count(*) FROM thumbnail WHERE status = 'ok'") == [Int64(before.count)])
                for path in thumbnails { #expect(rebuilt.exists(path), "\(path) made again") }
                let doctor = try rebuilt.mediaq(["doctor", "--json", "--verify", "all"])
                #expect(doctor.status == 0, "\(doctor.transcript)")
                try await LibraryConsistency.expectConsistent(root: library.root, url: lostURL)
            }
        }
    }

    static func recordedCount(_ library: TestLibrary) async throws -> Int {
        // Before the first run has made the schema there is no table to count.
        let tables = try await library.integers("SELECT count(*) FROM pg_tables WHERE tablename = 'asset'")
        guard tables == [1] else { return 0 }
        return Int(try await library.integers("SELECT count(*) FROM asset")[0])
    }

    @Test func doctorFixAdoptsOriginalsWithoutRowsAndKeepsEveryOne() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            try Self.populate(library, seed: 6)
            let before = try await Self.facts(library)
            let originals = try await library.strings("SELECT path FROM asset ORDER BY id")
            // A database restored from before three of them were ingested.
            try await library.execute("DELETE FROM asset WHERE id IN (SELECT id FROM asset ORDER BY id DESC LIMIT 3)")
            let found = try TestLibrary.decode(DoctorOutput.self, try library.mediaq(["doctor", "--json"]))
            #expect(found.problems.filter { $0.kind == "original_without_row" }.count == 3, "\(found.problems)")
            let fixing = try library.mediaq(["doctor", "--fix", "--json"])
            #expect(fixing.status == 0, "\(fixing.transcript)")
            for path in originals { #expect(library.exists(path), "\(path) kept") }
            #expect(try await Self.facts(library) == before, "adopted with their tags and sources")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func aLostOriginalIsNeverOfferedIsSettledByDoctorAndComesBackWhenDroppedAgain() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let ids = try library.ingestPNGs(3, provider: "pexels", tags: "forest")
            try await library.execute("UPDATE provenance SET provider_asset_id = 'p' || asset_id")
            let (lost, exported) = (ids[0], ids[1])
            let path = try await library.strings("SELECT path FROM asset WHERE id = \(lost)")[0]
            let saved = library.folder + "/saved.png"
            try FileManager.default.copyItem(atPath: library.root + "/" + path, toPath: saved)
            try FileManager.default.removeItem(atPath: library.root + "/" + path)
            // Doctor reports it; --fix marks it lost; then it is settled.
            #expect(try library.mediaq(["doctor"]).status == 1)
            let fixing = try library.mediaq(["doctor", "--fix", "--json"])
            #expect(fixing.status == 0, "\(fixing.transcript)")
            let settled = try library.mediaq(["doctor", "--json"])
            let settledReport = try TestLibrary.decode(DoctorOutput.self, settled)
            #expect(settled.status == 0 && settledReport.lost == 1, "\(settled.transcript)")

            // Export trips over another one and marks it lost too.
            let exportedPath = try await library.strings("SELECT path FROM asset WHERE id = \(exported)")[0]
            try FileManager.default.removeItem(atPath: library.root + "/" + exportedPath)
            let export = try library.mediaq(["export", "\(exported)", "--to", library.folder + "/out"])
            #expect(export.status != 0 && export.standardError.contains("\(exported)"), "\(export.transcript)")
            #expect(
                try await library.strings("SELECT state::text FROM asset WHERE id IN (\(lost), \(exported)) ORDER BY id") == [
                    "lost", "lost",
                ])

            // Never offered.
            let search = try library.mediaq(["search", "images", "--tags", "forest", "--json"])
            #expect(
                search.status == 0 && !search.standardOutput.contains("\"id\" : \(lost),")
                    && !search.standardOutput.contains("\"id\" : \(exported),"))
            #expect(search.standardOutput.contains("\"id\" : \(ids[2]),"), "\(search.standardOutput)")
            let known = try library.mediaq(["known", "--provider", "pexels", "--json", "p\(lost)", "p\(ids[2])"])
            #expect(known.status == 0 && !known.standardOutput.contains("\"libraryId\" : \(lost)"), "\(known.transcript)")
            #expect(known.standardOutput.contains("\"libraryId\" : \(ids[2])"))
            let exportLost = try library.mediaq(["export", "\(lost)", "--to", library.folder + "/out"])
            #expect(exportLost.status != 0, "\(exportLost.transcript)")
            let script = library.folder + "/script.json"
            try Data(#"{"segments": [{"id": "s1", "tags": ["forest"]}]}"#.utf8).write(to: URL(fileURLWithPath: script))
            let plan = try library.mediaq(["plan", script, "--json", "--no-mark-used"])
            #expect(plan.status == 0 && !plan.standardOutput.contains("\"id\" : \(lost),"), "\(plan.transcript)")
            struct Stats: Decodable { let lost: Int }
            #expect(try TestLibrary.decode(Stats.self, try library.mediaq(["stats", "--json"])).lost == 2)

            // The same bytes dropped again: back, with their tags.
            let again = try library.mediaq(["ingest", "--json", saved])
            let document = try IngestOutput.decode(again.standardOutput)
            try #require(document.files.count == 1, "\(again.transcript)")
            let line = document.files[0]
            #expect(again.status == 0 && line.id == lost && line.status == "duplicate", "\(again.transcript)")
            #expect(try await library.strings("SELECT state::text FROM asset WHERE id = \(lost)") == ["present"])
            #expect(try Self.searched(library, ["images", "--tags", "forest"]).count == 2)

            // forget: refuses a present asset, removes a lost one's record.
            let refused = try library.mediaq(["forget", "\(lost)", "\(exported)"])
            #expect(refused.status == 65 && refused.standardError.contains("\(lost) is present"), "\(refused.transcript)")
            #expect(try library.mediaq(["forget", "--dry-run", "\(exported)"]).status == 0)
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE id = \(exported)") == [1])
            let forgot = try library.mediaq(["forget", "--json", "\(exported)"])
            #expect(forgot.status == 0, "\(forgot.transcript)")
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE id = \(exported)") == [0])
            let doctor = try library.mediaq(["doctor", "--verify", "all"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func ingestAndSeedHoldToTheBudgetAndAFileLargerThanItIsRejected() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            // A library of a few megabytes: a small file fits the whole budget, not the room left.
            let large = library.folder + "/large.png"
            try SampleMedia.image(large, extra: ["+noise", "Random"])
            #expect(try library.mediaq(["ingest", large]).status == 0)
            try library.ingestPNGs(1)
            let used = try await library.integers("SELECT (sum(original_bytes) + sum(thumbnail_bytes))::int8 FROM storage_usage")[0]
            let source = library.folder + "/more"
            let names = try Drops.pngs(2, into: source, prefix: "more", staging: library.folder + "/staging")
            let files = names.map { source + "/" + $0 }
            // Room for what is there, not for one more file with its thumbnail allowance.
            let tight = ["MEDIA_BUDGET_BYTES": "\(used + 64 * 1024)", "MEDIA_RESERVE_BYTES": "0"]
            let refused = try library.mediaq(["ingest", "--json"] + files, environment: tight)
            #expect(refused.status == 75, "\(refused.transcript)")
            #expect(refused.standardError.contains("over budget") && refused.standardError.contains("--ignore-budget"))
            let stopped = try IngestOutput.decode(refused.standardOutput)
            #expect(!stopped.ok && stopped.error?.code == "over_budget" && stopped.files.isEmpty, "one document: \(refused.standardOutput)")
            #expect(try await library.integers("SELECT count(*) FROM asset") == [2], "nothing was written")
            let temporaries = (try? FileManager.default.contentsOfDirectory(atPath: library.root + "/.tmp")) ?? []
            #expect(temporaries.isEmpty, "\(temporaries)")
            let seeded = try library.mediaq(["seed", "--count", "1"], environment: tight)
            #expect(seeded.status == 75 && seeded.standardError.contains("over budget"), "\(seeded.transcript)")
            #expect(try await library.integers("SELECT count(*) FROM asset") == [2])

            // An operator who means it.
            let forced = try library.mediaq(["ingest", "--ignore-budget"] + files, environment: tight)
            #expect(forced.status == 0, "\(forced.transcript)")
            #expect(try await library.integers("SELECT count(*) FROM asset") == [4])
            #expect(try library.mediaq(["stats"]).status == 0)

            // A file larger than the whole budget is a rejection, not a wait.
            let tiny = ["MEDIA_BUDGET_BYTES": "1000000", "MEDIA_RESERVE_BYTES": "0"]
            let big = library.folder + "/big.png"
            try SampleMedia.image(big, extra: ["+noise", "Random"])
            #expect(try FileManager.default.attributesOfItem(atPath: big)[.size] as? Int ?? 0 > 1_000_000)
            let rejected = try library.mediaq(["ingest", "--json", big], environment: tiny)
            #expect(rejected.status == 65 && rejected.standardOutput.contains("larger_than_budget"), "\(rejected.transcript)")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func restoringAnOlderBackupThenReindexingLosesNothingThatIsOnDisk() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            try Self.populate(library, seed: 4)
            let backups = library.folder + "/backups"
            let made = try library.mediaq(["backup", "--to", backups, "--json"])
            #expect(made.status == 0, "\(made.transcript)")
            struct Made: Decodable {
                struct Manifest: Decodable {
                    let assets: Int
                    let libraryId: String
                }
                let path: String
                let manifest: Manifest
            }
            let backup = try TestLibrary.decode(Made.self, made)
            #expect(backup.manifest.assets == 8 && FileManager.default.fileExists(atPath: backup.path + "/database.dump"))

            // Work after the backup: new assets, and a new tag and source on an old one.
            try library.ingestPNGs(3, provider: "unsplash", tags: "night,city", prefix: "late")
            let old = try await library.strings("SELECT path FROM asset ORDER BY id LIMIT 1")[0]
            let retag = try library.mediaq(["ingest", "--provider", "pexels", "--tags", "retagged", library.root + "/" + old])
            #expect(retag.status == 0, "\(retag.transcript)")
            let before = try await Self.facts(library)
            #expect(before.count == 11)

            // Not into another library.
            try await TestDatabase.withFresh { otherURL in
                let other = TestLibrary(root: library.folder + "/other", url: otherURL, folder: library.folder)
                try #require(try other.mediaq(["db", "migrate"]).status == 0)
                try other.ingestPNGs(1, prefix: "other")
                let refused = try other.mediaq(["restore", "--from", backups])
                #expect(refused.status == 1 && refused.standardError.contains("backup of library"), "\(refused.transcript)")
                #expect(try await other.integers("SELECT count(*) FROM asset") == [1])
            }
            let dry = try library.mediaq(["restore", "--from", backups, "--dry-run"])
            #expect(dry.status == 0, "\(dry.transcript)")
            #expect(try await library.integers("SELECT count(*) FROM asset") == [11])

            let restored = try library.mediaq(["restore", "--from", backups])
            #expect(restored.status == 0 && restored.standardOutput.contains("mediaq reindex"), "\(restored.transcript)")
            #expect(try await library.integers("SELECT count(*) FROM asset") == [8])
            #expect(try await library.integers("SELECT count(*) FROM file_intent") == [0])
            // Opening the restored database removed none of the newer originals.
            for path in try await library.strings("SELECT path FROM asset") { #expect(library.exists(path)) }

            let reindex = try library.mediaq(["reindex", "--json"])
            #expect(reindex.status == 0, "\(reindex.transcript)")
            let report = try TestLibrary.decode(ReindexOutput.self, reindex)
            #expect(report.adopted == 3 && report.updated == 1 && report.adoptedWithoutMetadata == 0, "\(reindex.standardOutput)")
            #expect(try await Self.facts(library) == before, "nothing that is on disk was lost")
            #expect(try library.mediaq(["doctor", "--verify", "all"]).status == 0)
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)

            // A second backup; --keep 1 leaves only the newest.
            try await Task.sleep(for: .seconds(1.1))
            let second = try TestLibrary.decode(Made.self, try library.mediaq(["backup", "--to", backups, "--keep", "1", "--json"]))
            #expect(second.manifest.assets == 11)
            let left = try FileManager.default.contentsOfDirectory(atPath: backups)
            #expect(left == [(second.path as NSString).lastPathComponent], "\(left)")
        }
    }

    @Test func mediadWritesTheMetadataFilesOfAnUpgradedLibraryAndAnIngestPutsBackAMissingOriginal() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let ids = try library.ingestPNGs(3, provider: "pexels", tags: "field")
            // A library from before metadata files: none on disk, every asset marked (migration 0005).
            let files = try await library.strings("SELECT kind::text || ' ' || sha256 FROM asset ORDER BY id").map { row in
                let parts = row.split(separator: " ").map(String.init)
                return AssetMetadata.path(sha256: parts[1], kind: MediaFormat.Kind(rawValue: parts[0]) ?? .image)
            }
            for path in files { try FileManager.default.removeItem(atPath: library.root + "/" + path) }
            try await library.execute("INSERT INTO asset_metadata_pending (asset_id) SELECT id FROM asset")
            let daemon = try RunningDaemon(
                folder: library.folder, arguments: library.arguments + ["--drop-dir", library.folder + "/drop"])
            guard daemon.waitReady() else { return }
            let written = try await Drops.waitUntil(30) { files.allSatisfy { library.exists($0) } }
            let outcome = daemon.stop()
            #expect(written, "mediad wrote the metadata files in the background: \(outcome.transcript)")
            #expect(outcome.standardError.contains("event=metadataWritten"), "\(outcome.standardError)")
            #expect(try await library.integers("SELECT count(*) FROM asset_metadata_pending") == [0])
            #expect(try AssetMetadata.read(at: library.root + "/" + files[0])?.tags == ["field"])

            // An original deleted behind the library's back, ingested again before anyone noticed.
            let path = try await library.strings("SELECT path FROM asset WHERE id = \(ids[1])")[0]
            let saved = library.folder + "/again.png"
            try FileManager.default.copyItem(atPath: library.root + "/" + path, toPath: saved)
            try FileManager.default.removeItem(atPath: library.root + "/" + path)
            let again = try library.mediaq(["ingest", saved])
            #expect(again.status == 0, "\(again.transcript)")
            #expect(library.exists(path), "the same bytes went back to their place")
            #expect(try library.mediaq(["doctor", "--verify", "all"]).status == 0)
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func rebaseTreatsAnOriginalMissingUnderBothRootsAsLostNotAsTheWrongFolder() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let ids = try library.ingestPNGs(3)
            let gone = try await library.strings("SELECT path FROM asset WHERE id = \(ids[0])")[0]
            let moved = library.folder + "/moved"
            #expect(rename(library.root, moved) == 0)
            chmod(moved + "/" + gone, 0o644)
            try FileManager.default.removeItem(atPath: moved + "/" + gone)
            let base = ["--database-url", library.url.urlString]
            let dry = try Executables.mediaq(["rebase", "--dry-run", "--from", library.root, "--to", moved] + base)
            #expect(dry.status == 0, "\(dry.transcript)")
            #expect(
                try await library.strings("SELECT state::text FROM asset WHERE id = \(ids[0])") == ["present"], "a dry run marks nothing")
            let rebase = try Executables.mediaq(["rebase", "--json", "--from", library.root, "--to", moved] + base)
            #expect(rebase.status == 0 && rebase.standardOutput.contains("\"verifiedFiles\" : 2"), "\(rebase.transcript)")
            #expect(try await library.strings("SELECT state::text FROM asset ORDER BY id") == ["lost", "present", "present"])
            // An empty folder is still the wrong folder, whatever is lost.
            try FileManager.default.createDirectory(atPath: library.folder + "/empty", withIntermediateDirectories: true)
            let empty = try Executables.mediaq(["rebase", "--from", moved, "--to", library.folder + "/empty"] + base)
            #expect(empty.status == 1, "\(empty.transcript)")
        }
    }
}
