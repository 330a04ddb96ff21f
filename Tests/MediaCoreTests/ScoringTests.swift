import Foundation
@testable import MediaCore
import MediaTestSupport
import Testing

/// The ranking's pure parts, term by term: tag forms, tagAnd/tagOr, recency, aspectFit, the
/// tie-breaks and the filters of the reference ranking.
@Suite struct TagFormsTests {
    @Test(arguments: [
        ("car", ["car", "cars"]),
        ("cars", ["cars", "car"]),
        ("city", ["city", "cities"]),
        ("cities", ["cities", "city", "citie"]),
        ("sky", ["sky", "skies"]),
        ("day", ["day", "days"]),
        ("beach", ["beach", "beaches"]),
        ("beaches", ["beaches", "beach", "beache"]),
        ("houses", ["houses", "hous", "house"]),
        ("bus", ["bus", "buses"]),
        ("glass", ["glass", "glasses"]),
        ("people", ["people", "person"]),
        ("person", ["person", "people"]),
        ("ox", ["ox", "oxen"]),
        ("red cars", ["red cars", "red car"]),
        ("new york", ["new york", "new yorks"]),
        ("4k", ["4k"]),
        ("tv", ["tv"]),
    ])
    func forms(tag: String, expected: [String]) {
        #expect(TagForms.forms(of: tag) == expected)
    }

    @Test func queryTagsAreNormalisedAndOneTagPerForm() {
        let query = QueryTags(["Beach, beaches", "#Sunset!", "SUNSETS", "  "])
        #expect(query.terms == ["beach", "sunset"])
        #expect(query.count == 2)
        #expect(query.matches(in: ["beaches", "sea"]) == 1)
        #expect(query.matches(in: ["beach", "beaches"]) == 1, "two forms of one query tag count once")
        #expect(query.matches(in: ["sunset", "beach"]) == 2)
        #expect(query.matches(in: ["sea"]) == 0)
        #expect(QueryTags(["", "#"]).isEmpty)
    }
}

@Suite struct ScoringTermTests {
    @Test(arguments: [
        (2, 2, 1.0, 1.0),
        (1, 2, 0.0, 0.5),
        (1, 3, 0.0, 1.0 / 3),
        (3, 3, 1.0, 1.0),
    ])
    func tagAndAndTagOr(matched: Int, queryCount: Int, tagAnd: Double, tagOr: Double) {
        let parts = Scoring.parts(
            matched: matched, queryCount: queryCount, daysSinceLastUse: 7, recencyBoost: 0, width: 100, height: 100,
            desiredAspect: nil)
        #expect(parts.tagAnd == tagAnd)
        #expect(parts.tagOr == tagOr)
        #expect(parts.score == tagAnd + 0.5 * tagOr)
    }

    @Test func recencyIsALogisticCurveCentredOnAWeek() {
        #expect(Scoring.recency(daysSinceLastUse: 7) == 0.5)
        #expect(Scoring.recency(daysSinceLastUse: 1) < 0.05)
        #expect(Scoring.recency(daysSinceLastUse: 0) < 0.03)
        #expect(Scoring.recency(daysSinceLastUse: 14) > 0.97)
        #expect(Scoring.recency(daysSinceLastUse: 30) > 0.9999)
        // Rising everywhere: the longer unused, the higher.
        let days = stride(from: -10.0, through: 60, by: 0.5).map(Scoring.recency(daysSinceLastUse:))
        #expect(zip(days, days.dropFirst()).allSatisfy { $0 <= $1 })
        // Extremes stay finite: unused for ten years, or "used" in the future after a clock jump.
        #expect(Scoring.recency(daysSinceLastUse: 3650) == 1 / (1 + exp(-40)))
        #expect(Scoring.recency(daysSinceLastUse: -3650) == 1 / (1 + exp(40)))
    }

    /// width, height, desired aspect, expected aspectFit.
    static let aspectCases: [(Int, Int, Double, Double)] = {
        let ln2 = log(2.0)
        let portrait = 9.0 / 16
        return [
            (1080, 1920, portrait, 0.25),  // same shape
            (720, 1280, portrait, 0.25),  // same shape, smaller
            (1920, 1080, portrait, 0.0),  // landscape for a portrait target
            (1080, 1440, portrait, 0.25 * (1 - log((1080.0 / 1440) / portrait) / ln2)),  // 3:4
            (1080, 1080, portrait, 0.25 * (1 - log(16.0 / 9) / ln2)),  // a square fits either way, less well
            (1000, 4000, portrait, 0.0),  // 1:4 is more than twice as narrow
            (1920, 1080, 16.0 / 9, 0.25),
            (1920, 1080, 1.0, 0.25 * (1 - log(1920.0 / 1080) / ln2)),
            (1920, 1080, 2.0, 0.25 * (1 - abs(log((1920.0 / 1080) / 2)) / ln2)),
        ]
    }()

    @Test(arguments: aspectCases)
    func aspectFit(width: Int, height: Int, desired: Double, expected: Double) {
        let fit = Scoring.aspectFit(width: width, height: height, desired: desired)
        #expect(abs(fit - expected) < 1e-12, "\(width)×\(height) for \(desired): \(fit), expected \(expected)")
        #expect((0...0.25).contains(fit))
    }

    @Test func noAspectAskedMeansNoBonus() {
        #expect(Scoring.aspectFit(width: 1080, height: 1920, desired: nil) == 0)
    }

    @Test func theWholeFormulaOnOneAsset() {
        let parts = Scoring.parts(
            matched: 2, queryCount: 2, daysSinceLastUse: 30, recencyBoost: 0.1, width: 1080, height: 1920,
            desiredAspect: 9.0 / 16)
        let expected = 1 + 0.5 * 1 + 0.1 * (1 / (1 + exp(-(30.0 - 7) / 2))) + 0.25
        #expect(abs(parts.score - expected) < 1e-15)
        #expect(parts.matchedTags == 2 && parts.queryTags == 2 && parts.daysSinceLastUse == 30)
    }
}

@Suite struct ReferenceRankingTests {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)
    static func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

    func candidate(
        _ id: Int64, _ tags: Set<String>, kind: MediaFormat.Kind = .video, size: (Int, Int) = (1920, 1080),
        durationMs: Int64? = 10_000, usedDaysAgo: Double? = nil, addedDaysAgo: Double = 100,
        providers: Set<String> = ["pexels"], present: Bool = true
    ) -> RankingCandidate {
        RankingCandidate(
            id: id, kind: kind, present: present, width: size.0, height: size.1,
            durationMs: kind == .video ? durationMs : nil, tags: tags, providers: providers,
            createdAt: Self.daysAgo(addedDaysAgo), lastUsedAt: usedDaysAgo.map(Self.daysAgo))
    }

    func rank(
        _ candidates: [RankingCandidate], _ tags: [String], kind: MediaFormat.Kind = .video,
        configure: (inout SearchRequest) -> Void = { _ in }
    ) -> [Int64] {
        var request = SearchRequest(kind: kind, tags: QueryTags(tags), asOf: Self.now)
        configure(&request)
        return Scoring.rank(candidates, for: request).map(\.id)
    }

    @Test func allTagsBeatSomeTagsAndNoTagIsNoResult() {
        let library = [
            candidate(1, ["beach"]),
            candidate(2, ["beach", "sunset"]),
            candidate(3, ["forest"]),
            candidate(4, ["sunsets", "sea"]),
        ]
        #expect(rank(library, ["beach", "sunset"]) == [2, 1, 4])
    }

    @Test func usedYesterdayRanksBelowUnusedForAMonth() {
        let library = [
            candidate(1, ["beach"], usedDaysAgo: 1),
            candidate(2, ["beach"], usedDaysAgo: 31),
            candidate(3, ["beach"], usedDaysAgo: nil, addedDaysAgo: 0.1),  // new: counts as used when added
        ]
        #expect(rank(library, ["beach"]) == [2, 1, 3])
        // Without a recency boost the last use only breaks ties: the most recent first.
        #expect(rank(library, ["beach"]) { $0.recencyBoost = 0 } == [3, 1, 2])
    }

    @Test func aspectFitRanksTheRightShapeFirst() {
        let library = [
            candidate(1, ["beach"], size: (1920, 1080)),
            candidate(2, ["beach"], size: (1080, 1920)),
            candidate(3, ["beach"], size: (1080, 1080)),
        ]
        #expect(rank(library, ["beach"]) { $0.aspect = 9.0 / 16 } == [2, 3, 1])
        #expect(rank(library, ["beach"]) { $0.aspect = 16.0 / 9 } == [1, 3, 2])
    }

    @Test func tiesGoToMorePixelsThenTheMoreRecentUseThenTheLowerId() {
        let library = [
            candidate(5, ["beach"], size: (1280, 720), usedDaysAgo: 40),
            candidate(4, ["beach"], size: (1920, 1080), usedDaysAgo: 50),
            candidate(3, ["beach"], size: (1920, 1080), usedDaysAgo: 40),
            candidate(2, ["beach"], size: (1920, 1080), usedDaysAgo: 40),
            candidate(1, ["beach"], size: (3840, 2160), usedDaysAgo: 60),
        ]
        // Boost 0: every score is 1.5.
        #expect(rank(library, ["beach"]) { $0.recencyBoost = 0 } == [1, 2, 3, 4, 5])
    }

    @Test func filters() {
        let library = [
            candidate(1, ["beach"], size: (1920, 1080), durationMs: 3_000),
            candidate(2, ["beach"], size: (1280, 720), durationMs: 12_000, providers: ["pixabay"]),
            candidate(3, ["beach"], kind: .image, size: (4000, 3000)),
            candidate(4, ["beach"], present: false),
            candidate(5, ["beach"], size: (3840, 2160), durationMs: 8_000, providers: ["pexels", "pixabay"]),
        ]
        #expect(rank(library, ["beach"]) == [5, 1, 2])
        #expect(rank(library, ["beach"], kind: .image) == [3])
        #expect(rank(library, ["beach"]) { $0.minWidth = 1920 } == [5, 1])
        #expect(rank(library, ["beach"]) { $0.minHeight = 1081 } == [5])
        #expect(rank(library, ["beach"]) { $0.minDurationMs = 8_000 } == [5, 2])
        #expect(rank(library, ["beach"]) { $0.provider = "pixabay" } == [5, 2])
        #expect(rank(library, ["beach"]) { $0.excluding = [5] } == [1, 2])
        #expect(rank(library, ["beach"]) { $0.limit = 1 } == [5])
    }

    @Test func requestValidationNamesTheOption() {
        func message(_ change: (inout SearchRequest) -> Void) -> String? {
            var request = SearchRequest(kind: .image, tags: QueryTags(["beach"]))
            change(&request)
            do {
                try request.validate()
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message { _ in } == nil)
        #expect(message { $0.tags = QueryTags(["#"]) }?.contains("--tags") == true)
        #expect(message { $0.minDurationMs = 1000 }?.contains("videos only") == true)
        #expect(message { $0.limit = 0 }?.contains("--limit") == true)
        #expect(message { $0.recencyBoost = 1.5 }?.contains("0 to 1") == true)
        #expect(message { $0.minWidth = -1 }?.contains("--min-width") == true)
    }

    @Test(arguments: [("9:16", 0.5625), ("16/9", 16.0 / 9), ("0.5625", 0.5625), (" 4 : 3 ", 4.0 / 3)])
    func aspectRatios(text: String, value: Double) {
        #expect(AspectRatio.parse(text) == value)
    }

    @Test(arguments: ["", "9:", ":16", "0:16", "-1", "abc", "9:16:1"])
    func badAspectRatios(text: String) {
        #expect(AspectRatio.parse(text) == nil)
    }

    @Test func secondsBecomeWholeMillisecondsRoundedUp() {
        #expect(SearchRequest.milliseconds(seconds: 1.1) == 1100)
        #expect(SearchRequest.milliseconds(seconds: 4.5) == 4500)
        #expect(SearchRequest.milliseconds(seconds: 4.0005) == 4001)
        #expect(SearchRequest.milliseconds(seconds: 0) == 0)
    }
}
