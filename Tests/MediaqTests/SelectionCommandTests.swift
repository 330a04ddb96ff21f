import Foundation
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What `mediaq search` and `mediaq plan` print with --json: the API gather reads.
struct SearchOutput: Decodable {
    struct Result: Decodable {
        struct Parts: Decodable {
            let tagAnd: Double
            let tagOr: Double
            let recency: Double
            let recencyBoost: Double
            let aspectFit: Double
            let matchedTags: Int
            let queryTags: Int
            let daysSinceLastUse: Double
        }
        let id: Int64
        let kind: String
        let sha256: String
        let path: String
        let absolutePath: String
        let thumbPath: String?
        let absoluteThumbPath: String?
        let width: Int
        let height: Int
        let durationMs: Int64?
        let tags: [String]
        let provider: String?
        let sourceUrl: String?
        let lastUsedAt: String?
        let createdAt: String
        let score: Double
        let scoreParts: Parts
    }
    let ok: Bool
    let kind: String
    let tags: [String]
    let recencyBoost: Double
    let results: [Result]
}

struct PlanOutput: Decodable, Equatable {
    struct Entry: Decodable, Equatable {
        let segmentId: String
        let kind: String
        let source: String
        let libraryId: Int64
        let path: String
        let absolutePath: String
        let provider: String?
        let sourceUrl: String?
        let score: Double
    }
    struct Missing: Decodable, Equatable {
        let kind: String
        let tags: [String]
        let localMatches: Int
        let minMatches: Int
        let limit: Int
        let minDurationSeconds: Double?
        let belowFloor: Int
        let bestLocalScore: Double?
        let bestLocalLacks: [String]
        let reason: String
    }
    struct Segment: Decodable, Equatable {
        let id: String
        let covered: [String]
        let missing: [Missing]
    }
    let ok: Bool
    let complete: Bool
    let enabled: Bool
    let manifest: [Entry]
    let segments: [Segment]
    let markedUsed: Bool
    let runId: String?
}

struct ErrorOutput: Decodable {
    struct Detail: Decodable {
        let code: String
        let message: String
    }
    let ok: Bool
    let error: Detail
}

/// A library made and filled through `mediaq`, as a new user would, with real files.
final class CommandLibrary {
    let folder: TemporaryFolder
    let root: String
    let url: DatabaseURL
    /// Configuration for every command (a small test filesystem needs a smaller reserve).
    let environment: [String: String]
    var common: [String] { ["--library-root", root, "--database-url", url.urlString] }

    /// A new library at `root` (default: in a new temporary folder, which also holds samples).
    init(url: DatabaseURL, root: String? = nil, environment: [String: String] = [:]) throws {
        folder = try TemporaryFolder()
        self.root = root ?? folder.path + "/library"
        self.url = url
        self.environment = environment
        let made = try Executables.mediaq(["db", "migrate"] + common)
        try #require(made.status == 0, "\(made.transcript)")
    }

    /// Runs mediaq in `directory` (default: the test folder), with the library options.
    func mediaq(
        _ arguments: [String], in directory: String? = nil, library: Bool = true, environment extra: [String: String] = [:]
    ) throws -> ChildProcess.Outcome {
        try ChildProcess.run(
            [Executables.path("mediaq")] + arguments + (library ? common : []),
            workingDirectory: directory ?? folder.path, environment: Executables.cleanEnvironment(environment.merging(extra) { $1 }))
    }

    func json<T: Decodable>(_ type: T.Type, _ arguments: [String], in directory: String? = nil) throws -> T {
        let outcome = try mediaq(arguments + ["--json"], in: directory)
        try #require(outcome.status == 0, "\(outcome.transcript)")
        return try JSONDecoder().decode(T.self, from: Data(outcome.standardOutput.utf8))
    }

    /// Makes a sample file and ingests it; returns its id.
    @discardableResult
    func add(
        _ name: String, tags: String, provider: String = "pexels", providerId: String? = nil, video: Bool = false,
        size: String = "640x360", seconds: Double = 2, colour: String = "red"
    ) throws -> Int64 {
        let file = folder.path + "/" + name
        if video {
            try SampleMedia.video(file, seconds: seconds, size: size, extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        } else {
            try SampleMedia.make([SampleMedia.convert, "-size", size, "xc:\(colour)", file])
        }
        var arguments = [
            "ingest", file, "--tags", tags, "--provider", provider, "--source-url", "https://\(provider).example/\(name)", "--json",
        ]
        if let providerId { arguments += ["--provider-id", providerId] }
        let outcome = try mediaq(arguments)
        try #require(outcome.status == 0, "\(outcome.transcript)")
        return try #require(try IngestOutput.decode(outcome.standardOutput).files.first?.id)
    }

    func query(_ sql: String) async throws -> [Int64] {
        let connection = try await TestDatabase.connect(url)
        var values: [Int64] = []
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
            for try await value in rows.decode(Int64.self) { values.append(value) }
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        return values
    }

    static func with(
        connections: Int = TestDatabase.defaultConnections, _ body: (CommandLibrary) async throws -> Void
    ) async throws {
        try await TestDatabase.withFresh(connections: connections) { url in
            let library = try CommandLibrary(url: url)
            defer { library.folder.remove() }
            try await body(library)
        }
    }
}

@Suite(.serialized) struct SearchCommandTests {
    @Test func searchReturnsEveryFieldBestFirstAndATable() async throws {
        try await CommandLibrary.with { library in
            let wide = try library.add("wide.mp4", tags: "Beach, sunset", video: true, size: "640x360", seconds: 3)
            let tall = try library.add("tall.mp4", tags: "beaches", provider: "pixabay", video: true, size: "360x640", seconds: 1)
            _ = try library.add("photo.png", tags: "beach")
            _ = try library.add("other.mp4", tags: "forest", video: true)

            let found = try library.json(SearchOutput.self, ["search", "videos", "--tags", "beach", "--aspect", "9:16"])
            #expect(found.ok && found.kind == "videos" && found.tags == ["beach"] && found.recencyBoost == 0.1)
            #expect(found.results.map(\.id) == [tall, wide], "the portrait clip fits 9:16")
            let first = try #require(found.results.first)
            #expect(first.kind == "video" && first.width == 360 && first.height == 640 && first.durationMs == 1000)
            #expect(first.tags == ["beaches"] && first.provider == "pixabay" && first.sourceUrl == "https://pixabay.example/tall.mp4")
            #expect(first.absolutePath == library.root + "/" + first.path)
            #expect(try ContentStore.sha256(ofFileAt: first.absolutePath) == first.sha256)
            #expect(first.absoluteThumbPath.map { FileManager.default.fileExists(atPath: $0) } == true)
            #expect(first.thumbPath.map { library.root + "/" + $0 } == first.absoluteThumbPath)
            #expect(first.lastUsedAt == nil)
            // Every field is always there, null when absent: the shape gather reads is fixed.
            let raw = try library.mediaq(["search", "videos", "--tags", "beach", "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(raw.standardOutput.utf8)) as? [String: Any]
            let firstRaw = try #require((object?["results"] as? [[String: Any]])?.first)
            #expect(
                Set(firstRaw.keys) == [
                    "id", "kind", "sha256", "path", "absolutePath", "thumbPath", "absoluteThumbPath", "width", "height",
                    "durationMs", "tags", "provider", "sourceUrl", "lastUsedAt", "createdAt", "score", "scoreParts", "matchedVia",
                ])
            #expect(object?["matching"] as? String == "exact" && object?["exactMatches"] as? Int == 2, "no relations: no fallback")
            #expect(firstRaw["lastUsedAt"] is NSNull)
            #expect(first.scoreParts.aspectFit == 0.25 && found.results[1].scoreParts.aspectFit == 0)
            #expect(first.scoreParts.tagAnd == 1 && first.scoreParts.tagOr == 1 && first.scoreParts.matchedTags == 1)
            let parts = first.scoreParts
            #expect(abs(first.score - (parts.tagAnd + 0.5 * parts.tagOr + parts.recencyBoost * parts.recency + parts.aspectFit)) < 1e-12)

            // Filters.
            let long = try library.json(SearchOutput.self, ["search", "videos", "--tags", "beach", "--min-duration", "2"])
            #expect(long.results.map(\.id) == [wide])
            let wideOnly = try library.json(SearchOutput.self, ["search", "video", "--tags", "beach", "--min-width", "600"])
            #expect(wideOnly.results.map(\.id) == [wide])
            let byProvider = try library.json(SearchOutput.self, ["search", "videos", "--tags", "beach", "--provider", "Pixabay"])
            #expect(byProvider.results.map(\.id) == [tall])
            let limited = try library.json(
                SearchOutput.self, ["search", "videos", "--tags", "beach", "--limit", "1", "--recency-boost", "0"])
            #expect(limited.results.count == 1 && limited.recencyBoost == 0)
            let none = try library.json(SearchOutput.self, ["search", "images", "--tags", "zebra"])
            #expect(none.results.isEmpty)

            // A table for people.
            let table = try library.mediaq(["search", "videos", "--tags", "beach, sunset"])
            #expect(table.status == 0, "\(table.transcript)")
            let lines = table.standardOutput.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines.first?.hasPrefix("id  score  tags  size") == true, "\(table.standardOutput)")
            #expect(lines[1].contains("2/2") && lines[1].contains("640×360") && lines[1].contains("3.0s"))
            #expect(lines[2].contains("1/2") && lines[2].contains("pixabay"))
        }
    }

    @Test(arguments: [
        (["search", "images", "--tags", "a", "--min-duration", "3"], "videos only"),
        (["search", "videos"], "--tags"),
        (["search", "videos", "--tags", "a", "--aspect", "wide"], "--aspect"),
        (["search", "videos", "--tags", "a", "--limit", "0"], "--limit"),
        (["search", "sounds", "--tags", "a"], "sounds"),
        (["search", "videos", "--tags", "a", "--recency-boost", "3"], "0 to 1"),
    ])
    func usageErrorsExitTwo(arguments: [String], mentions: String) throws {
        let outcome = try Executables.mediaq(arguments + ["--library-root", "/nonexistent/library"])
        #expect(outcome.status == 2, "\(outcome.transcript)")
        #expect(outcome.standardError.contains(mentions), "\(outcome.transcript)")
    }
}

@Suite(.serialized) struct PlanCommandTests {
    /// The issue's example: three images tagged only `people` do not cover a segment tagged
    /// `drone, ocean, waves, people`; a segment's required tag decides too; each says why.
    @Test func onlyPicksAboveTheQualityFloorCoverASegment() async throws {
        try await CommandLibrary.with { library in
            for (index, colour) in ["red", "green", "blue"].enumerated() {
                try library.add("people-\(index).png", tags: "people", colour: colour)
            }
            let beach = try ["yellow", "white", "gray"].map { try library.add("beach-\($0).png", tags: "beach, sunset", colour: $0) }
            let script = library.folder.path + "/floor.json"
            try """
            {"segments": [
              {"id": "drone", "tags": ["drone", "ocean", "waves", "people"], "media": ["image"]},
              {"id": "beach-dog", "tags": ["beach", "sunset"], "media": ["image"], "requiredTags": "dog"},
              {"id": "beach", "tags": ["beach", "sunset"], "media": ["image"]}
            ]}
            """.write(toFile: script, atomically: true, encoding: .utf8)
            let plan = try library.json(PlanOutput.self, ["plan", script, "--no-mark-used"])
            #expect(plan.segments.map(\.covered) == [[], [], ["image"]])
            #expect(Set(plan.manifest.map(\.libraryId)) == Set(beach))
            let drone = try #require(plan.segments[0].missing.first)
            #expect(drone.localMatches == 0 && drone.belowFloor == 3 && drone.bestLocalLacks == ["drone", "ocean", "waves"])
            #expect(drone.bestLocalScore != nil && drone.reason.contains("lacking drone, ocean, waves"), "\(drone)")
            #expect(plan.segments[1].missing.first?.reason.contains("lacking dog") == true, "\(plan.segments[1])")
            let table = try library.mediaq(["plan", script, "--no-mark-used"])
            #expect(table.standardOutput.contains("3 below it"), "the table says why: \(table.standardOutput)")
        }
    }

    /// Three segments: one the library covers, one it covers partly (video yes, images too
    /// few), one it does not cover at all; relative paths; --out written; uses and pins.
    @Test func plansCoversPartlyMarksUsedPinsAndWritesAtomically() async throws {
        try await CommandLibrary.with { library in
            let clip = try library.add("beach.mp4", tags: "beach, sunset", video: true, seconds: 3)
            let short = try library.add("short.mp4", tags: "beach", video: true, seconds: 1)
            let photos = try ["b1.png", "b2.png", "b3.png"].enumerated().map { index, name in
                try library.add(name, tags: "beach", colour: ["red", "green", "blue"][index])
            }
            let cityClip = try library.add("city.mp4", tags: "city", video: true, size: "320x240", seconds: 4)
            let cityPhoto = try library.add("c1.png", tags: "city", colour: "white")

            let work = library.folder.path + "/project"
            try FileManager.default.createDirectory(atPath: work + "/config", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: true)
            try
                #"{"providers": ["pexels"], "localLibrary": {"enabled": true, "minMatches": {"videos": 1, "images": 2}, "limit": {"videos": 1, "images": 2}, "preferRecencyBoost": 0.1}}"#
                .write(toFile: work + "/config/stock-assets.json", atomically: true, encoding: .utf8)
            try """
            {"aspect": "16:9", "segments": [
              {"id": "hook", "tags": ["beach", "sunset"], "durationSeconds": 2},
              {"id": "middle", "tags": "city", "durationSeconds": 3.5},
              {"id": "end", "tags": ["mountain"], "durationSeconds": 2}
            ]}
            """.write(toFile: work + "/script.json", atomically: true, encoding: .utf8)

            let outcome = try library.mediaq(
                ["plan", "script.json", "--pin", "run-7", "--out", "out/plan.json", "--json"], in: work)
            try #require(outcome.status == 0, "\(outcome.transcript)")
            let plan = try JSONDecoder().decode(PlanOutput.self, from: Data(outcome.standardOutput.utf8))
            let written = try JSONDecoder().decode(PlanOutput.self, from: Data(contentsOf: URL(fileURLWithPath: work + "/out/plan.json")))
            #expect(written == plan, "--out holds the same plan")
            #expect(try FileManager.default.contentsOfDirectory(atPath: work + "/out") == ["plan.json"], "no temporary file left")

            #expect(!plan.complete && plan.markedUsed && plan.runId == "run-7")
            // hook: the long-enough clip (not the 1 s one) and the two best of three photos.
            let hook = plan.manifest.filter { $0.segmentId == "hook" }
            #expect(hook.map(\.kind) == ["video", "image", "image"])
            #expect(hook.first?.libraryId == clip && !hook.map(\.libraryId).contains(short))
            #expect(Set(hook.dropFirst().map(\.libraryId)).isSubset(of: Set(photos)))
            #expect(plan.manifest.allSatisfy { $0.source == "local-library" && $0.absolutePath == library.root + "/" + $0.path })
            #expect(plan.manifest.allSatisfy { FileManager.default.fileExists(atPath: $0.absolutePath) })
            #expect(hook.first?.provider == "pexels" && hook.first?.sourceUrl == "https://pexels.example/beach.mp4")
            // middle: its video is covered; one city photo is fewer than minMatches 2.
            #expect(plan.manifest.filter { $0.segmentId == "middle" }.map(\.libraryId) == [cityClip])
            #expect(plan.segments[1].id == "middle" && plan.segments[1].covered == ["video"])
            let middle = try #require(plan.segments[1].missing.first)
            #expect(plan.segments[1].missing.count == 1)
            #expect(middle.kind == "image" && middle.tags == ["city"] && middle.localMatches == 1 && middle.minMatches == 2)
            #expect(middle.limit == 2 && middle.minDurationSeconds == nil && middle.belowFloor == 0 && middle.bestLocalLacks.isEmpty)
            #expect(middle.reason == "1 local image(s) clear the quality floor, 2 needed", "\(middle.reason)")
            // end: nothing local.
            #expect(plan.segments[2].covered.isEmpty)
            #expect(plan.segments[2].missing.map(\.kind) == ["video", "image"])
            #expect(plan.segments[2].missing.first?.minDurationSeconds == 2)
            #expect(Set(plan.manifest.map(\.libraryId)).count == plan.manifest.count, "no asset twice")
            #expect(!plan.manifest.map(\.libraryId).contains(cityPhoto), "too few to cover: not picked")

            // Marked used and pinned, exactly the picks.
            let picked = plan.manifest.map(\.libraryId).sorted()
            #expect(try await library.query("SELECT id FROM asset WHERE use_count = 1 ORDER BY id") == picked)
            #expect(
                try await library.query(
                    "SELECT asset_id FROM pin WHERE run_id = 'run-7' AND expires_at > now() + interval '23 hours' ORDER BY asset_id")
                    == picked)

            // Planned again: the picks were just used, so the third photo now ranks first.
            let again = try library.json(
                PlanOutput.self,
                ["plan", work + "/script.json", "--stock-config", work + "/config/stock-assets.json", "--no-mark-used", "--pin", "run-8"])
            #expect(!again.markedUsed && again.runId == "run-8")
            #expect(
                try await library.query("SELECT asset_id FROM pin WHERE run_id = 'run-8' ORDER BY asset_id")
                    == again.manifest.map(\.libraryId).sorted(), "pinned without being marked used")
            #expect(try await library.query("SELECT count(*) FROM pin WHERE run_id = 'run-8'") == [4])
            #expect(try await library.query("SELECT count(*) FROM pin WHERE run_id = 'run-7'") == [4])
            let third = try #require(Set(photos).subtracting(hook.map(\.libraryId)).first)
            #expect(again.manifest.filter { $0.segmentId == "hook" && $0.kind == "image" }.first?.libraryId == third)
            #expect(try await library.query("SELECT count(*) FROM asset WHERE use_count > 1") == [0], "--no-mark-used only looks")

            // Unpinned.
            struct Unpinned: Decodable { let unpinned: Int }
            #expect(try library.json(Unpinned.self, ["unpin", "run-7"]).unpinned == picked.count)
            #expect(try await library.query("SELECT count(*) FROM pin WHERE run_id = 'run-7'") == [0])
            #expect(try await library.query("SELECT count(*) FROM pin WHERE run_id = 'run-8'") == [4], "other runs keep theirs")
            #expect(try library.json(Unpinned.self, ["unpin", "run-7"]).unpinned == 0, "unpinning twice is not an error")

            // A person's view of the same plan.
            let text = try library.mediaq(["plan", "script.json", "--no-mark-used"], in: work)
            #expect(text.status == 0, "\(text.transcript)")
            #expect(text.standardOutput.hasPrefix("3 segment(s): 4 asset(s) from the library, 3 media type(s) to fetch online"))
            #expect(text.standardOutput.contains("middle  image  missing"))
        }
    }

    @Test func disabledInTheConfigurationListsEverythingMissing() async throws {
        try await CommandLibrary.with { library in
            _ = try library.add("beach.png", tags: "beach")
            let config = library.folder.path + "/stock.json"
            try #"{"localLibrary": {"enabled": false}}"#.write(toFile: config, atomically: true, encoding: .utf8)
            let script = library.folder.path + "/script.json"
            try #"{"segments": [{"id": "a", "tags": "beach", "media": ["image"]}]}"#.write(
                toFile: script, atomically: true, encoding: .utf8)
            let plan = try library.json(PlanOutput.self, ["plan", script, "--stock-config", config])
            #expect(!plan.enabled && plan.manifest.isEmpty && !plan.markedUsed)
            #expect(plan.segments.first?.missing.first?.localMatches == 0)
        }
    }

    @Test func badScriptAndBadConfigurationAreNamed() async throws {
        try await CommandLibrary.with { library in
            let script = library.folder.path + "/script.json"
            try #"{"segments": [{"id": "a", "tags": 5}]}"#.write(toFile: script, atomically: true, encoding: .utf8)
            let out = library.folder.path + "/plan.json"
            let bad = try library.mediaq(["plan", "script.json", "--out", out, "--json"])
            #expect(bad.status == 65, "\(bad.transcript)")
            let error = try JSONDecoder().decode(ErrorOutput.self, from: Data(bad.standardOutput.utf8))
            #expect(error.error.code == "bad_script" && error.error.message.contains("segments[0].tags"))
            #expect(!FileManager.default.fileExists(atPath: out))

            try #"{"segments": [{"id": "a", "tags": "beach"}]}"#.write(toFile: script, atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: library.folder.path + "/config", withIntermediateDirectories: true)
            try #"{"localLibrary": {"limit": {"images": "many"}}}"#.write(
                toFile: library.folder.path + "/config/stock-assets.json", atomically: true, encoding: .utf8)
            let config = try library.mediaq(["plan", "script.json"])
            #expect(config.status == 2, "\(config.transcript)")
            #expect(config.standardError.contains("localLibrary.limit.images must be a whole number"))

            let missingFolder = try library.mediaq(["plan", "script.json", "--out", "no/such/plan.json"])
            #expect(missingFolder.status == 2, "\(missingFolder.transcript)")
            #expect(missingFolder.standardError.contains("no/such/plan.json: the folder"), "\(missingFolder.transcript)")
        }
    }
}

@Suite(.serialized) struct UseKnownCommandTests {
    @Test func useMarksAllOrNothingAndKnownAnswersByProviderId() async throws {
        try await CommandLibrary.with { library in
            let a = try library.add("a.png", tags: "x", providerId: "111")
            let b = try library.add("b.png", tags: "x", provider: "pixabay", providerId: "111", colour: "blue")

            struct Used: Decodable {
                struct Use: Decodable {
                    let id: Int64
                    let useCount: Int
                }
                let used: [Use]
            }
            let used = try library.json(Used.self, ["use", String(a), String(b)])
            #expect(used.used.map(\.id) == [a, b] && used.used.allSatisfy { $0.useCount == 1 })
            let unknown = try library.mediaq(["use", String(a), "999", "--json"])
            #expect(unknown.status == 65, "\(unknown.transcript)")
            #expect(try JSONDecoder().decode(ErrorOutput.self, from: Data(unknown.standardOutput.utf8)).error.code == "not_found")
            #expect(try await library.query("SELECT use_count FROM asset ORDER BY id") == [1, 1], "nothing marked")
            let notANumber = try library.mediaq(["use", "abc"])
            #expect(notANumber.status == 2, "\(notANumber.transcript)")

            struct Known: Decodable {
                struct Asset: Decodable {
                    let providerId: String
                    let libraryId: Int64
                    let kind: String
                    let absolutePath: String
                }
                let provider: String
                let known: [Asset]
                let unknown: [String]
            }
            let known = try library.json(Known.self, ["known", "--provider", "Pexels", "222", "111"])
            #expect(known.provider == "pexels")
            #expect(known.known.map(\.libraryId) == [a] && known.known.first?.providerId == "111")
            #expect(known.known.first.map { FileManager.default.fileExists(atPath: $0.absolutePath) } == true)
            #expect(known.unknown == ["222"])
            let text = try library.mediaq(["known", "--provider", "pixabay", "111"])
            #expect(text.standardOutput.hasPrefix("known    pixabay 111 → #\(b) image"), "\(text.transcript)")
        }
    }
}

/// Every command that answers gather fails fast and cleanly when it cannot answer: exit 75
/// within 5 s, one line on standard error, a JSON error object, and no output file.
@Suite(.serialized) struct FailFastTests {
    enum Cause: String, CaseIterable {
        case databaseRefuses, databaseSilent, rootMissing, rootUnmounted
        /// No library was ever made at LIBRARY_ROOT (embedded default): none is made now.
        case noLibraryYet
        /// DATABASE_URL forgotten for a library whose database is a server: no empty embedded
        /// cluster is made in its root.
        case noEmbeddedCluster
    }

    static let commands: [[String]] = [
        ["plan", "script.json", "--out", "plan.json"],
        ["search", "videos", "--tags", "beach"],
        ["use", "1"],
        ["unpin", "run-1"],
        ["known", "--provider", "pexels", "1"],
        ["export", "1", "--to", "exported"],
    ]

    @Test(arguments: Cause.allCases)
    func everyCommandExits75Quickly(cause: Cause) async throws {
        try await CommandLibrary.with { library in
            _ = try library.add("beach.png", tags: "beach")
            try #"{"segments": [{"id": "a", "tags": "beach"}]}"#.write(
                toFile: library.folder.path + "/script.json", atomically: true, encoding: .utf8)
            var databaseURL: String? = library.url.urlString
            var root = library.root
            var listener: SilentListener?
            defer { listener?.close() }
            switch cause {
            case .databaseRefuses:
                databaseURL = "postgres://media@127.0.0.1:1/media"
            case .databaseSilent:
                listener = try SilentListener()
                databaseURL = "postgres://media@127.0.0.1:\(listener!.port)/media?connect_timeout=30"
            case .rootMissing:
                #expect(rename(library.root, library.root + ".unmounted") == 0)
            case .rootUnmounted:
                // What an unmounted drive looks like: its mount point, an empty directory.
                #expect(rename(library.root, library.root + ".unmounted") == 0)
                try FileManager.default.createDirectory(atPath: library.root, withIntermediateDirectories: false)
            case .noLibraryYet:
                root = library.folder.path + "/never-made"
                databaseURL = nil
            case .noEmbeddedCluster:
                databaseURL = nil
            }
            let expectedCode = [
                Cause.databaseRefuses: "database_unavailable", .databaseSilent: "database_timeout",
                .rootMissing: "library_root_missing", .rootUnmounted: "library_root_unmarked",
                .noLibraryYet: "library_root_missing", .noEmbeddedCluster: "database_unavailable",
            ][cause]!
            for command in Self.commands {
                let started = ContinuousClock.now
                let outcome = try ChildProcess.run(
                    [Executables.path("mediaq")] + command + ["--json", "--library-root", root]
                        + (databaseURL.map { ["--database-url", $0] } ?? []),
                    workingDirectory: library.folder.path, environment: Executables.cleanEnvironment([:]))
                let elapsed = ContinuousClock.now - started
                let name = command[0]
                #expect(outcome.status == 75, "\(name): \(outcome.transcript)")
                #expect(elapsed < .seconds(5), "\(name) took \(elapsed)")
                #expect(outcome.standardError.split(separator: "\n").count == 1, "\(name): one line: \(outcome.transcript)")
                #expect(outcome.standardError.hasPrefix("mediaq \(name): "), "\(outcome.transcript)")
                let error = try? JSONDecoder().decode(ErrorOutput.self, from: Data(outcome.standardOutput.utf8))
                #expect(error?.ok == false && error?.error.code == expectedCode, "\(name): \(outcome.transcript)")
            }
            #expect(!FileManager.default.fileExists(atPath: library.folder.path + "/plan.json"), "no manifest")
            #expect(!FileManager.default.fileExists(atPath: library.folder.path + "/exported"), "no export folder")
            #expect(try FileManager.default.contentsOfDirectory(atPath: library.folder.path).allSatisfy { !$0.hasPrefix(".plan.json") })
            if cause == .rootMissing {
                #expect(!FileManager.default.fileExists(atPath: library.root), "nothing recreated the root")
            }
            if cause == .noLibraryYet {
                #expect(!FileManager.default.fileExists(atPath: root), "no library is made by a query")
            }
            if cause == .noEmbeddedCluster {
                #expect(!FileManager.default.fileExists(atPath: root + "/.db"), "no empty embedded cluster is made")
            }
            if cause == .rootUnmounted {
                #expect(try FileManager.default.contentsOfDirectory(atPath: library.root).isEmpty, "nothing written there")
            }
        }
    }
}
