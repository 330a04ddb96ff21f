import Foundation
@testable import MediaCore
import MediaTestHarness
import MediaTestSupport
import Testing

/// A library held in memory and searched with the reference ranking, for the plan's pure
/// selection rules (the SQL is held to the same ranking by `SearchSQLTests`).
struct InMemoryLibrary: Sendable {
    var candidates: [RankingCandidate]
    /// The relations between tags the fallback reads (`tag_relation`).
    var relations: [RelatedTags.Relation] = []

    func search(_ request: SearchRequest) throws(MediaError) -> [ScoredAsset] {
        try request.validate()
        let byId = Dictionary(uniqueKeysWithValues: candidates.map { ($0.id, $0) })
        var related = RelatedTags(query: request.tags, relations: request.matching == .related ? relations : [])
        let ranked = Scoring.rank(candidates, for: request, related: related.isEmpty ? nil : related)
        if related.isEmpty { related = RelatedTags(query: request.tags, relations: []) }
        return ranked.map { id, parts in
            let asset = byId[id]!
            let path = "\(asset.kind == .video ? "videos" : "images")/original/00/\(id).\(asset.kind == .video ? "mp4" : "jpg")"
            return ScoredAsset(
                id: id, kind: asset.kind, sha256: String(repeating: "0", count: 64), path: path,
                absolutePath: "/library/" + path, thumbPath: nil, absoluteThumbPath: nil, width: asset.width,
                height: asset.height, durationMs: asset.durationMs, tags: asset.tags.sorted(),
                provider: asset.providers.sorted().first, sourceUrl: nil, lastUsedAt: asset.lastUsedAt,
                createdAt: asset.createdAt, score: parts.score, scoreParts: parts,
                matchedVia: related.matches(in: asset.tags).compactMap { $0 })
        }
    }
}

@Suite struct PlannerTests {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func video(_ id: Int64, _ tags: Set<String>, seconds: Double = 10, size: (Int, Int) = (1080, 1920)) -> RankingCandidate {
        RankingCandidate(
            id: id, kind: .video, width: size.0, height: size.1, durationMs: Int64(seconds * 1000), tags: tags,
            providers: ["pexels"], createdAt: now.addingTimeInterval(-Double(id) * 86_400))
    }

    static func image(_ id: Int64, _ tags: Set<String>) -> RankingCandidate {
        RankingCandidate(
            id: id, kind: .image, width: 1080, height: 1920, tags: tags, providers: ["unsplash"],
            createdAt: now.addingTimeInterval(-Double(id) * 86_400))
    }

    var settings: LocalLibrarySettings {
        var settings = LocalLibrarySettings()
        settings.minMatches = .init(videos: 1, images: 3)
        settings.limit = .init(videos: 2, images: 4)
        return settings
    }

    func plan(
        _ library: [RankingCandidate], _ segments: [PlanScript.Segment], settings: LocalLibrarySettings? = nil,
        relations: [RelatedTags.Relation] = []
    ) async throws -> Plan {
        let memory = InMemoryLibrary(candidates: library, relations: relations)
        return try await Planner.plan(
            PlanScript(segments: segments, aspect: 9.0 / 16, aspectText: "9:16"), settings: settings ?? self.settings,
            asOf: Self.now
        ) { request throws(MediaError) in try memory.search(request) }
    }

    @Test func coveredSegmentsPickTheBestUpToTheLimit() async throws {
        let library = [
            Self.video(1, ["beach", "sunset"]), Self.video(2, ["beach"]), Self.video(3, ["beach", "sunset"]),
            Self.image(10, ["beach"]), Self.image(11, ["sunsets"]), Self.image(12, ["beach", "sunset"]),
            Self.image(13, ["beach"]), Self.image(14, ["sea"]),
        ]
        let result = try await plan(library, [.init(id: "hook", tags: ["beach", "sunset"], durationSeconds: 4)])
        #expect(result.complete)
        #expect(result.segments == [.init(id: "hook", covered: [.video, .image], missing: [])])
        // Videos first: the two with both tags (3, added longer ago, before 1: less recently
        // used); then the four images that match, the one with both tags first.
        #expect(result.manifest.map(\.libraryId) == [3, 1, 12, 13, 11, 10])
        #expect(result.manifest.allSatisfy { $0.source == "local-library" && $0.segmentId == "hook" })
        #expect(result.manifest.map(\.kind) == [.video, .video, .image, .image, .image, .image])
    }

    @Test func tooFewMatchesPickNothingAndSayWhatIsMissing() async throws {
        let library = [Self.video(1, ["beach"]), Self.image(10, ["beach"]), Self.image(11, ["beach"])]
        let result = try await plan(library, [.init(id: "s1", tags: ["Beach", "waves"], durationSeconds: 2.5)])
        #expect(!result.complete)
        #expect(result.manifest.map(\.libraryId) == [1])
        #expect(result.segments[0].covered == [.video])
        let missing = try #require(result.segments[0].missing.first)
        #expect(result.segments[0].missing.count == 1)
        #expect(missing.kind == .image && missing.tags == ["beach", "waves"] && missing.localMatches == 2)
        #expect(missing.minMatches == 3 && missing.limit == 4 && missing.minDurationSeconds == nil)
        #expect(missing.minWidth == 0 && missing.minHeight == 0 && missing.aspect == "9:16")
        #expect(missing.belowFloor == 0 && missing.bestLocalLacks == ["waves"] && missing.bestLocalScore != nil)
        #expect(missing.reason == "2 local image(s) clear the quality floor, 3 needed", "\(missing.reason)")
    }

    // MARK: - Related tags

    static let seaIsOcean = [RelatedTags.Relation(term: "sea", related: "ocean", relation: "synonym", source: "wordnet", weight: 0.9)]

    @Test func aSegmentInOtherWordsIsCoveredThroughRelatedTagsAndSaysWhy() async throws {
        let library = (10..<13).map { Self.image(Int64($0), ["ocean", "waves"]) }
        let segment = PlanScript.Segment(id: "s", tags: ["sea"], media: [.image])
        let result = try await plan(library, [segment], relations: Self.seaIsOcean)
        #expect(result.segments[0].covered == [.image] && result.segments[0].coveredThroughRelatedTags == [.image])
        #expect(result.manifest.count == 3)
        #expect(
            result.manifest.allSatisfy {
                $0.matchedVia == [
                    .init(queryTag: "sea", tag: "ocean", relation: "synonym", source: "wordnet", related: "ocean", value: 0.44921875)
                ]
            })
        // Turned off (`localLibrary.relatedTags: false`, `plan --exact`): missing, as before.
        var exact = settings
        exact.relatedTags = false
        let off = try await plan(library, [segment], settings: exact, relations: Self.seaIsOcean)
        #expect(off.manifest.isEmpty && off.segments[0].missing.first?.localMatches == 0)
    }

    @Test func enoughExactMatchesNeverLookFurther() async throws {
        let library = (10..<13).map { Self.image(Int64($0), ["sea"]) } + (20..<23).map { Self.image(Int64($0), ["ocean"]) }
        let result = try await plan(library, [.init(id: "s", tags: ["sea"], media: [.image])], relations: Self.seaIsOcean)
        #expect(Set(result.manifest.map(\.libraryId)) == [10, 11, 12], "only the exact matches, the limit notwithstanding")
        #expect(result.segments[0].coveredThroughRelatedTags.isEmpty)
        #expect(result.manifest.allSatisfy { $0.matchedVia.map(\.relation) == ["exact"] })
    }

    @Test func aRelatedTagCountsTowardTheShareButNeverForARequiredTag() async throws {
        let library = (10..<13).map { Self.image(Int64($0), ["ocean"]) }
        // One of two segment tags through a relation: half, the default share.
        let shared = try await plan(library, [.init(id: "s", tags: ["sea", "waves"], media: [.image])], relations: Self.seaIsOcean)
        #expect(shared.segments[0].covered == [.image], "\(shared.segments[0].missing.map(\.reason))")
        let required = try await plan(
            library, [.init(id: "s", tags: ["sea"], media: [.image], requiredTags: ["sea"])], relations: Self.seaIsOcean)
        let missing = try #require(required.segments[0].missing.first)
        #expect(required.manifest.isEmpty && missing.belowFloor == 3 && missing.bestLocalLacks == ["sea"], "\(missing)")
    }

    // MARK: - The quality floor

    @Test func threeImagesTaggedOnlyPeopleDoNotCoverADroneOceanWavesPeopleSegment() async throws {
        let library = [Self.image(10, ["people"]), Self.image(11, ["people"]), Self.image(12, ["people"])]
        let result = try await plan(library, [.init(id: "s", tags: ["drone", "ocean", "waves", "people"], media: [.image])])
        #expect(result.manifest.isEmpty, "nothing irrelevant is shipped")
        let missing = try #require(result.segments[0].missing.first)
        #expect(missing.localMatches == 0 && missing.belowFloor == 3)
        #expect(missing.bestLocalLacks == ["drone", "ocean", "waves"])
        let best = try #require(missing.bestLocalScore)
        #expect(missing.reason.contains("(score \(String(format: "%.3f", best)))"), "the reason names the best score: \(missing.reason)")
        #expect(
            missing.reason.hasPrefix("0 local image(s) clear the quality floor, 3 needed; 3 below it, the best of those (score 0.")
                && missing.reason.hasSuffix("lacking drone, ocean, waves"), "\(missing.reason)")
    }

    /// (segment tags, required tags, the tags of three local images, minTagShare, minScore, covered)
    static let floorCases: [([String], [String], Set<String>, Double, Double?, Bool)] = [
        (["beach", "sunset"], [], ["beach"], 0.5, nil, true),  // one of two: half
        (["beach", "sunset", "palm"], [], ["beach"], 0.5, nil, false),  // one of three: under half
        (["beach", "sunset", "palm"], [], ["beach", "palms"], 0.5, nil, true),  // forms count: palms is palm
        (["beach", "sunset", "palm"], [], ["beach"], 0.3, nil, true),
        (["beach"], [], ["forest"], 0, nil, false),  // at least one tag, whatever the share
        (["beach", "sunset"], ["sunset"], ["beach"], 0.5, nil, false),  // the required tag is missing
        (["beach", "sunset"], ["sunset"], ["beach", "sunset"], 0.5, nil, true),
        (["beach", "sunset"], ["dog"], ["beach", "sunset"], 0.5, nil, false),  // required beyond the tags
        (["beach", "sunset"], [], ["beach", "sunset"], 0.5, 5.0, false),  // under the minimum score
        (["beach", "sunset"], [], ["beach", "sunset"], 0.5, 0.5, true),
    ]

    @Test(arguments: floorCases.indices)
    func theFloorDecidesCoverage(_ index: Int) async throws {
        let (tags, required, assetTags, share, minScore, covered) = Self.floorCases[index]
        var settings = settings
        settings.minTagShare = share
        settings.minScore = minScore
        let library = (10..<13).map { Self.image(Int64($0), assetTags) }
        let result = try await plan(library, [.init(id: "s", tags: tags, media: [.image], requiredTags: required)], settings: settings)
        #expect(result.segments[0].covered == (covered ? [.image] : []), "case \(index): \(result.segments[0].missing.map(\.reason))")
        #expect(result.manifest.count == (covered ? 3 : 0))
    }

    @Test func onlyResultsAboveTheFloorArePicked() async throws {
        // Two good images and two that carry one tag of three: with minMatches 2, the two good
        // ones cover the segment and the others are not picked even though the limit allows.
        var settings = settings
        settings.minMatches = .init(videos: 1, images: 2)
        let library = [
            Self.image(10, ["beach", "sunset", "palm"]), Self.image(11, ["beach", "sunset"]), Self.image(12, ["beach"]),
            Self.image(13, ["palm"]),
        ]
        let result = try await plan(library, [.init(id: "s", tags: ["beach", "sunset", "palm"], media: [.image])], settings: settings)
        #expect(result.manifest.map(\.libraryId) == [10, 11])
    }

    @Test func nothingLocalListsEverythingMissing() async throws {
        let result = try await plan([Self.video(1, ["forest"])], [.init(id: "s1", tags: ["beach"], durationSeconds: 3)])
        #expect(result.manifest.isEmpty)
        #expect(result.segments[0].covered.isEmpty)
        #expect(result.segments[0].missing.map(\.kind) == [.video, .image])
        #expect(result.segments[0].missing[0].minDurationSeconds == 3)
        #expect(result.segments[0].missing.map(\.localMatches) == [0, 0])
    }

    @Test func noAssetIsPickedTwiceInOnePlan() async throws {
        let library = [Self.video(1, ["beach"]), Self.video(2, ["beach"]), Self.video(3, ["beach"])]
        let segments: [PlanScript.Segment] = [
            .init(id: "a", tags: ["beach"], media: [.video]), .init(id: "b", tags: ["beach"], media: [.video]),
            .init(id: "c", tags: ["beach"], media: [.video]),
        ]
        let result = try await plan(library, segments)
        // Equal but for their age: the longest unused first.
        #expect(result.manifest.map(\.libraryId) == [3, 2, 1])
        #expect(result.manifest.map(\.segmentId) == ["a", "a", "b"])
        #expect(Set(result.manifest.map(\.libraryId)).count == result.manifest.count)
        #expect(result.segments[2].missing.map(\.kind) == [.video], "the third segment finds nothing left")
    }

    @Test func aVideoMustBeLongEnoughForItsSegment() async throws {
        let library = [Self.video(1, ["beach"], seconds: 3), Self.video(2, ["beach"], seconds: 8)]
        let result = try await plan(library, [.init(id: "long", tags: ["beach"], durationSeconds: 5, media: [.video])])
        #expect(result.manifest.map(\.libraryId) == [2])
    }

    @Test func disabledSearchesNothing() async throws {
        var settings = settings
        settings.enabled = false
        let result = try await plan([Self.video(1, ["beach"])], [.init(id: "s", tags: ["beach"])], settings: settings)
        #expect(!result.enabled)
        #expect(result.manifest.isEmpty)
        #expect(result.segments[0].missing.map(\.kind) == [.video, .image])
    }
}

@Suite struct LocalLibrarySettingsTests {
    func parse(_ text: String) throws(MediaError) -> LocalLibrarySettings {
        try LocalLibrarySettings.parse(Data(text.utf8), file: "stock-assets.json")
    }

    func error(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            #expect(error.code == .invalidConfiguration)
            return error.message
        }
    }

    @Test func theHandOffsBlockAndDefaults() throws {
        let settings = try parse(
            """
            {"providers": [{"name": "pexels"}], "localLibrary": {"enabled": true,
             "minMatches": {"videos": 2, "images": 4}, "limit": {"videos": 3, "images": 6}, "preferRecencyBoost": 0.25}}
            """)
        #expect(settings.enabled && settings.minMatches == .init(videos: 2, images: 4))
        #expect(settings.limit == .init(videos: 3, images: 6) && settings.preferRecencyBoost == 0.25)
        let defaults = try parse(#"{"other": 1}"#)
        #expect(defaults.minMatches == .init(videos: 1, images: 3) && defaults.limit == .init(videos: 3, images: 5))
        #expect(defaults.preferRecencyBoost == 0.1 && defaults.enabled)
        let partial = try parse(#"{"localLibrary": {"minMatches": {"images": 2}}}"#)
        #expect(partial.minMatches == .init(videos: 1, images: 2))
    }

    @Test(arguments: [
        (
            #"{"localLibrary": {"minMatch": 1}}"#,
            "stock-assets.json: localLibrary.minMatch is not a setting; the settings are enabled, minMatches, limit, preferRecencyBoost, minTagShare, minScore, pinHours, relatedTags"
        ),
        (#"{"localLibrary": {"enabled": "yes"}}"#, "stock-assets.json: localLibrary.enabled must be true or false, not \"yes\""),
        (
            #"{"localLibrary": {"minMatches": {"images": "three"}}}"#,
            "stock-assets.json: localLibrary.minMatches.images must be a whole number from 1 to 100, not \"three\""
        ),
        (
            #"{"localLibrary": {"minMatches": {"videos": 0}}}"#,
            "stock-assets.json: localLibrary.minMatches.videos must be a whole number from 1 to 100, not 0"
        ),
        (
            #"{"localLibrary": {"limit": {"images": 2.5}}}"#,
            "stock-assets.json: localLibrary.limit.images must be a whole number from 1 to 100, not 2.5"
        ),
        (
            #"{"localLibrary": {"limit": {"audio": 2}}}"#,
            "stock-assets.json: localLibrary.limit.audio is not a media type; use videos and images"
        ),
        (
            #"{"localLibrary": {"limit": 3}}"#,
            "stock-assets.json: localLibrary.limit must be an object such as {\"videos\": 1, \"images\": 3}, not 3"
        ),
        (
            #"{"localLibrary": {"limit": {"images": 2}}}"#,
            "stock-assets.json: localLibrary.limit.images (2) must be at least localLibrary.minMatches.images (3): a covered media type takes at least minMatches assets"
        ),
        (
            #"{"localLibrary": {"preferRecencyBoost": 2}}"#,
            "stock-assets.json: localLibrary.preferRecencyBoost must be a number from 0 to 1, not 2"
        ),
        (#"{"localLibrary": []}"#, "stock-assets.json: localLibrary must be an object, not a list"),
        (#"{"localLibrary": "#, "stock-assets.json: not valid JSON"),
        (#"[1]"#, "stock-assets.json: must be a JSON object"),
    ])
    func errorsNameTheKey(text: String, message: String) {
        #expect(error(text) == message)
    }

    @Test func loadsTheDefaultFileOnlyWhenItIsThere() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        #expect(try LocalLibrarySettings.load(explicitFile: nil, workingDirectory: folder.path) == LocalLibrarySettings())
        try FileManager.default.createDirectory(atPath: folder.path + "/config", withIntermediateDirectories: true)
        try #"{"localLibrary": {"limit": {"videos": 7}}}"#.write(
            toFile: folder.path + "/config/stock-assets.json", atomically: true, encoding: .utf8)
        let found = try LocalLibrarySettings.load(explicitFile: nil, workingDirectory: folder.path)
        #expect(found.limit.videos == 7 && found.file == folder.path + "/config/stock-assets.json")
        #expect(throws: MediaError.self) {
            try LocalLibrarySettings.load(explicitFile: "nope.json", workingDirectory: folder.path)
        }
    }
}

@Suite struct PlanScriptTests {
    func parse(_ text: String) throws(MediaError) -> PlanScript {
        try PlanScript.parse(Data(text.utf8), file: "s.json")
    }

    @Test func aFullScript() throws {
        let script = try parse(
            """
            {"title": "ignored", "aspect": "9:16", "minWidth": 720, "minHeight": 1280, "segments": [
              {"id": "hook", "tags": ["Beach", "sunset"], "durationSeconds": 4.5, "media": ["image", "video"], "text": "…"},
              {"id": "outro", "tags": "city, night"}
            ]}
            """)
        #expect(script.aspect == 0.5625 && script.aspectText == "9:16")
        #expect(script.minWidth == 720 && script.minHeight == 1280)
        #expect(
            script.segments == [
                .init(id: "hook", tags: ["Beach", "sunset"], durationSeconds: 4.5, media: [.video, .image]),
                .init(id: "outro", tags: ["city, night"], durationSeconds: nil, media: [.video, .image]),
            ])
    }

    @Test(arguments: [
        (#"{"segments": []}"#, "script s.json: segments is empty; give at least one segment"),
        (#"{"segments": {}}"#, "script s.json: segments must be a list of segments, not an object"),
        (#"{}"#, "script s.json: segments is missing"),
        (#"{"segments": [{"tags": ["a"]}]}"#, "script s.json: segments[0].id must be a non-empty string, not missing"),
        (
            #"{"segments": [{"id": "a", "tags": ["a"]}, {"id": "a", "tags": ["b"]}]}"#,
            "script s.json: segments[1].id \"a\" is used by an earlier segment; ids must be unique"
        ),
        (#"{"segments": [{"id": "a", "tags": ["a", 3]}]}"#, "script s.json: segments[0].tags[1] must be a string, not 3"),
        (
            ##"{"segments": [{"id": "a", "tags": ["#", "!"]}]}"##,
            "script s.json: segments[0].tags has no tag left after normalisation (#, !)"
        ),
        (
            #"{"segments": [{"id": "a", "tags": "a", "durationSeconds": -1}]}"#,
            "script s.json: segments[0].durationSeconds must be a number of seconds, 0 or more, not -1"
        ),
        (
            #"{"segments": [{"id": "a", "tags": "a", "media": ["audio"]}]}"#,
            "script s.json: segments[0].media[0] must be \"video\" or \"image\", not \"audio\""
        ),
        (
            #"{"aspect": "wide", "segments": [{"id": "a", "tags": "a"}]}"#,
            "script s.json: aspect must be a ratio such as \"9:16\" or a positive number, not \"wide\""
        ),
        (
            #"{"minWidth": -5, "segments": [{"id": "a", "tags": "a"}]}"#,
            "script s.json: minWidth must be a whole number of pixels, 0 or more, not -5"
        ),
        (#"not json"#, "script s.json: not valid JSON"),
    ])
    func errorsNameTheKey(text: String, message: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message == message)
            #expect(error.code == .badScript)
        }
    }
}
