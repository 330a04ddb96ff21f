import Foundation
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct GCOutput: Decodable {
    struct Line: Decodable {
        let provider: String
        let kind: String
        let assets: Int
        let originalBytes: Int64
        let thumbnailBytes: Int64
    }
    let ok: Bool
    let dryRun: Bool
    let startBytes: Int64
    let endBytes: Int64
    let freedBytes: Int64
    let assets: Int
    let reachedTarget: Bool
    let skippedPinned: Int
    let skippedKept: Int
    let byProviderAndKind: [Line]
}

struct DoctorOutput: Decodable {
    struct Problem: Decodable {
        let kind: String
        let path: String
        let fixed: Bool
        let action: String?
    }
    let ok: Bool
    let problems: [Problem]
    let fixed: Int
    let remaining: Int
    let verified: Int
    let lost: Int
    let metadataPending: Int
}

/// `mediaq gc`, `doctor`, `rebase`, `stats` and `seed` on real libraries: PostgreSQL, files, processes.
@Suite(.serialized) struct MaintenanceCommandTests {
    static func withLibrary(_ body: (TestLibrary) async throws -> Void) async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let library = TestLibrary(root: folder.path + "/library", url: url, folder: folder.path)
            // Made as a deployment makes it: only mediad, `db migrate` and `seed` make libraries.
            let made = try library.mediaq(["db", "migrate"])
            try #require(made.status == 0, "\(made.transcript)")
            try await body(library)
        }
    }

    @Test func gcCollectsLeastRecentlyUsedFirstSparesLivePinsAndProviderCapsAndReportsPerProvider() async throws {
        try await Self.withLibrary { library in
            let pexels = try library.ingestPNGs(4, provider: "pexels", prefix: "p")
            let unsplash = try library.ingestPNGs(2, provider: "unsplash", prefix: "u")
            // Last use, oldest first: p0, u0, p1 (live pin), p2 (expired pin), u1, p3.
            let order = [pexels[0], unsplash[0], pexels[1], pexels[2], unsplash[1], pexels[3]]
            for (rank, id) in order.enumerated() {
                try await library.execute("UPDATE asset SET last_used_at = now() - interval '\(100 - rank) days' WHERE id = \(id)")
            }
            try await library.execute(
                "INSERT INTO pin (run_id, asset_id, created_at, expires_at) VALUES ('live', \(pexels[1]), now(), now() + interval '1 hour')"
            )
            try await library.execute(
                "INSERT INTO pin (run_id, asset_id, created_at, expires_at) VALUES ('old', \(pexels[2]), now() - interval '2 days', now() - interval '1 day')"
            )
            let paths = try await library.strings(
                "SELECT a.path || ' ' || t.path FROM asset a JOIN thumbnail t ON t.asset_id = a.id ORDER BY a.id")
            let sizes = try await library.integers(
                "SELECT a.bytes + t.bytes FROM asset a JOIN thumbnail t ON t.asset_id = a.id ORDER BY a.id")
            let total = sizes.reduce(0, +)
            // Down to a size that needs four assets gone: p0, u0, (p1 pinned), p2, u1 — but unsplash keeps 1.
            let target = total - sizes.prefix(4).reduce(0, +) - 1
            let dry = try library.mediaq(["gc", "--dry-run", "--json", "--target", String(target), "--gc-keep", "unsplash=1"])
            #expect(dry.status == 0, "\(dry.transcript)")
            let planned = try TestLibrary.decode(GCOutput.self, dry)
            #expect(planned.dryRun && planned.assets > 0)
            #expect(try await library.integers("SELECT count(*) FROM asset") == [6], "a dry run changes nothing")

            let real = try library.mediaq(["gc", "--json", "--target", String(target), "--gc-keep", "unsplash=1"])
            #expect(real.status == 0, "\(real.transcript)")
            let done = try TestLibrary.decode(GCOutput.self, real)
            #expect(done.assets == planned.assets && done.freedBytes == planned.freedBytes, "the dry run told the truth")
            let left = Set(try await library.integers("SELECT id FROM asset"))
            // p0, u0 and p2 go (oldest, and an expired pin does not hold); p1 is pinned; u1 is the
            // one unsplash keeps (u0 went, so u1 is its most recent); then p3, the newest, goes.
            #expect(!left.contains(pexels[0]) && !left.contains(unsplash[0]) && !left.contains(pexels[2]))
            #expect(left.contains(pexels[1]), "a live pin holds its asset")
            #expect(left.contains(unsplash[1]), "unsplash keeps one")
            #expect(done.skippedPinned >= 1 && done.skippedKept >= 1)
            #expect(Set(done.byProviderAndKind.map(\.provider)) == ["pexels", "unsplash"])
            #expect(done.byProviderAndKind.allSatisfy { $0.kind == "image" && $0.thumbnailBytes > 0 })
            // Files went with their rows.
            for line in paths {
                let parts = line.split(separator: " ").map(String.init)
                let id = try await library.integers("SELECT id FROM asset WHERE path = '\(parts[0])'")
                #expect(library.exists(parts[0]) == !id.isEmpty && library.exists(parts[1]) == !id.isEmpty, "\(line)")
            }
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
            let usage = try await library.integers("SELECT sum(original_bytes + thumbnail_bytes)::int8 FROM storage_usage")
            #expect(usage == [done.endBytes])
        }
    }

    @Test func killedMidGCLeavesAnOriginalGoneBeforeItsThumbnailAndDoctorFindsNothingAfter() async throws {
        try await Self.withLibrary { library in
            try library.ingestPNGs(6)
            let originals = try await library.strings("SELECT path FROM asset ORDER BY id")
            let gc = try ChildProcess.spawn(
                [Executables.path("mediaq"), "gc", "--target", "0"] + library.arguments,
                environment: Executables.cleanEnvironment(["MEDIAQ_GC_PAUSE_AFTER_ORIGINAL_MS": "120000"]))
            // Kill it while it pauses between the first original and its thumbnail and row. The
            // pause is far longer than this poll can take, however loaded the machine (CI once saw
            // a 3 s pause end before the poll noticed it): the kill always lands inside it.
            let gone = try await Drops.waitUntil(30) { originals.contains { !library.exists($0) } }
            try await Task.sleep(for: .milliseconds(150))
            gc.signal(SIGKILL)
            _ = gc.wait()
            #expect(gone)
            let deleting = try await library.strings(
                "SELECT a.path || ' ' || t.path FROM asset a JOIN thumbnail t ON t.asset_id = a.id WHERE a.state = 'deleting'")
            try #require(deleting.count == 1, "one asset was caught mid-collection: \(deleting)")
            let parts = deleting[0].split(separator: " ").map(String.init)
            #expect(!library.exists(parts[0]) && library.exists(parts[1]), "the original goes before its thumbnail")
            #expect(
                try await library.integers("SELECT count(*) FROM file_intent WHERE action = 'delete'") == [3],
                "original, thumbnail, metadata file")
            #expect(try await LibraryConsistency.problems(root: library.root, url: library.url) != [])

            let doctor = try library.mediaq(["doctor", "--json", "--verify", "all"])
            #expect(doctor.status == 0, "\(doctor.transcript)")
            #expect(try TestLibrary.decode(DoctorOutput.self, doctor).problems.isEmpty)
            #expect(DoctorRecord.last(root: library.root).map { ($0.problems, $0.remaining, $0.fix) } ?? (-1, -1, true) == (0, 0, false))
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
            #expect(try await library.integers("SELECT count(*) FROM asset WHERE state <> 'present'") == [0])
        }
    }

    @Test func doctorFindsEachKindOfDamageAndFixFixesWhatIsSafe() async throws {
        try await Self.withLibrary { library in
            try library.ingestPNGs(6)
            let rows = try await library.strings(
                "SELECT a.path || ' ' || t.path FROM asset a JOIN thumbnail t ON t.asset_id = a.id ORDER BY a.id"
            )
            .map { $0.split(separator: " ").map(String.init) }
            let clean = try library.mediaq(["doctor", "--verify", "all"])
            #expect(clean.status == 0, "\(clean.transcript)")

            let fm = FileManager.default
            let root = library.root
            // 1. An original without a row.
            let stray = "images/original/ee/" + String(repeating: "e", count: 64) + ".png"
            try fm.createDirectory(atPath: root + "/images/original/ee", withIntermediateDirectories: true)
            try fm.copyItem(atPath: root + "/" + rows[0][0], toPath: root + "/" + stray)
            chmod(root + "/" + stray, 0o444)
            // 2. A row without its original.
            chmod(root + "/" + rows[1][0], 0o644)
            try fm.removeItem(atPath: root + "/" + rows[1][0])
            // 3. A thumbnail missing.
            try fm.removeItem(atPath: root + "/" + rows[2][1])
            // 4. An orphaned thumbnail.
            let orphan = "images/thumbs/" + String(repeating: "d", count: 64) + ".jpg"
            try fm.copyItem(atPath: root + "/" + rows[3][1], toPath: root + "/" + orphan)
            // 5. Wrong permissions.
            chmod(root + "/" + rows[3][0], 0o664)
            // 6. A leftover temporary file.
            try fm.createDirectory(atPath: root + "/.tmp", withIntermediateDirectories: true)
            try Data("partial".utf8).write(to: URL(fileURLWithPath: root + "/.tmp/download.part"))
            // 7. A corrupt original (same name, other bytes).
            let corrupt = root + "/" + rows[4][0]
            chmod(corrupt, 0o644)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: corrupt))
            bytes[bytes.count / 2] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: corrupt))
            chmod(corrupt, 0o444)

            let expected: Set<String> = [
                "original_without_row", "row_without_original", "thumbnail_missing", "thumbnail_orphaned",
                "wrong_permissions", "temporary_leftover", "checksum_mismatch",
            ]
            let found = try library.mediaq(["doctor", "--json", "--verify", "all"])
            #expect(found.status == 1, "\(found.transcript)")
            let before = try TestLibrary.decode(DoctorOutput.self, found)
            #expect(Set(before.problems.map(\.kind)) == expected, "\(before.problems.map(\.kind))")
            #expect(!before.ok)
            let withoutVerify = try TestLibrary.decode(DoctorOutput.self, try library.mediaq(["doctor", "--json"]))
            #expect(!withoutVerify.problems.contains { $0.kind == "checksum_mismatch" }, "checksums only with --verify")

            let fixing = try library.mediaq(["doctor", "--json", "--fix", "--verify", "all"])
            #expect(fixing.status == 0, "everything found was fixed: \(fixing.transcript)")
            let fixed = try TestLibrary.decode(DoctorOutput.self, fixing)
            #expect(fixed.problems.allSatisfy { $0.fixed }, "\(fixed.problems)")
            #expect(library.exists(rows[2][1]), "the thumbnail was made again")
            #expect(!library.exists(orphan) && !library.exists(".tmp/download.part"))
            // The stray's bytes are not its name's: quarantined, not deleted.
            #expect(!library.exists(stray) && library.exists("quarantine/" + (stray as NSString).lastPathComponent))
            #expect(library.exists("quarantine/" + (rows[4][0] as NSString).lastPathComponent))
            #expect(try await library.strings("SELECT state::text FROM asset WHERE path LIKE 'quarantine/%'") == ["quarantined"])
            #expect(try await library.strings("SELECT state::text FROM asset WHERE path = '\(rows[1][0])'") == ["lost"])

            // The lost asset is settled: reported as such, not as a problem.
            let after = try library.mediaq(["doctor", "--json", "--verify", "all"])
            #expect(after.status == 0, "\(after.transcript)")
            let settled = try TestLibrary.decode(DoctorOutput.self, after)
            #expect(settled.problems.isEmpty && settled.lost == 1, "\(after.standardOutput)")
            #expect(try library.mediaq(["doctor", "--verify", "all"]).status == 0)
        }
    }

    @Test func rebaseMovesTheRecordedRootOnceRefusesAWrongRootAndTheDaemonPointsAtIt() async throws {
        try await Self.withLibrary { library in
            try library.ingestPNGs(4)
            let copy = library.folder + "/moved"
            let copied = try ChildProcess.run(["/bin/cp", "-a", library.root, copy], environment: [:])
            try #require(copied.status == 0, "\(copied.output)")
            let base = ["--database-url", library.url.urlString]

            // The daemon (and every command) refuses the copy until the move is recorded.
            let refused = try ChildProcess.run(
                [Executables.path("mediad"), "--library-root", copy] + base, environment: Executables.cleanEnvironment([:]))
            #expect(refused.status == 1, "\(refused.transcript)")
            #expect(refused.standardError.contains("mediaq rebase --from"), "\(refused.standardError)")

            // A wrong root: an empty folder, and a library that is not this one.
            try FileManager.default.createDirectory(atPath: library.folder + "/empty", withIntermediateDirectories: true)
            let empty = try Executables.mediaq(["rebase", "--from", library.root, "--to", library.folder + "/empty"] + base)
            #expect(empty.status == 1 && empty.standardError.contains("marker"), "\(empty.transcript)")
            let other = library.folder + "/other"
            try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
            try Data(#"{"libraryId":"00000000-0000-0000-0000-000000000001","createdAt":"2026-01-01T00:00:00Z","format":1}"#.utf8)
                .write(to: URL(fileURLWithPath: other + "/.media-library.json"))
            let foreign = try Executables.mediaq(["rebase", "--from", library.root, "--to", other] + base)
            #expect(foreign.status == 1, "\(foreign.transcript)")
            // A copy whose files do not match their checksums.
            let damaged = library.folder + "/damaged"
            _ = try ChildProcess.run(["/bin/cp", "-a", library.root, damaged], environment: [:])
            for path in try await library.strings("SELECT path FROM asset") {
                chmod(damaged + "/" + path, 0o644)
                try Data("not the picture".utf8).write(to: URL(fileURLWithPath: damaged + "/" + path))
            }
            let mismatch = try Executables.mediaq(["rebase", "--from", library.root, "--to", damaged] + base)
            #expect(mismatch.status == 1 && mismatch.standardError.contains("checksum"), "\(mismatch.transcript)")
            let dry = try Executables.mediaq(["rebase", "--dry-run", "--from", library.root, "--to", copy] + base)
            #expect(dry.status == 0, "\(dry.transcript)")
            #expect(try await library.integers("SELECT root_version FROM library") == [1], "refusals and dry runs change nothing")

            let moved = try Executables.mediaq(["rebase", "--json", "--from", library.root, "--to", copy] + base)
            #expect(moved.status == 0, "\(moved.transcript)")
            #expect(moved.standardOutput.contains("\"verifiedFiles\" : 4"), "\(moved.standardOutput)")
            #expect(try await library.integers("SELECT root_version FROM library") == [2])
            #expect(try await library.strings("SELECT root_path FROM library") == [LibraryOpener.canonical(copy)])
            #expect(try await library.integers("SELECT count(*) FROM rebase_history") == [1])
            let again = try Executables.mediaq(["rebase", "--from", library.root, "--to", copy] + base)
            #expect(again.status == 0 && again.standardOutput.contains("already"), "\(again.transcript)")
            #expect(try await library.integers("SELECT root_version FROM library") == [2], "idempotent")
            // The library opens at its new root, and no longer at the old one.
            let stats = try Executables.mediaq(["stats", "--library-root", copy] + base)
            #expect(stats.status == 0, "\(stats.transcript)")
            let old = try Executables.mediaq(["stats", "--library-root", library.root] + base)
            #expect(old.status == 1 && old.standardError.contains("rebase"), "\(old.transcript)")
        }
    }

    @Test func seedFillsANewLibraryWithTaggedImagesAndVideosThatStatsAndSearchSee() async throws {
        try await Self.withLibrary { library in
            let seeded = try library.mediaq(["seed", "--count", "8", "--json"])
            #expect(seeded.status == 0, "\(seeded.transcript)")
            struct Seeded: Decodable {
                let images: Int
                let videos: Int
                let ids: [Int64]
            }
            let result = try TestLibrary.decode(Seeded.self, seeded)
            #expect(result.images == 6 && result.videos == 2, "\(seeded.standardOutput)")
            struct Stats: Decodable {
                struct Group: Decodable {
                    let kind: String
                    let provider: String
                    let assets: Int
                }
                struct Budget: Decodable {
                    let usedBytes: Int64
                    let budgetBytes: Int64
                }
                struct Tag: Decodable {
                    let tag: String
                    let assets: Int
                }
                let assets: Int
                let images: Int
                let videos: Int
                let byKindAndProvider: [Group]
                let budget: Budget
                let thumbnailsMissing: Int
                let neverUsed: Int
                let tagCount: Int
                let topTags: [Tag]
            }
            let stats = try TestLibrary.decode(Stats.self, try library.mediaq(["stats", "--json"]))
            #expect(stats.assets == 8 && stats.images == 6 && stats.videos == 2)
            #expect(stats.byKindAndProvider.allSatisfy { $0.provider == "seed" })
            #expect(stats.budget.usedBytes > 0 && stats.thumbnailsMissing == 0 && stats.neverUsed == 8)
            #expect(stats.tagCount >= 6 && stats.topTags.first?.tag == "photo", "\(stats.topTags)")
            let search = try library.mediaq(["search", "videos", "--tags", "video", "--json"])
            #expect(
                search.status == 0 && search.standardOutput.components(separatedBy: "\"kind\" : \"video\"").count == 3,
                "\(search.transcript)")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }
}
