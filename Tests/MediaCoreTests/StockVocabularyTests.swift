import MediaCore
import MediaTestSupport
import Testing

/// The related-tags benchmark's committed vocabulary and acceptable lists (`StockVocabulary`,
/// `media-bench related`) are well-formed: a mistake there would silently change its figures.
@Suite struct StockVocabularyTests {
    /// Words as the library stores them and as search normalises queries.
    static func isNormalised(_ word: String) -> Bool { TagNormalizer.normalize(word) == [word] }

    @Test func everyWordNormalisesToItself() {
        for concept in StockVocabulary.concepts {
            for word in concept.words + concept.context + concept.generic + concept.rare {
                #expect(Self.isNormalised(word), "\(concept.name): \(word)")
            }
        }
        for query in StockVocabulary.queries {
            for word in query.tags + query.acceptable.joined() {
                #expect(Self.isNormalised(word), "\(query.tags): \(word)")
            }
        }
    }

    @Test func everyQueryHasAnAcceptableListPerTagOfLibraryWords() {
        let library = Set(StockVocabulary.libraryTags)
        #expect(StockVocabulary.queries.count >= 60)
        #expect(Set(StockVocabulary.queries.map(\.tags)).count == StockVocabulary.queries.count, "a query twice")
        for query in StockVocabulary.queries {
            #expect((1...2).contains(query.tags.count), "\(query.tags)")
            #expect(QueryTags(query.tags).terms == query.tags, "\(query.tags): two tags that are one query tag")
            #expect(query.acceptable.count == query.tags.count, "\(query.tags): one acceptable list per query tag")
            for (tag, acceptable) in zip(query.tags, query.acceptable) {
                #expect(!acceptable.isEmpty, "\(tag): nothing is acceptable")
                // The first is the exact twin, the library's own word; every other should be a
                // word the library uses, or the list accepts nothing it could return.
                for word in acceptable { #expect(library.contains(word), "\(tag): \(word) is not a library tag") }
                #expect(acceptable.first.map(library.contains) == true)
            }
        }
    }

    @Test func conceptsAreDistinctAndTheirCompanionsExist() {
        let names = StockVocabulary.concepts.map(\.name)
        #expect((40...80).contains(names.count))
        #expect(Set(names).count == names.count)
        for concept in StockVocabulary.concepts {
            #expect(!concept.words.isEmpty && !concept.context.isEmpty && !concept.generic.isEmpty, "\(concept.name)")
            #expect(concept.weight > 0)
            for companion in concept.companions { #expect(names.contains(companion), "\(concept.name): \(companion)") }
        }
    }

    @Test func anAssetGetsThreeToEightTagsOfItsConcept() {
        var random = SplitMix64(state: 3)
        for _ in 0..<2000 {
            let concept = StockVocabulary.drawConcept(using: &random)
            let tags = StockVocabulary.tags(of: concept, using: &random)
            #expect((3...8).contains(tags.count), "\(concept.name): \(tags)")
            #expect(Set(tags).count == tags.count)
            #expect(tags.contains { concept.words.contains($0) })
        }
    }

    @Test func acceptanceCountsFormsAndEveryQueryTag() throws {
        let pair = try #require(StockVocabulary.queries.first { $0.tags == ["sea", "sundown"] })
        #expect(StockVocabulary.accepts(pair, tags: ["oceans", "sunset", "nature"]), "a plural of an acceptable word")
        #expect(!StockVocabulary.accepts(pair, tags: ["ocean", "nature"]), "sundown is not answered")
        #expect(StockVocabulary.accepts(pair, tag: 0, tags: ["sea"]), "the query tag itself")
        #expect(!StockVocabulary.accepts(pair, tag: 0, tags: ["water"]))
        #expect(StockVocabulary.twin(of: pair) == ["ocean", "sunset"])
    }
}
