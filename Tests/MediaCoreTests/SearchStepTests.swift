import Foundation
@testable import MediaCore
import Testing

/// Search's steps as pure values: which query tags are rare, which one drives a read, the
/// score that proves an answer, and when a step's results are the answer. No database.
@Suite struct SearchStepTests {
    static func request(_ tags: [String], aspect: Double? = nil, boost: Double = 0.1) -> SearchRequest {
        SearchRequest(kind: .image, tags: QueryTags(tags), aspect: aspect, limit: 3, recencyBoost: boost)
    }

    static func result(score: Double) -> ScoredAsset {
        ScoredAsset(
            id: 1, kind: .image, sha256: "", path: "", absolutePath: "", thumbPath: nil, absoluteThumbPath: nil,
            width: 1, height: 1, durationMs: nil, tags: [], provider: nil, sourceUrl: nil, lastUsedAt: nil,
            createdAt: Date(timeIntervalSince1970: 0), score: score,
            scoreParts: Scoring.Parts(
                tagAnd: 0, tagOr: 0, recency: 0, recencyBoost: 0, aspectFit: 0, matchedTags: 0, queryTags: 1,
                daysSinceLastUse: 0))
    }

    @Test func everyQueryTagRareMeansFullScoring() {
        let tagRows = [0: (rows: 10, density: 0.5), 1: (rows: 999, density: 0.1)]
        #expect(SearchStep.TopGroup(Self.request(["beach", "sunset"]), tagRows: tagRows, rareRows: 1000) == nil)
    }

    @Test func theLeastDenseCommonTagDrivesAndTheTopScoreIsAllCommonTagsAtFullRecency() throws {
        // "beach" is rare; "sunset" and "sea" are common, "sea" the sparser of them.
        let tagRows = [0: (rows: 5, density: 0.9), 1: (rows: 5000, density: 0.4), 2: (rows: 8000, density: 0.01)]
        let request = Self.request(["beach", "sunset", "sea"], aspect: 16.0 / 9)
        let group = try #require(SearchStep.TopGroup(request, tagRows: tagRows, rareRows: 1000))
        #expect(group.rareTerms == [0])
        #expect(group.commonTerms == [1, 2])
        #expect(group.driver == 2)
        // Two of three tags (no tagAnd), recency at its ceiling, the full aspect fit.
        let expected = 0.5 * 2 / 3 + 0.1 * Scoring.recency(daysSinceLastUse: 100_000) + Scoring.aspectFitMaximum
        #expect(abs(group.maximumScore - expected) < 1e-12)
        let days = try #require(group.groupDays)
        // From groupDays on the score is at the top; just below it, it is not.
        func score(_ days: Double) -> Double {
            Scoring.Parts(
                tagAnd: 0, tagOr: 2.0 / 3, recency: Scoring.recency(daysSinceLastUse: days), recencyBoost: 0.1,
                aspectFit: Scoring.aspectFitMaximum, matchedTags: 2, queryTags: 3, daysSinceLastUse: days
            ).score
        }
        #expect(score(days) == group.maximumScore)
        #expect(score(days - 1) < group.maximumScore)
    }

    @Test func withoutARecencyBoostEveryAssetOfTheCommonTagsIsInTheTopGroup() throws {
        let tagRows = [0: (rows: 5000, density: 0.4)]
        let group = try #require(SearchStep.TopGroup(Self.request(["sea"], boost: 0), tagRows: tagRows, rareRows: 1000))
        #expect(group.groupDays == nil)
        #expect(group.maximumScore == 1.5)
    }

    @Test func theTopGroupAnswersOnlyWithAFullPageEndingAtTheTopScore() throws {
        let tagRows = [0: (rows: 5000, density: 0.4)]
        let group = try #require(SearchStep.TopGroup(Self.request(["sea"], boost: 0), tagRows: tagRows, rareRows: 1000))
        let top = Self.result(score: group.maximumScore)
        let below = Self.result(score: group.maximumScore - 0.01)
        #expect(group.answers([top, top, top], limit: 3))
        #expect(!group.answers([top, top], limit: 3), "a short page may miss assets outside the group")
        #expect(!group.answers([top, top, below], limit: 3), "below the top, an unread asset could rank first")
    }

    @Test func levelsRunFromEveryCommonTagDownToTwoAndBoundWhatTheyLeaveOut() throws {
        let tagRows = [0: (rows: 5000, density: 0.3), 1: (rows: 6000, density: 0.2), 2: (rows: 7000, density: 0.1)]
        let request = Self.request(["a", "b", "c"])
        let group = try #require(SearchStep.TopGroup(request, tagRows: tagRows, rareRows: 1000))
        #expect(SearchStep.Level(request, group: group, size: 1) == nil, "one tag is full scoring")
        #expect(SearchStep.Level(request, group: group, size: 4) == nil)
        let all = try #require(SearchStep.Level(request, group: group, size: 3))
        #expect(all.sets.count == 1 && all.sets[0].driver == 2 && all.sets[0].others == [0, 1])
        let pairs = try #require(SearchStep.Level(request, group: group, size: 2))
        #expect(pairs.sets.map(\.driver) == [1, 2, 2], "each pair is read through its sparser tag")
        // Left out of the pairs: assets with at most one tag, at full recency.
        #expect(abs(pairs.bound - (0.5 / 3 + 0.1)) < 1e-12)
        #expect(pairs.answers([Self.result(score: pairs.bound + 0.01)], limit: 1))
        #expect(!pairs.answers([Self.result(score: pairs.bound)], limit: 1), "a tie could lose to an unread asset")
    }

    @Test func withAnAspectALevelAlsoReadsEveryCommonTagOutsideTheWindow() throws {
        let tagRows = [0: (rows: 5000, density: 0.3), 1: (rows: 6000, density: 0.2), 2: (rows: 7000, density: 0.1)]
        let request = Self.request(["a", "b", "c"], aspect: 1)
        let group = try #require(SearchStep.TopGroup(request, tagRows: tagRows, rareRows: 1000))
        let pairs = try #require(SearchStep.Level(request, group: group, size: 2))
        #expect(pairs.sets.count == 4)
        #expect(pairs.sets.filter(\.windowed).count == 3)
        // Outside: one tag with the full fit, or two tags without a fit.
        #expect(abs(pairs.bound - max(0.5 / 3 + 0.1 + Scoring.aspectFitMaximum, 0.5 * 2 / 3 + 0.1)) < 1e-12)
    }

    @Test func combinationsAreInOrderAndComplete() {
        #expect(
            SearchStep.Level.combinations(of: [1, 2, 3, 4], size: 2)
                == [[1, 2], [1, 3], [1, 4], [2, 3], [2, 4], [3, 4]])
        #expect(SearchStep.Level.combinations(of: [1, 2], size: 3) == [])
    }
}
