import Foundation
public import Logging
public import PostgresNIO

/// The SQL of search and selection: ranked search, marking used, pins, and "which provider ids
/// are known". Scoring happens in PostgreSQL: the tag index finds the candidates, the score is
/// computed per candidate, and `ORDER BY … LIMIT` keeps the best, so the library is never
/// loaded into memory.
public struct SearchRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger
    /// LIBRARY_ROOT, to give absolute paths beside the stored relative ones.
    public let root: String
    /// Below this many assets of the kind, a query tag is rare (`TopGroup`); tests lower it to
    /// take the first step on small libraries.
    var rareTagRows = SearchStep.TopGroup.defaultRareRows
    /// How many assets of each related tag the fallback reads (`RelatedTags.rowsPerTag`);
    /// tests lower it to reach the cap on small libraries.
    var relatedRowsPerTag = RelatedTags.defaultRowsPerTag
    /// The connection's prepared statements, for a caller that searches many times on it.
    public var statements: PreparedStatements?

    public init(connection: PostgresConnection, logger: Logger, root: String, statements: PreparedStatements? = nil) {
        self.connection = connection
        self.logger = logger
        self.root = root
        self.statements = statements
    }

    /// The best assets for `request`, best first, each with what it matched through.
    ///
    /// Exact: up to three steps, each only when the one before cannot prove its answer
    /// (docs/search.md, "The query"): the top group (`TopGroup`), the levels (`Level`), full
    /// scoring. Related: every asset carrying a query tag or a related one, scored with the
    /// values `RelatedTags` gives; exact search's when no query tag has a related tag.
    public func search(_ request: SearchRequest) async throws(MediaError) -> [ScoredAsset] {
        try await steps(request, seen: nil)
    }

    /// What `search(_:fallingBackBelow:)` found, and whether it fell back.
    public struct Outcome: Sendable {
        public let results: [ScoredAsset]
        /// The exact search had fewer than the asked number of full matches, and related tags
        /// (there were some) were used.
        public let fellBack: Bool
        /// How many results carried every query tag exactly.
        public let exactMatches: Int
    }

    /// Exact first (`request.matching` is ignored); when fewer than `minMatches` results carry
    /// every query tag exactly, the search again with related tags.
    public func search(_ request: SearchRequest, fallingBackBelow minMatches: Int) async throws(MediaError) -> Outcome {
        var exact = request
        exact.matching = .exact
        let results = try await steps(exact, seen: nil)
        let full = results.count { $0.scoreParts.tagAnd == 1 }
        guard full < minMatches else { return Outcome(results: results, fellBack: false, exactMatches: full) }
        let related = try await relatedTags(for: request.tags)
        guard !related.isEmpty else { return Outcome(results: results, fellBack: false, exactMatches: full) }
        var wider = request
        wider.matching = .related
        return Outcome(results: try await searchRelated(wider, related, seen: nil), fellBack: true, exactMatches: full)
    }

    /// The fallback's one query: every candidate of the query tags and `related`, scored.
    private func searchRelated(
        _ request: SearchRequest, _ related: RelatedTags, seen: ((String, SQLText) -> Void)?
    ) async throws(MediaError) -> [ScoredAsset] {
        let query = SearchQuery.build(request, topGroup: nil, related: related)
        seen?("related tags: every candidate scored", query)
        return try await run(query, request: request, related: related)
    }

    /// Runs search's steps until one answers; `seen` is told each step's title and query.
    private func steps(
        _ request: SearchRequest, seen: ((String, SQLText) -> Void)?
    ) async throws(MediaError) -> [ScoredAsset] {
        try request.validate()
        if request.matching == .related {
            let related = try await relatedTags(for: request.tags)
            if !related.isEmpty { return try await searchRelated(request, related, seen: seen) }
            seen?("related tags: none, so exact search", SQLText())
        }
        if let group = SearchStep.TopGroup(request, tagRows: try await tagRows(request), rareRows: rareTagRows) {
            let query = SearchQuery.build(request, topGroup: group)
            let results = try await run(query, request: request)
            let answered = group.answers(results, limit: request.limit)
            seen?("top group: " + (answered ? "answered" : "too few reach the top score"), query)
            if answered { return results }
            for size in stride(from: group.commonTerms.count, through: 2, by: -1) {
                guard let level = SearchStep.Level(request, group: group, size: size) else { continue }
                let query = SearchQuery.build(request, topGroup: group, level: level)
                let results = try await run(query, request: request)
                let answered = level.answers(results, limit: request.limit)
                seen?(
                    "level \(size) of \(group.commonTerms.count) common tags: "
                        + (answered ? "answered" : "not enough above \(level.bound)"), query)
                if answered { return results }
            }
            seen?("full scoring", SearchQuery.build(request, topGroup: nil))
        } else {
            seen?("full scoring (every query tag is rare)", SearchQuery.build(request, topGroup: nil))
        }
        return try await run(SearchQuery.build(request, topGroup: nil), request: request)
    }

    func run(_ text: SQLText, request: SearchRequest, related: RelatedTags? = nil) async throws(MediaError) -> [ScoredAsset] {
        // What each result matched through, from its tags: what the SQL counted (for exact
        // search, a `RelatedTags` without relations).
        let via = related ?? RelatedTags(query: request.tags, relations: [])
        do {
            return try await rows(text).map { row in
                let cells = row.makeRandomAccess()
                var asset = try decode(cells, request: request)
                if related == nil {
                    asset.matchedVia = via.matches(in: asset.tags).compactMap { $0 }
                } else {
                    asset.matchedVia = via.matches(in: asset.tags, values: try cells[22].binary([Double].self)).compactMap { $0 }
                }
                return asset
            }
        } catch let error as MediaError {
            throw error
        } catch {
            throw DatabaseFailure.translate(error, "cannot search the library")
        }
    }

    /// Through the prepared statements when there are any, else as a one-off query.
    func rows(_ text: SQLText) async throws -> [PostgresRow] {
        if let statements { return try await statements.rows(text) }
        var rows: [PostgresRow] = []
        for try await row in try await connection.query(text.query, logger: logger) { rows.append(row) }
        return rows
    }

    /// The relations of `query`'s tags and their forms, from every source (`tag_relation`).
    public func relatedTags(for query: QueryTags) async throws(MediaError) -> RelatedTags {
        let forms = Array(Set(query.forms.joined())).sorted()
        var q = SQLText()
        let terms = q.bind(forms)
        q.sql = "SELECT term, related, relation, source, weight FROM tag_relation WHERE term = ANY(\(terms)::text[])"
        var relations: [RelatedTags.Relation] = []
        do {
            for row in try await rows(q) {
                let c = row.makeRandomAccess()
                relations.append(
                    .init(
                        term: try c[0].binary(String.self), related: try c[1].binary(String.self),
                        relation: try c[2].binary(String.self), source: try c[3].binary(String.self),
                        weight: try c[4].binary(Double.self)))
            }
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the related tags")
        }
        var related = RelatedTags(query: query, relations: relations)
        related.rowsPerTag = relatedRowsPerTag
        return related
    }

    /// For each query tag (by its index in `request.tags`), how many present assets of the
    /// kind carry one of its forms, counted up to `rareTagRows` a form, and its density: the
    /// share of asset ids its first `rareTagRows` rows span, an estimate of how common it is
    /// that costs one short index read. (PostgreSQL's statistics in `pg_stats` would do too,
    /// but planning that view took 3 ms, more than the search.)
    func tagRows(_ request: SearchRequest) async throws(MediaError) -> [Int: (rows: Int, density: Double)] {
        let (terms, names) = request.tags.pairs
        var q = SQLText()
        let termList = q.bind(terms)
        let nameList = q.bind(names)
        let kind = q.bind(request.kind.rawValue)
        let rare = q.bind(Int64(rareTagRows))
        q.sql = """
            SELECT f.term, sum(c.n)::int8, sum(d.density)::float8
            FROM unnest(\(termList)::int4[], \(nameList)::text[]) AS f(term, name)
            JOIN tag t ON t.folded = fold_tag(f.name)
            CROSS JOIN LATERAL (
                SELECT count(*) AS n FROM (
                    SELECT 1 FROM asset_tag x
                    WHERE x.tag_id = t.id AND x.present AND x.kind = \(kind)::asset_kind
                    LIMIT \(rare)::int8) s) c
            CROSS JOIN LATERAL (
                SELECT count(*)::float8 / greatest(1, max(s.asset_id) - min(s.asset_id) + 1) AS density FROM (
                    SELECT x.asset_id FROM asset_tag x WHERE x.tag_id = t.id ORDER BY x.asset_id
                    LIMIT \(rare)::int8) s) d
            GROUP BY f.term
            """
        var counts: [Int: (rows: Int, density: Double)] = [:]
        do {
            for row in try await rows(q) {
                let cells = row.makeRandomAccess()
                counts[Int(try cells[0].binary(Int32.self))] = (Int(try cells[1].binary(Int64.self)), try cells[2].binary(Double.self))
            }
        } catch {
            throw DatabaseFailure.translate(error, "cannot search the library")
        }
        return counts
    }

    /// `EXPLAIN (ANALYZE, BUFFERS)` of exactly the queries `search` runs, for docs/search.md:
    /// each step's, up to the one that answers.
    public func explain(_ request: SearchRequest) async throws(MediaError) -> [String] {
        var queries: [(String, SQLText)] = []
        _ = try await steps(request) { queries.append(($0, $1)) }
        var lines: [String] = []
        for (title, original) in queries {
            guard !original.sql.isEmpty else {
                lines.append("-- " + title)
                continue
            }
            var query = original.query
            query.sql = "EXPLAIN (ANALYZE, BUFFERS) " + query.sql
            lines.append("-- " + title)
            do {
                let rows = try await connection.query(query, logger: logger)
                for try await line in rows.decode(String.self) { lines.append(line) }
            } catch {
                throw DatabaseFailure.translate(error, "cannot explain the search")
            }
        }
        return lines
    }

    private func decode(_ c: PostgresRandomAccessRow, request: SearchRequest) throws -> ScoredAsset {
        let path = try c[3].binary(String.self)
        let thumb = try c[4].binary(String?.self)
        let parts = Scoring.Parts(
            tagAnd: try c[14].binary(Double.self), tagOr: try c[15].binary(Double.self),
            recency: try c[16].binary(Double.self), recencyBoost: request.recencyBoost,
            aspectFit: try c[17].binary(Double.self), matchedTags: try c[18].binary(Int.self),
            queryTags: request.tags.count, daysSinceLastUse: try c[19].binary(Double.self),
            rating: Int(try c[20].binary(Int16.self)), matchedThroughRelations: try c[21].binary(Int.self))
        return ScoredAsset(
            id: try c[0].binary(Int64.self), kind: MediaFormat.Kind(rawValue: try c[1].binary(String.self)) ?? request.kind,
            sha256: try c[2].binary(String.self), path: path, absolutePath: root + "/" + path,
            thumbPath: thumb, absoluteThumbPath: thumb.map { root + "/" + $0 },
            width: try c[5].binary(Int.self), height: try c[6].binary(Int.self),
            durationMs: try c[7].binary(Int64?.self), tags: try c[8].binary([String].self),
            provider: try c[9].binary(String?.self), sourceUrl: try c[10].binary(String?.self),
            lastUsedAt: try c[11].binary(Date?.self), createdAt: try c[12].binary(Date.self),
            score: try c[13].binary(Double.self), scoreParts: parts)
    }
}

/// What `mediaq search --json` prints and `mediaq serve` answers at `/api/search`: one type,
/// so the two cannot differ.
public struct SearchReport: Sendable, Encodable {
    public let ok = true
    /// `videos` or `images`.
    public let kind: String
    public let tags: [String]
    public let recencyBoost: Double
    /// `related` when the search fell back on related tags.
    public let matching: TagMatching
    /// Results that carry every query tag exactly.
    public let exactMatches: Int
    public let results: [ScoredAsset]

    public init(kind: String, request: SearchRequest, outcome: SearchRepository.Outcome) {
        self.kind = kind
        self.tags = request.tags.terms
        self.recencyBoost = request.recencyBoost
        self.matching = outcome.fellBack ? .related : .exact
        self.exactMatches = outcome.exactMatches
        self.results = outcome.results
    }

    enum CodingKeys: String, CodingKey {
        case ok, kind, tags, recencyBoost, matching, exactMatches, results
    }
}
