import Foundation
import MediaTestSupport
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

/// Rows written straight into a migrated database: assets without files, enough for search,
/// which reads only rows.
struct SyntheticLibrary {
    let connection: PostgresConnection
    /// Every time in the library is this moment minus whole seconds, so that PostgreSQL and
    /// the reference see exactly the same instants.
    let asOf: Date

    struct Asset {
        var candidate: RankingCandidate
        var createdSecondsAgo: Int64
        var usedSecondsAgo: Int64?
        var state: String
    }

    func insert(_ assets: [Asset]) async throws {
        guard !assets.isEmpty else { return }
        let ids = assets.map(\.candidate.id)
        let shas = ids.map { id -> String in
            let hex = String(id, radix: 16)
            return String(repeating: "0", count: 64 - hex.count) + hex
        }
        let kinds = assets.map(\.candidate.kind.rawValue)
        let paths = zip(assets, shas).map { asset, sha in
            "\(asset.candidate.kind == .video ? "videos" : "images")/original/\(sha.prefix(2))/\(sha).\(asset.candidate.kind == .video ? "mp4" : "jpg")"
        }
        let widths = assets.map(\.candidate.width)
        let heights = assets.map(\.candidate.height)
        let durations = assets.map { $0.candidate.durationMs ?? -1 }
        let created = assets.map(\.createdSecondsAgo)
        let used = assets.map { $0.usedSecondsAgo ?? 0 }
        let hasUse = assets.map { $0.usedSecondsAgo != nil }
        let states = assets.map(\.state)
        let ratings = assets.map { Int16($0.candidate.rating) }
        try await connection.query(
            """
            INSERT INTO asset (id, kind, state, sha256, ext, mime_type, bytes, width, height, path, duration_ms,
                               created_at, last_used_at, rating)
            OVERRIDING SYSTEM VALUE
            SELECT id, kind::asset_kind, state::asset_state, sha, CASE kind WHEN 'video' THEN 'mp4' ELSE 'jpg' END,
                   CASE kind WHEN 'video' THEN 'video/mp4' ELSE 'image/jpeg' END, 1000, w, h, path,
                   CASE WHEN d < 0 THEN NULL ELSE d END,
                   \(asOf)::timestamptz - make_interval(secs => c),
                   CASE WHEN u_set THEN \(asOf)::timestamptz - make_interval(secs => u) END, r
            FROM unnest(\(ids)::int8[], \(kinds)::text[], \(states)::text[], \(shas)::text[], \(widths)::int4[],
                        \(heights)::int4[], \(paths)::text[], \(durations)::int8[], \(created)::int8[], \(used)::int8[],
                        \(hasUse)::bool[], \(ratings)::int2[]) AS x(id, kind, state, sha, w, h, path, d, c, u, u_set, r)
            """, logger: testLogger)
        var tagAssets: [Int64] = []
        var tagNames: [String] = []
        var sourceAssets: [Int64] = []
        var sourceProviders: [String] = []
        for asset in assets {
            for tag in asset.candidate.tags.sorted() {
                tagAssets.append(asset.candidate.id)
                tagNames.append(tag)
            }
            for provider in asset.candidate.providers.sorted() {
                sourceAssets.append(asset.candidate.id)
                sourceProviders.append(provider)
            }
        }
        try await connection.query(
            "INSERT INTO tag (name) SELECT DISTINCT unnest(\(tagNames)::text[]) ON CONFLICT (name) DO NOTHING",
            logger: testLogger)
        try await connection.query(
            """
            INSERT INTO asset_tag (asset_id, tag_id)
            SELECT x.asset_id, t.id FROM unnest(\(tagAssets)::int8[], \(tagNames)::text[]) AS x(asset_id, name)
            JOIN tag t ON t.name = x.name
            """, logger: testLogger)
        try await connection.query(
            """
            INSERT INTO provenance (asset_id, provider, source_url)
            SELECT x.asset_id, x.provider, 'https://' || x.provider || '.example/' || x.asset_id
            FROM unnest(\(sourceAssets)::int8[], \(sourceProviders)::text[]) AS x(asset_id, provider)
            """, logger: testLogger)
    }

    static func withDatabase(_ body: (PostgresConnection) async throws -> Void) async throws {
        try await TestDatabase.withFresh { url in
            let connection = try await TestDatabase.connect(url)
            do {
                _ = try await MigrationRunner(logger: testLogger).migrate(on: connection)
                try await body(connection)
                try await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }
}

@Suite(.serialized) struct SearchSQLTests {
    static let asOf = Date(timeIntervalSince1970: 1_780_000_000)
    static let vocabulary = [
        "beach", "beaches", "sunset", "city", "cities", "car", "cars", "red car", "people", "person", "dog",
        "sea", "mountain", "snow", "night", "forest",
    ]
    static let queryWords = vocabulary + ["zebra", "sunsets", "dogs", "mountains", "red cars", "Beach!"]
    static let sizes = [(1920, 1080), (1080, 1920), (1280, 720), (1080, 1080), (3840, 2160), (720, 1280), (1000, 4000)]
    static let ages: [Int64] = [0, 3_600, 86_400, 3 * 86_400, 7 * 86_400, 30 * 86_400, 400 * 86_400, 3_650 * 86_400]
    static let providers = ["pexels", "pixabay", "unsplash", "local"]

    static func randomLibrary(size: Int, using random: inout SplitMix64) -> [SyntheticLibrary.Asset] {
        (1...size).map { index in
            let kind: MediaFormat.Kind = Bool.random(using: &random) ? .video : .image
            let (width, height) = sizes.randomElement(using: &random)!
            let tags = Set((0..<Int.random(in: 1...4, using: &random)).map { _ in vocabulary.randomElement(using: &random)! })
            let sources = Set((0..<Int.random(in: 1...2, using: &random)).map { _ in providers.randomElement(using: &random)! })
            let created = ages.randomElement(using: &random)!
            // Half never used; some "used" in the future, as after a clock jump.
            let used: Int64? =
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<5: nil
                case 5: -3_600
                default: ages.randomElement(using: &random)!
                }
            let state = Int.random(in: 0..<10, using: &random) == 0 ? "quarantined" : "present"
            // One in six rated by an operator (`mediaq rate`), so the rated assets the steps read
            // beside their groups, and the rating term, are compared too.
            let rating = Int.random(in: 0..<6, using: &random) == 0 ? Int.random(in: 1...5, using: &random) : 0
            let candidate = RankingCandidate(
                id: Int64(index), kind: kind, present: state == "present", width: width, height: height,
                durationMs: kind == .video ? [1_000, 3_000, 5_000, 10_000, 30_000].randomElement(using: &random)! : nil,
                tags: tags, providers: sources, createdAt: asOf.addingTimeInterval(-Double(created)),
                lastUsedAt: used.map { asOf.addingTimeInterval(-Double($0)) }, rating: rating)
            return .init(candidate: candidate, createdSecondsAgo: created, usedSecondsAgo: used, state: state)
        }
    }

    static func randomRequest(librarySize: Int, using random: inout SplitMix64) -> SearchRequest {
        let kind: MediaFormat.Kind = Bool.random(using: &random) ? .video : .image
        var tags: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) { tags.append(queryWords.randomElement(using: &random)!) }
        var request = SearchRequest(
            kind: kind, tags: QueryTags(tags), minWidth: [0, 0, 720, 1080].randomElement(using: &random)!,
            minHeight: [0, 0, 720, 1080].randomElement(using: &random)!,
            aspect: [nil, 9.0 / 16, 16.0 / 9, 1.0, 4.0 / 3].randomElement(using: &random)!,
            limit: Int.random(in: 1...40, using: &random),
            recencyBoost: [0, 0.1, 0.5, 1].randomElement(using: &random)!, asOf: asOf)
        if kind == .video && Bool.random(using: &random) {
            request.minDurationMs = [2_000, 5_000, 10_000].randomElement(using: &random)!
        }
        if Int.random(in: 0..<4, using: &random) == 0 { request.provider = providers.randomElement(using: &random)! }
        if Bool.random(using: &random) {
            request.excluding = Set(
                (0..<Int.random(in: 1...8, using: &random)).map { _ in
                    Int64.random(in: 1...Int64(librarySize), using: &random)
                })
        }
        return request
    }

    /// The SQL and the Swift reference agree on random libraries and queries: the same assets
    /// in the same order, the same scores and parts.
    @Test func sqlRanksAsTheReferenceOnRandomLibraries() async throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["SEARCH_PROPERTY_SEED"] ?? "") ?? 20_261_120
        var random = SplitMix64(state: seed)
        var compared = 0
        var nonEmpty = 0
        var ties = 0
        var rated = 0
        for round in 0..<6 {
            try await SyntheticLibrary.withDatabase { connection in
                let library = Self.randomLibrary(size: 120, using: &random)
                try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert(library)
                var repository = SearchRepository(connection: connection, logger: testLogger, root: "/library")
                // Odd rounds call every tag with 8 or more assets common, so that search's
                // first step (the top group) answers some queries of these small libraries.
                if round % 2 == 1 { repository.rareTagRows = 8 }
                for query in 0..<40 {
                    let request = Self.randomRequest(librarySize: library.count, using: &random)
                    let expected = Scoring.rank(library.map(\.candidate), for: request)
                    let actual = try await repository.search(request)
                    let context = "seed \(seed), round \(round), query \(query): \(request.kind) \(request.tags.terms)"
                    #expect(actual.map(\.id) == expected.map(\.id), "\(context)")
                    for (result, reference) in zip(actual, expected) where result.id == reference.id {
                        #expect(abs(result.score - reference.parts.score) < 1e-9, "\(context): #\(result.id)")
                        #expect(result.scoreParts.matchedTags == reference.parts.matchedTags, "\(context)")
                        #expect(result.scoreParts.tagAnd == reference.parts.tagAnd, "\(context)")
                        #expect(abs(result.scoreParts.recency - reference.parts.recency) < 1e-9, "\(context)")
                        #expect(abs(result.scoreParts.aspectFit - reference.parts.aspectFit) < 1e-12, "\(context)")
                        #expect(result.scoreParts.rating == reference.parts.rating, "\(context)")
                    }
                    compared += 1
                    if expected.contains(where: { $0.parts.rating > 0 }) { rated += 1 }
                    if !expected.isEmpty { nonEmpty += 1 }
                    ties += zip(expected, expected.dropFirst()).count { $0.parts.score == $1.parts.score }
                }
            }
        }
        // The random cases must exercise what they claim to: results, and ties to break.
        #expect(compared == 240)
        #expect(nonEmpty > 150, "only \(nonEmpty) queries found anything")
        #expect(ties > 50, "only \(ties) tied neighbours: the tie-breaks are barely exercised")
        #expect(rated > 40, "only \(rated) queries returned a rated asset: the rating term is barely exercised")
    }

    func one(
        _ id: Int64, _ tags: Set<String>, size: (Int, Int) = (1920, 1080), created: Int64 = 100 * 86_400,
        used: Int64? = nil, kind: MediaFormat.Kind = .video, providers: Set<String> = ["pexels"]
    ) -> SyntheticLibrary.Asset {
        .init(
            candidate: RankingCandidate(
                id: id, kind: kind, width: size.0, height: size.1, durationMs: kind == .video ? 10_000 : nil, tags: tags,
                providers: providers, createdAt: Self.asOf.addingTimeInterval(-Double(created)),
                lastUsedAt: used.map { Self.asOf.addingTimeInterval(-Double($0)) }),
            createdSecondsAgo: created, usedSecondsAgo: used, state: "present")
    }

    /// Each tie-break, in SQL: equal scores (no recency boost) order by pixels, then the more
    /// recent use, then the lower id.
    @Test func sqlTieBreaks() async throws {
        try await SyntheticLibrary.withDatabase { connection in
            try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert([
                one(5, ["beach"], size: (1280, 720), used: 40 * 86_400),
                one(4, ["beach"], used: 50 * 86_400),
                one(3, ["beach"], used: 40 * 86_400),
                one(2, ["beach"], used: 40 * 86_400),
                one(1, ["beach"], size: (3840, 2160), used: 60 * 86_400),
                one(6, ["beach"], created: 40 * 86_400),  // never used: counts as used when added
            ])
            let repository = SearchRepository(connection: connection, logger: testLogger, root: "/library")
            let results = try await repository.search(
                SearchRequest(kind: .video, tags: QueryTags(["beach"]), recencyBoost: 0, asOf: Self.asOf))
            #expect(results.map(\.id) == [1, 2, 3, 6, 4, 5])
            #expect(Set(results.map(\.score)) == [1.5])
        }
    }

    /// Forms, extremes of time that would make exp() fail in PostgreSQL, and what a result carries.
    @Test func sqlFormsExtremesAndFields() async throws {
        try await SyntheticLibrary.withDatabase { connection in
            try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert([
                one(1, ["red car", "city"], created: 3_650 * 86_400),  // unused for ten years
                one(2, ["cars"], created: 3_600, used: -30 * 86_400),  // "used" a month in the future
                one(3, ["people"], kind: .image, providers: ["unsplash", "pexels"]),
            ])
            let repository = SearchRepository(connection: connection, logger: testLogger, root: "/library")
            let videos = try await repository.search(
                SearchRequest(kind: .video, tags: QueryTags(["red cars", "car", "cities"]), asOf: Self.asOf))
            #expect(videos.map(\.id) == [1, 2])
            #expect(videos[0].scoreParts.matchedTags == 2 && videos[0].scoreParts.tagAnd == 0)
            #expect(videos[0].scoreParts.recency == 1 / (1 + exp(-40)))
            #expect(videos[1].scoreParts.recency == 1 / (1 + exp((30.0 + 7) / 2)))
            #expect(videos[1].scoreParts.daysSinceLastUse == -30)

            let images = try await repository.search(
                SearchRequest(kind: .image, tags: QueryTags(["person"]), provider: "unsplash", asOf: Self.asOf))
            let image = try #require(images.first)
            #expect(image.provider == "unsplash", "the source the search was filtered by")
            #expect(image.sourceUrl == "https://unsplash.example/3")
            #expect(image.tags == ["people"])
            #expect(image.path.hasPrefix("images/original/00/") && image.absolutePath == "/library/" + image.path)
            let unfiltered = try await repository.search(
                SearchRequest(kind: .image, tags: QueryTags(["person"]), asOf: Self.asOf))
            #expect(unfiltered.first?.provider == "pexels", "the first source recorded (alphabetical here: same instant, lower id)")
        }
    }

    /// Prepared statements (as `mediaq plan` searches) give what one-off statements give.
    @Test func preparedStatementsRankAsOneOffOnes() async throws {
        var random = SplitMix64(state: 5)
        try await SyntheticLibrary.withDatabase { connection in
            let library = Self.randomLibrary(size: 150, using: &random)
            try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert(library)
            var prepared = SearchRepository(
                connection: connection, logger: testLogger, root: "/library", statements: PreparedStatements(connection: connection))
            var oneOff = SearchRepository(connection: connection, logger: testLogger, root: "/library")
            prepared.rareTagRows = 8
            oneOff.rareTagRows = 8
            for query in 0..<30 {
                let request = Self.randomRequest(librarySize: library.count, using: &random)
                do {
                    let expected = try await oneOff.search(request)
                    let actual = try await prepared.search(request)
                    #expect(actual == expected, "query \(query)")
                } catch {
                    Issue.record("query \(query): \(error)")
                }
            }
        }
    }

    /// An asset that carries two forms of one query tag ("beach" and "beaches") matched that tag
    /// once, on both paths: full scoring, and the top group with its rare tags.
    @Test func twoFormsOfOneTagMatchOnce() async throws {
        try await SyntheticLibrary.withDatabase { connection in
            var assets = [one(1, ["beach", "beaches", "sunset"]), one(2, ["beach", "sunset"], size: (1280, 720))]
            assets += (3...30).map { one(Int64($0), ["beach"], size: (640, 360)) }
            try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert(assets)
            for rareRows in [1000, 5] {
                var repository = SearchRepository(connection: connection, logger: testLogger, root: "/library")
                repository.rareTagRows = rareRows
                let request = SearchRequest(kind: .video, tags: QueryTags(["beach", "sunset"]), limit: 5, asOf: Self.asOf)
                let results = try await repository.search(request)
                #expect(results.map(\.id) == Scoring.rank(assets.map(\.candidate), for: request).map(\.id))
                #expect(results.prefix(2).map(\.id) == [1, 2], "rare rows \(rareRows)")
                #expect(results.first?.scoreParts.matchedTags == 2 && results.first?.scoreParts.tagAnd == 1, "rare rows \(rareRows)")
            }
        }
    }

    /// The levels (search's second step): tag combinations that few assets carry with the
    /// desired aspect, so the top group is short; whenever a level answers, its answer is the
    /// reference's, and the whole search always is.
    @Test func levelsAgreeWithTheReference() async throws {
        var random = SplitMix64(state: 31)
        let words = ["beach", "sunset", "sea", "people"]
        let sizes = [(1080, 1920), (1920, 1080), (1080, 1080), (1000, 1500), (1500, 1000), (1200, 1920), (600, 1920), (3000, 1000)]
        let days: [Double] = [0.5, 3, 7, 30, 90, 400]
        try await SyntheticLibrary.withDatabase { connection in
            let library = (1...400).map { index -> SyntheticLibrary.Asset in
                let (width, height) = sizes.randomElement(using: &random)!
                let used = Int64(days.randomElement(using: &random)! * 86_400)
                // "people" is on few assets: with it, every common tag together is rare, and
                // the levels below all of them decide.
                var tags = Set(zip(words, [5, 5, 4, 1]).filter { Int.random(in: 0..<10, using: &random) < $0.1 }.map(\.0))
                if tags.isEmpty { tags = ["beach"] }
                return .init(
                    candidate: RankingCandidate(
                        id: Int64(index), kind: .image, width: width, height: height, durationMs: nil, tags: tags,
                        providers: ["pexels"], createdAt: Self.asOf.addingTimeInterval(-Double(used)), lastUsedAt: nil,
                        rating: index % 9 == 0 ? index % 5 + 1 : 0),
                    createdSecondsAgo: used, usedSecondsAgo: nil, state: "present")
            }
            try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert(library)
            var repository = SearchRepository(connection: connection, logger: testLogger, root: "/library")
            repository.rareTagRows = 5
            var answeredByLevel = 0
            for _ in 0..<80 {
                var tags = Array(words.dropLast().shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)))
                tags.append("people")
                let request = SearchRequest(
                    kind: .image, tags: QueryTags(tags), aspect: [nil, 9.0 / 16, 1.0, 2.0].randomElement(using: &random)!,
                    limit: Int.random(in: 1...25, using: &random), recencyBoost: [0, 0.1, 0.5].randomElement(using: &random)!,
                    asOf: Self.asOf)
                let expected = Scoring.rank(library.map(\.candidate), for: request)
                #expect(
                    try await repository.search(request).map(\.id) == expected.map(\.id), "\(tags) \(String(describing: request.aspect))")
                let group = try #require(
                    SearchStep.TopGroup(
                        request, tagRows: try await repository.tagRows(request), rareRows: repository.rareTagRows))
                let first = try await repository.run(SearchQuery.build(request, topGroup: group), request: request)
                guard !group.answers(first, limit: request.limit) else { continue }
                for size in stride(from: group.commonTerms.count, through: 2, by: -1) {
                    guard let level = SearchStep.Level(request, group: group, size: size) else { continue }
                    let results = try await repository.run(
                        SearchQuery.build(request, topGroup: group, level: level), request: request)
                    if level.answers(results, limit: request.limit) {
                        answeredByLevel += 1
                        #expect(results.map(\.id) == expected.map(\.id), "level \(size): \(tags) \(String(describing: request.aspect))")
                        break
                    }
                }
            }
            #expect(answeredByLevel > 15, "levels answered only \(answeredByLevel) of 80 searches: their path is barely tested")
        }
    }

    /// The top group (search's first step) where it is most delicate: many assets tied at the
    /// top score, last uses around the day recency reaches 1 (the edge), aspects equal to and
    /// next to the desired one. Its answers, when it answers, are the reference's.
    @Test func topGroupAgreesWithTheReferenceAtItsEdges() async throws {
        var random = SplitMix64(state: 77)
        let sizes = [(1080, 1920), (2160, 3840), (720, 1280), (1081, 1920), (1920, 1080), (1080, 1080), (1079, 1920)]
        let days: [Double] = [0.5, 30, 75, 78.5, 79.5, 80, 80.5, 81, 82, 83.5, 85, 90, 200, 900]
        try await SyntheticLibrary.withDatabase { connection in
            let library = (1...240).map { index -> SyntheticLibrary.Asset in
                let (width, height) = sizes.randomElement(using: &random)!
                let used = Int64(days.randomElement(using: &random)! * 86_400)
                let never = Bool.random(using: &random)
                let tags: Set<String> = Bool.random(using: &random) ? ["beach", "sunset"] : ["beach"]
                return .init(
                    candidate: RankingCandidate(
                        id: Int64(index), kind: .video, width: width, height: height, durationMs: 10_000, tags: tags,
                        providers: ["pexels"], createdAt: Self.asOf.addingTimeInterval(-Double(never ? used : 1000 * 86_400)),
                        lastUsedAt: never ? nil : Self.asOf.addingTimeInterval(-Double(used)), rating: index % 11 == 0 ? index % 5 + 1 : 0),
                    createdSecondsAgo: never ? used : 1000 * 86_400, usedSecondsAgo: never ? nil : used, state: "present")
            }
            try await SyntheticLibrary(connection: connection, asOf: Self.asOf).insert(library)
            var repository = SearchRepository(connection: connection, logger: testLogger, root: "/library")
            repository.rareTagRows = 10
            var answered = 0
            for _ in 0..<80 {
                let request = SearchRequest(
                    kind: .video, tags: QueryTags(Bool.random(using: &random) ? ["beach"] : ["beach", "sunsets"]),
                    minWidth: [0, 1000].randomElement(using: &random)!,
                    aspect: [nil, 9.0 / 16, 1.0].randomElement(using: &random)!, limit: Int.random(in: 1...30, using: &random),
                    recencyBoost: [0, 0.1, 1].randomElement(using: &random)!, asOf: Self.asOf)
                let expected = Scoring.rank(library.map(\.candidate), for: request)
                let actual = try await repository.search(request)
                #expect(
                    actual.map(\.id) == expected.map(\.id),
                    "\(request.tags.terms) \(String(describing: request.aspect)) boost \(request.recencyBoost) limit \(request.limit)")
                if let group = SearchStep.TopGroup(
                    request, tagRows: try await repository.tagRows(request), rareRows: repository.rareTagRows)
                {
                    let first = try await repository.run(SearchQuery.build(request, topGroup: group), request: request)
                    if group.answers(first, limit: request.limit) {
                        answered += 1
                        #expect(first.map(\.id) == expected.map(\.id))
                    }
                }
            }
            #expect(answered > 20, "the top group answered only \(answered) of 80 searches: its path is barely tested")
        }
    }
}
