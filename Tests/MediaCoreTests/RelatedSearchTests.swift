import Foundation
import MediaTestSupport
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

/// The fallback through related tags and diacritic folding: the SQL against the Swift
/// reference on random libraries and relations, and the cases that define it.
@Suite(.serialized) struct RelatedSearchTests {
    static let asOf = SearchSQLTests.asOf
    static let vocabulary = [
        "beach", "sea", "ocean", "coast", "sunset", "dusk", "car", "automobile", "cars", "city", "town", "dog", "puppy",
        "café", "école", "kid", "children",
    ]
    static let queryWords = vocabulary + ["sunsets", "kids", "cafe", "ecole", "écoles", "zebra", "seaside", "autos"]
    /// Relations among the words (and some the library never carries), each weight a source gives.
    static let relationPool: [(String, String, String, String, Double)] = [
        ("sea", "ocean", "synonym", "wordnet", 0.9), ("ocean", "sea", "synonym", "wordnet", 0.9),
        ("seaside", "coast", "synonym", "wordnet", 0.9), ("seaside", "beach", "cooccurs", "library", 0.41),
        ("sea", "beach", "cooccurs", "library", 0.37), ("car", "automobile", "synonym", "wordnet", 0.9),
        ("auto", "car", "synonym", "wordnet", 0.9), ("puppy", "dog", "broader", "wordnet", 0.6),
        ("dog", "puppy", "narrower", "wordnet", 0.5), ("kid", "children", "synonym", "wordnet", 0.9),
        ("sunset", "dusk", "similar", "wordnet", 0.7), ("sunset", "dusk", "cooccurs", "library", 0.52),
        ("city", "town", "alias", "operator", 1.0), ("town", "city", "alias", "operator", 1.0),
        ("cafe", "coffee shop", "synonym", "wordnet", 0.9), ("beach", "sea", "cooccurs", "library", 0.3),
        ("ocean", "seas", "broader", "wordnet", 0.6), ("zebra", "horse", "broader", "wordnet", 0.6),
    ]

    static func insertRelations(
        _ relations: [(String, String, String, String, Double)], on connection: PostgresConnection
    )
        async throws
    {
        try await connection.query(
            """
            INSERT INTO tag_relation (term, related, relation, source, weight)
            SELECT * FROM unnest(\(relations.map(\.0))::text[], \(relations.map(\.1))::text[], \(relations.map(\.2))::text[],
                                 \(relations.map(\.3))::text[], \(relations.map(\.4))::float8[])
            """, logger: testLogger)
    }

    static func randomLibrary(size: Int, using random: inout SplitMix64) -> [SyntheticLibrary.Asset] {
        SearchSQLTests.randomLibrary(size: size, using: &random).map { asset in
            var asset = asset
            asset.candidate.tags = Set(
                (0..<Int.random(in: 1...3, using: &random)).map { _ in vocabulary.randomElement(using: &random)! })
            return asset
        }
    }

    /// The fallback's SQL ranks as the reference does with the same relations, and the
    /// relations read for a query are those the reference picks from all of them.
    @Test func fallbackRanksAsTheReferenceOnRandomLibraries() async throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["SEARCH_PROPERTY_SEED"] ?? "") ?? 20_261_205
        var random = SplitMix64(state: seed)
        var (compared, throughRelations, mixed, ties, capped) = (0, 0, 0, 0, 0)
        for round in 0..<4 {
            try await SyntheticLibrary.withDatabase { connection in
                let library = Self.randomLibrary(size: 150, using: &random)
                try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert(library)
                let pool = Self.relationPool.filter { _ in Int.random(in: 0..<5, using: &random) > 0 }
                try await Self.insertRelations(pool, on: connection)
                let all = pool.map { RelatedTags.Relation(term: $0.0, related: $0.1, relation: $0.2, source: $0.3, weight: $0.4) }
                var repository = SearchRepository(connection: connection, logger: testLogger, root: "/library")
                // Odd rounds read 4 assets of each related tag, so that the cap decides.
                if round % 2 == 1 { repository.relatedRowsPerTag = 4 }
                for query in 0..<40 {
                    var request = SearchSQLTests.randomRequest(librarySize: library.count, using: &random)
                    var words: [String] = []
                    for _ in 0..<Int.random(in: 1...3, using: &random) { words.append(Self.queryWords.randomElement(using: &random)!) }
                    request.tags = QueryTags(words)
                    request.matching = .related
                    let context = "seed \(seed), round \(round), query \(query): \(request.kind) \(request.tags.terms)"
                    let related = try await repository.relatedTags(for: request.tags)
                    var fromAll = RelatedTags(query: request.tags, relations: all)
                    fromAll.rowsPerTag = repository.relatedRowsPerTag
                    #expect(related == fromAll, "\(context)")
                    let expected = Scoring.rank(library.map(\.candidate), for: request, related: related)
                    let actual = try await repository.search(request)
                    if related.isEmpty {
                        #expect(actual.map(\.id) == Scoring.rank(library.map(\.candidate), for: request).map(\.id), "\(context)")
                        continue
                    }
                    #expect(actual.map(\.id) == expected.map(\.id), "\(context)")
                    for (result, reference) in zip(actual, expected) where result.id == reference.id {
                        #expect(result.scoreParts.tagAnd == reference.parts.tagAnd, "\(context): #\(result.id)")
                        #expect(result.scoreParts.tagOr == reference.parts.tagOr, "\(context): #\(result.id)")
                        #expect(result.scoreParts.matchedTags == reference.parts.matchedTags, "\(context)")
                        #expect(result.scoreParts.matchedThroughRelations == reference.parts.matchedThroughRelations, "\(context)")
                        #expect(abs(result.score - reference.parts.score) < 1e-9, "\(context): #\(result.id)")
                        // What each result says it matched through adds up to what was counted.
                        #expect(result.matchedVia.count == result.scoreParts.matchedTags, "\(context): #\(result.id)")
                        #expect(
                            result.matchedVia.map(\.value).reduce(0, +) / Double(request.tags.count) == result.scoreParts.tagOr,
                            "\(context): #\(result.id)")
                        if result.matchedVia.map(\.value) != related.values(in: result.tags).filter({ $0 > 0 }) { capped += 1 }
                    }
                    compared += 1
                    throughRelations += expected.count { $0.parts.matchedThroughRelations > 0 }
                    mixed += expected.count {
                        $0.parts.matchedThroughRelations > 0 && $0.parts.matchedThroughRelations < $0.parts.matchedTags
                    }
                    ties += zip(expected, expected.dropFirst()).count { $0.parts.score == $1.parts.score }
                    // Exact matches first: every result carrying all the query tags exactly ranks
                    // before every result that needed a relation.
                    if let firstRelated = expected.firstIndex(where: { $0.parts.matchedThroughRelations > 0 }) {
                        #expect(
                            !expected[firstRelated...].contains { $0.parts.tagAnd == 1 },
                            "\(context): \(expected.map { ($0.id, $0.parts.score, $0.parts.tagAnd, $0.parts.matchedThroughRelations) })")
                    }
                }
            }
        }
        #expect(compared > 100, "only \(compared) queries had related tags")
        #expect(throughRelations > 300, "only \(throughRelations) results matched through a relation")
        #expect(mixed > 50, "only \(mixed) results matched one tag exactly and another through a relation")
        #expect(ties > 30, "only \(ties) tied neighbours")
        #expect(capped > 10, "only \(capped) results counted less than their best related tag: the cap is barely exercised")
    }

    /// `fold_tag` in PostgreSQL and `TagFolding` in Swift fold every character of the table,
    /// and words around them, alike.
    @Test func foldingIsTheSameInSQLAndSwift() async throws {
        try await SyntheticLibrary.withDatabase { connection in
            let samples = TagFolding.accented.map { String($0) } + ["école", "crème brûlée", "łódź", "ß", "東京", "plain", "ṡ"]
            let rows = try await connection.query(
                "SELECT fold_tag(x) FROM unnest(\(samples)::text[]) WITH ORDINALITY AS s(x, n) ORDER BY n", logger: testLogger)
            var folded: [String] = []
            for try await value in rows.decode(String.self) { folded.append(value) }
            #expect(folded == samples.map(TagFolding.fold))
            #expect(TagFolding.fold("crème brûlée") == "creme brulee" && TagFolding.fold("ß") == "ß")
        }
    }

    /// The cases that define the fallback, on a hand-made library.
    @Test func exactFirstThenRelatedWithTheirReasons() async throws {
        try await SyntheticLibrary.withDatabase { connection in
            func one(_ id: Int64, _ tags: Set<String>, _ size: (Int, Int)) -> SyntheticLibrary.Asset {
                SearchSQLTests().one(id, tags, size: size)
            }
            try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert([
                one(1, ["ocean", "waves"], (1920, 1080)),
                one(2, ["sea"], (1280, 720)),
                one(3, ["oceans"], (3840, 2160)),
                one(4, ["école"], (1280, 720)),
                one(5, ["dog"], (1280, 720)),
            ])
            try await Self.insertRelations(
                [("sea", "ocean", "synonym", "wordnet", 0.9), ("kid", "dog", "cooccurs", "library", 0.2)], on: connection)
            let repository = SearchRepository(connection: connection, logger: testLogger, root: "/library")
            let sea = SearchRequest(kind: .video, tags: QueryTags(["sea"]), limit: 5, asOf: Self.asOf)

            // Exact search never uses a relation.
            #expect(try await repository.search(sea).map(\.id) == [2])
            // One exact match is enough when one is asked for; with more, related tags count.
            let enough = try await repository.search(sea, fallingBackBelow: 1)
            #expect(!enough.fellBack && enough.results.map(\.id) == [2] && enough.exactMatches == 1)
            let short = try await repository.search(sea, fallingBackBelow: 5)
            #expect(short.fellBack && short.exactMatches == 1)
            #expect(short.results.map(\.id) == [2, 3, 1], "the exact match first, then the synonym's forms by pixels")
            let ocean = try #require(short.results.last)
            #expect(
                ocean.matchedVia == [
                    .init(queryTag: "sea", tag: "ocean", relation: "synonym", source: "wordnet", related: "ocean", value: 0.44921875)
                ])
            #expect(ocean.scoreParts.tagAnd == 0.44921875 && ocean.scoreParts.matchedThroughRelations == 1)
            #expect(short.results[1].matchedVia.first?.tag == "oceans" && short.results[1].matchedVia.first?.related == "ocean")
            #expect(
                short.results[0].matchedVia == [.init(queryTag: "sea", tag: "sea", relation: "exact", source: nil, related: nil, value: 1)])

            // Forms of a query tag look relations up too: "kids" → "kid" → "dog".
            let kids = try await repository.search(
                SearchRequest(kind: .video, tags: QueryTags(["kids"]), asOf: Self.asOf), fallingBackBelow: 1)
            #expect(kids.fellBack && kids.results.map(\.id) == [5] && kids.results[0].matchedVia.first?.relation == "cooccurs")

            // Diacritics fold both ways in exact search, and the stored spelling is shown.
            let ecole = try await repository.search(SearchRequest(kind: .video, tags: QueryTags(["Ecoles"]), asOf: Self.asOf))
            #expect(ecole.map(\.id) == [4] && ecole[0].tags == ["école"])
            #expect(
                ecole[0].matchedVia == [.init(queryTag: "ecoles", tag: "école", relation: "exact", source: nil, related: nil, value: 1)])
            #expect(QueryTags(["café", "cafe"]).count == 1, "one query tag, however it is accented")

            // No relation for any query tag: no fallback, whatever the shortfall.
            let waves = try await repository.search(
                SearchRequest(kind: .video, tags: QueryTags(["waves"]), asOf: Self.asOf), fallingBackBelow: 20)
            #expect(!waves.fellBack && waves.results.map(\.id) == [1])
        }
    }
}
