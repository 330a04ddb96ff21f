import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

/// An operator's corrections on real rows and files: `tag`, `hide` and `unhide`, all or
/// nothing, kept in the metadata files so that a rebuilt database keeps them.
@Suite(.serialized) struct CurationCommandTests {
    struct Found: Decodable {
        struct Result: Decodable { let id: Int64 }
        let results: [Result]
    }

    struct Known: Decodable {
        struct Asset: Decodable { let libraryId: Int64 }
        let known: [Asset]
    }

    static func metadata(_ library: CommandLibrary, _ id: Int64) async throws -> AssetMetadata? {
        let shown = try library.mediaq(["show", "\(id)", "--json"])
        struct Shown: Decodable {
            let sha256: String
            let kind: String
        }
        let asset = try JSONDecoder().decode(Shown.self, from: Data(shown.standardOutput.utf8))
        let kind = MediaFormat.Kind(rawValue: asset.kind) ?? .image
        return try AssetMetadata.read(at: library.root + "/" + AssetMetadata.path(sha256: asset.sha256, kind: kind))
    }

    @Test func tagAddsAndRemovesAllOrNothingAndTheMetadataFilesFollow() async throws {
        try await CommandLibrary.with { library in
            let first = try library.add("a.png", tags: "beach, sunset", providerId: "11", colour: "red")
            let second = try library.add("b.png", tags: "beach", providerId: "12", colour: "blue")
            struct Tagged: Decodable {
                struct Asset: Decodable {
                    let id: Int64
                    let tags: [String]
                }
                let assets: [Asset]
            }
            let tagged = try library.json(Tagged.self, ["tag", "\(first)", "\(second)", "--add", "Sea, Waves", "--remove", "beach"])
            #expect(tagged.assets.map(\.id) == [first, second])
            #expect(tagged.assets.map(\.tags) == [["sea", "sunset", "waves"], ["sea", "waves"]])
            #expect(try library.json(Found.self, ["search", "images", "--tags", "sea"]).results.count == 2)
            #expect(try library.json(Found.self, ["search", "images", "--tags", "beach"]).results.isEmpty)
            #expect(try await Self.metadata(library, first)?.tags == ["sea", "sunset", "waves"], "the file follows the rows")

            let unknown = try library.mediaq(["tag", "\(first)", "999", "--add", "dog", "--json"])
            #expect(unknown.status == 65 && unknown.standardOutput.contains("\"not_found\""), "\(unknown.transcript)")
            #expect(unknown.standardError.contains("999"))
            #expect(try await Self.metadata(library, first)?.tags == ["sea", "sunset", "waves"], "nothing changed")
            let nothing = try library.mediaq(["tag", "\(first)"])
            #expect(nothing.status == 2 && nothing.standardError.contains("--add or --remove"), "\(nothing.transcript)")
        }
    }

    @Test func aHiddenAssetIsNeverOfferedIsKeptAndStaysHiddenThroughAReindex() async throws {
        try await CommandLibrary.with { library in
            let hidden = try library.add("a.png", tags: "forest", providerId: "21", colour: "red")
            let shown = try library.add("b.png", tags: "forest", providerId: "22", colour: "blue")
            let hid = try library.mediaq(["hide", "\(hidden)", "--json"])
            #expect(hid.status == 0 && hid.standardOutput.contains("\"changed\" : [\n    \(hidden)\n  ]"), "\(hid.transcript)")
            #expect(try library.json(Found.self, ["search", "images", "--tags", "forest"]).results.map(\.id) == [shown])
            let known = try library.json(Known.self, ["known", "--provider", "pexels", "21", "22"])
            #expect(known.known.map(\.libraryId) == [shown], "known does not offer it either")
            let script = library.folder.path + "/script.json"
            try #"{"segments": [{"id": "s", "tags": ["forest"], "media": ["image"]}]}"#.write(
                toFile: script, atomically: true, encoding: .utf8)
            let plan = try library.mediaq(["plan", script, "--no-mark-used", "--json"])
            #expect(plan.status == 0 && !plan.standardOutput.contains("\"libraryId\" : \(hidden),"), "\(plan.transcript)")
            #expect(try await Self.metadata(library, hidden)?.hidden == true)
            #expect(try await Self.metadata(library, shown)?.hidden == nil)
            let sha = try #require(try await Self.metadata(library, hidden)?.sha256)
            let original = library.root + "/images/original/" + sha.prefix(2) + "/" + sha + ".png"
            #expect(FileManager.default.fileExists(atPath: original), "kept on disk")

            // A lost database rebuilt from the files keeps it hidden.
            try await TestDatabase.withFresh { lostURL in
                let rebuilt = try CommandLibrary(url: lostURL, root: library.root)
                let reindex = try rebuilt.mediaq(["reindex", "--json"])
                #expect(reindex.status == 0, "\(reindex.transcript)")
                let found = try rebuilt.json(Found.self, ["search", "images", "--tags", "forest"]).results
                #expect(found.count == 1, "the rebuilt library still hides one: \(found.map(\.id))")
            }

            let unhid = try library.mediaq(["unhide", "\(hidden)", "--json"])
            #expect(unhid.status == 0, "\(unhid.transcript)")
            #expect(Set(try library.json(Found.self, ["search", "images", "--tags", "forest"]).results.map(\.id)) == [hidden, shown])
            #expect(try await Self.metadata(library, hidden)?.hidden == nil)
            #expect(try library.mediaq(["hide", "\(hidden)", "12345"]).status == 65, "all or nothing")
            #expect(try library.json(Found.self, ["search", "images", "--tags", "forest"]).results.count == 2)
        }
    }

    struct Scored: Decodable {
        struct Result: Decodable {
            struct Parts: Decodable { let rating: Int }
            let id: Int64
            let score: Double
            let scoreParts: Parts
        }
        let results: [Result]
    }

    @Test func aRatingRaisesAnAssetAmongEqualMatchesBoundedBelowTheTagTermsAndSurvivesAReindex() async throws {
        try await CommandLibrary.with { library in
            let first = try library.add("a.png", tags: "beach, sunset", colour: "red")
            let second = try library.add("b.png", tags: "beach, sunset", colour: "blue")
            let partial = try library.add("c.png", tags: "beach", colour: "green")
            let before = try library.json(Scored.self, ["search", "images", "--tags", "beach,sunset"]).results
            #expect(Set(before.prefix(2).map(\.id)) == [first, second] && before.last?.id == partial)
            let (top, runnerUp) = (before[0].id, before[1].id)

            // The runner-up and the partial match, rated 5, gain 0.2; the partial one stays last.
            #expect(try library.mediaq(["rate", "\(runnerUp)", "\(partial)", "5"]).status == 0)
            let rated = try library.json(Scored.self, ["search", "images", "--tags", "beach,sunset"]).results
            #expect(rated.map(\.id) == [runnerUp, top, partial], "the rated full match first; the partial one still last")
            #expect(rated.map(\.scoreParts.rating) == [5, 0, 5])
            #expect(abs(rated[0].score - before[1].score - Scoring.ratingWeight) < 1e-6, "recency moves by the second")
            struct Shown: Decodable { let rating: Int }
            #expect(try library.json(Shown.self, ["show", "\(runnerUp)"]).rating == 5)
            #expect(try await Self.metadata(library, runnerUp)?.rating == 5, "the metadata file follows")
            #expect(try await Self.metadata(library, top)?.rating == nil)

            let outOfRange = try library.mediaq(["rate", "\(top)", "6"])
            #expect(outOfRange.status == 2 && outOfRange.standardError.contains("0 to 5"), "\(outOfRange.transcript)")
            #expect(try library.mediaq(["rate", "\(top)", "999", "3"]).status == 65, "all or nothing")
            #expect(try library.json(Shown.self, ["show", "\(top)"]).rating == 0)

            try await TestDatabase.withFresh { lostURL in
                let rebuilt = try CommandLibrary(url: lostURL, root: library.root)
                #expect(try rebuilt.mediaq(["reindex"]).status == 0)
                let found = try rebuilt.json(Scored.self, ["search", "images", "--tags", "beach,sunset"]).results
                #expect(found.map(\.scoreParts.rating) == [5, 0, 5], "the ratings came back from the metadata files")
            }
            #expect(try library.mediaq(["rate", "\(runnerUp)", "0"]).status == 0)
            #expect(try await Self.metadata(library, runnerUp)?.rating == nil, "0 clears it")
        }
    }

    @Test func rmRemovesNowAndAPinMakesItRefuseUnlessForced() async throws {
        try await CommandLibrary.with { library in
            let pinned = try library.add("a.png", tags: "forest", colour: "red")
            let free = try library.add("b.png", tags: "meadow", colour: "blue")
            let pin = try library.mediaq(["use", "\(pinned)", "--pin", "run-1"])
            #expect(pin.status == 0, "\(pin.transcript)")
            #expect(try await library.query("SELECT asset_id FROM pin WHERE run_id = 'run-1'") == [pinned])
            let sha = try #require(try await Self.metadata(library, pinned)?.sha256)
            let files = [
                "images/original/\(sha.prefix(2))/\(sha).png", "images/thumbs/\(sha).jpg", AssetMetadata.path(sha256: sha, kind: .image),
            ]
            for file in files { #expect(FileManager.default.fileExists(atPath: library.root + "/" + file), "\(file)") }

            let refused = try library.mediaq(["rm", "\(free)", "\(pinned)", "--json"])
            #expect(refused.status == 75 && refused.standardOutput.contains("\"pinned\""), "\(refused.transcript)")
            #expect(refused.standardError.contains("run-1"), "names the run")
            #expect(try await library.query("SELECT id FROM asset ORDER BY id") == [pinned, free], "all or nothing")
            let preview = try library.mediaq(["rm", "\(pinned)", "--dry-run"])
            #expect(preview.status == 0 && preview.standardOutput.contains("pinned by run-1"), "\(preview.transcript)")
            #expect(try await library.query("SELECT count(*) FROM asset") == [2], "a dry run changes nothing")

            let forced = try library.mediaq(["rm", "\(pinned)", "--force", "--json"])
            #expect(forced.status == 0, "\(forced.transcript)")
            #expect(forced.standardOutput.contains("\"pinnedBy\" : [\n        \"run-1\""), "\(forced.standardOutput)")
            for file in files { #expect(!FileManager.default.fileExists(atPath: library.root + "/" + file), "\(file) is gone") }
            #expect(try library.mediaq(["rm", "\(free)"]).status == 0)
            #expect(try await library.query("SELECT count(*) FROM asset") == [0])
            #expect(try library.mediaq(["rm", "\(free)"]).status == 65, "already gone")
            #expect(try library.mediaq(["doctor"]).status == 0)
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    @Test func aBlockedFileIsRefusedWhenDroppedAgainByBytesOrProviderIdUntilUnblocked() async throws {
        try await CommandLibrary.with { library in
            let blocked = try library.add("a.png", tags: "forest", providerId: "41", colour: "red")
            let copy = library.folder.path + "/copy.png"
            try FileManager.default.copyItem(atPath: library.folder.path + "/a.png", toPath: copy)
            let sha = try #require(try await Self.metadata(library, blocked)?.sha256)
            let block = try library.mediaq(["block", "\(blocked)", "--json"])
            #expect(block.status == 0, "\(block.transcript)")
            #expect(try await library.query("SELECT count(*) FROM asset") == [0])
            let list = try String(contentsOfFile: library.root + "/blocked.json", encoding: .utf8)
            #expect(list.contains(sha) && list.contains("\"41\""), "\(list)")

            // The same bytes through mediaq ingest, and another file under the blocked provider id.
            let again = try library.mediaq(["ingest", copy, "--json"])
            let document = try IngestOutput.decode(again.standardOutput)
            #expect(again.status == 65 && document.files.first?.error?.code == "blocked", "\(again.transcript)")
            #expect(document.files.first?.error?.message.contains("#\(blocked)") == true)
            try SampleMedia.make([SampleMedia.convert, "-size", "640x360", "xc:yellow", library.folder.path + "/other.png"])
            let sameId = try library.mediaq([
                "ingest", library.folder.path + "/other.png", "--provider", "pexels", "--provider-id", "41", "--json",
            ])
            #expect(sameId.status == 65 && sameId.standardOutput.contains("\"blocked\""), "\(sameId.transcript)")

            // Through mediad: the drop is refused with a rejection receipt, nothing stored.
            let drop = library.folder.path + "/drop"
            try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
            let daemon = try RunningDaemon(
                folder: library.folder.path, arguments: library.common + ["--drop-dir", drop], environment: library.environment)
            guard daemon.waitReady() else { return }
            let staged = library.folder.path + "/staged.png"
            try FileManager.default.copyItem(atPath: copy, toPath: staged)
            #expect(rename(staged, drop + "/again.png") == 0)
            let reason = drop + "/.rejected/again.png.error.json"
            let refused = try await Drops.waitUntil(60) { FileManager.default.fileExists(atPath: reason) }
            let outcome = daemon.stop()
            let why = (try? String(contentsOfFile: reason, encoding: .utf8)) ?? ""
            #expect(refused && why.contains("\"blocked\"") && why.contains(sha), "\(why) \(outcome.transcript)")
            #expect(FileManager.default.fileExists(atPath: drop + "/.rejected/again.png"), "the drop is kept, not lost")
            #expect(try await library.query("SELECT count(*) FROM asset") == [0])

            // A database rebuilt from the files still refuses it.
            try await TestDatabase.withFresh { lostURL in
                let rebuilt = try CommandLibrary(url: lostURL, root: library.root)
                let reindex = try rebuilt.mediaq(["reindex", "--json"])
                #expect(reindex.status == 0 && reindex.standardOutput.contains("\"blocksRestored\" : 1"), "\(reindex.transcript)")
                #expect(try rebuilt.mediaq(["ingest", copy]).status == 65)
            }

            struct Blocked: Decodable {
                struct Entry: Decodable { let sha256: String }
                let blocked: [Entry]
            }
            #expect(try library.json(Blocked.self, ["blocked"]).blocked.map(\.sha256) == [sha])
            #expect(try library.mediaq(["unblock", String(repeating: "0", count: 64)]).status == 65)
            #expect(try library.mediaq(["unblock", sha]).status == 0)
            #expect(try library.json(Blocked.self, ["blocked"]).blocked.isEmpty)
            #expect(try library.mediaq(["ingest", copy]).status == 0, "unblocked: it may come again")
            try await LibraryConsistency.expectConsistent(root: library.root, url: library.url)
        }
    }

    /// Hours from now until each pin of `run` expires, by asset id.
    static func pinHours(_ library: CommandLibrary, run: String) async throws -> [Int64: Double] {
        let rows = try await library.query(
            """
            SELECT asset_id * 1000000 + round(extract(epoch FROM expires_at - now()) / 36)::int8
            FROM pin WHERE run_id = '\(run)' ORDER BY asset_id
            """)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0 / 1_000_000, Double($0 % 1_000_000) / 100) })
    }

    @Test func whatARunReusesIsPinnedForAsLongAsConfiguredAndPinsNeverShorten() async throws {
        try await CommandLibrary.with { library in
            let first = try library.add("a.png", tags: "forest", providerId: "51", colour: "red")
            let second = try library.add("b.png", tags: "forest", providerId: "52", colour: "blue")

            // known --pin: what gather reuses instead of downloading is held for the run (24 h by default).
            struct Known: Decodable {
                let unknown: [String]
                let blocked: [String]
            }
            let known = try library.json(Known.self, ["known", "--provider", "pexels", "--pin", "run-k", "51", "52", "99"])
            #expect(known.unknown == ["99"] && known.blocked.isEmpty)
            let reused = try await Self.pinHours(library, run: "run-k")
            #expect(Set(reused.keys) == [first, second] && reused.values.allSatisfy { abs($0 - 24) < 0.02 }, "\(reused)")

            // localLibrary.pinHours from the pipeline's stock-assets.json, and --pin-hours over it.
            try FileManager.default.createDirectory(atPath: library.folder.path + "/config", withIntermediateDirectories: true)
            try #"{"localLibrary": {"pinHours": 2}}"#.write(
                toFile: library.folder.path + "/config/stock-assets.json", atomically: true, encoding: .utf8)
            #expect(try library.mediaq(["use", "\(first)", "--pin", "run-u"]).status == 0)
            #expect(abs((try await Self.pinHours(library, run: "run-u")[first] ?? 0) - 2) < 0.02)
            #expect(try library.mediaq(["pin", "run-u", "\(second)", "--pin-hours", "0.5"]).status == 0)
            #expect(abs((try await Self.pinHours(library, run: "run-u")[second] ?? 0) - 0.5) < 0.02)

            // --extend: every pin of the run for the new lifetime; a pin never shortens.
            let extended = try library.mediaq(["pin", "--extend", "run-u", "--pin-hours", "10", "--json"])
            #expect(extended.status == 0 && extended.standardOutput.contains("\"extended\" : 2"), "\(extended.transcript)")
            #expect(try await Self.pinHours(library, run: "run-u").values.allSatisfy { abs($0 - 10) < 0.02 })
            #expect(try library.mediaq(["pin", "--extend", "run-u", "--pin-hours", "1"]).status == 0)
            #expect(try await Self.pinHours(library, run: "run-u").values.allSatisfy { abs($0 - 10) < 0.02 }, "not shortened")

            struct Pins: Decodable {
                struct Run: Decodable {
                    let runId: String
                    let assets: [Int64]
                }
                let runs: [Run]
            }
            let pins = try library.json(Pins.self, ["pins"]).runs
            #expect(pins.map(\.runId) == ["run-u", "run-k"], "the soonest to expire first")
            #expect(pins.allSatisfy { $0.assets == [first, second] })
            #expect(try library.json(Pins.self, ["pins", "--run", "run-k"]).runs.map(\.runId) == ["run-k"])

            #expect(try library.mediaq(["pin", "run-x", "\(first)", "9999"]).status == 65, "all or nothing")
            #expect(try await Self.pinHours(library, run: "run-x").isEmpty)
            #expect(try library.mediaq(["pin", "run-x"]).status == 2, "ids or --extend")
            #expect(try library.mediaq(["use", "\(first)", "--pin", "run-x", "--pin-hours", "9000"]).status == 2)
            try #"{"localLibrary": {"pinHours": 0}}"#.write(
                toFile: library.folder.path + "/config/stock-assets.json", atomically: true, encoding: .utf8)
            let bad = try library.mediaq(["use", "\(first)", "--pin", "run-x"])
            #expect(bad.status == 2 && bad.standardError.contains("localLibrary.pinHours"), "\(bad.transcript)")

            // A blocked provider id is neither known nor unknown: gather must not download it.
            #expect(try library.mediaq(["block", "\(second)", "--force"]).status == 0)
            let after = try library.json(Known.self, ["known", "--provider", "pexels", "51", "52", "99"])
            #expect(after.blocked == ["52"] && after.unknown == ["99"], "\(after)")
        }
    }
}
