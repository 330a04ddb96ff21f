public import Foundation
public import Logging
public import PostgresNIO
import NIOCore
import Synchronization

/// One search result: the asset, where it is, where it came from, and its score with the parts.
public struct ScoredAsset: Sendable, Encodable, Equatable {
    public let id: Int64
    public let kind: MediaFormat.Kind
    public let sha256: String
    /// Relative to LIBRARY_ROOT.
    public let path: String
    public let absolutePath: String
    public let thumbPath: String?
    public let absoluteThumbPath: String?
    public let width: Int
    public let height: Int
    public let durationMs: Int64?
    /// Every tag of the asset, sorted.
    public let tags: [String]
    /// The provider of the asset's first recorded source (or of the source the search was
    /// filtered by), and that source's URL.
    public let provider: String?
    public let sourceUrl: String?
    public let lastUsedAt: Date?
    public let createdAt: Date
    public let score: Double
    public let scoreParts: Scoring.Parts

    enum CodingKeys: String, CodingKey {
        case id, kind, sha256, path, absolutePath, thumbPath, absoluteThumbPath, width, height, durationMs, tags
        case provider, sourceUrl, lastUsedAt, createdAt, score, scoreParts
    }

    /// Every key always, `null` when absent: the pipeline reads a fixed shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(path, forKey: .path)
        try container.encode(absolutePath, forKey: .absolutePath)
        try container.encode(thumbPath, forKey: .thumbPath)
        try container.encode(absoluteThumbPath, forKey: .absoluteThumbPath)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(tags, forKey: .tags)
        try container.encode(provider, forKey: .provider)
        try container.encode(sourceUrl, forKey: .sourceUrl)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(score, forKey: .score)
        try container.encode(scoreParts, forKey: .scoreParts)
    }
}

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
    var rareTagRows = TopGroup.defaultRareRows
    /// The connection's prepared statements, for a caller that searches many times on it.
    public var statements: PreparedStatements?

    public init(connection: PostgresConnection, logger: Logger, root: String, statements: PreparedStatements? = nil) {
        self.connection = connection
        self.logger = logger
        self.root = root
        self.statements = statements
    }

    /// The best assets for `request`, best first.
    ///
    /// Up to three steps, each only when the one before cannot prove its answer (docs/search.md,
    /// "The query"): the top group (`TopGroup`), the levels (`Level`), full scoring.
    public func search(_ request: SearchRequest) async throws(MediaError) -> [ScoredAsset] {
        try await steps(request, seen: nil)
    }

    /// Runs search's steps until one answers; `seen` is told each step's title and query.
    private func steps(
        _ request: SearchRequest, seen: ((String, SQLText) -> Void)?
    ) async throws(MediaError) -> [ScoredAsset] {
        try request.validate()
        if let group = TopGroup(request, tagRows: try await tagRows(request), rareRows: rareTagRows) {
            let query = Self.searchQuery(request, topGroup: group)
            let results = try await run(query, request: request)
            let answered = group.answers(results, limit: request.limit)
            seen?("top group: " + (answered ? "answered" : "too few reach the top score"), query)
            if answered { return results }
            for size in stride(from: group.commonTerms.count, through: 2, by: -1) {
                guard let level = Level(request, group: group, size: size) else { continue }
                let query = Self.searchQuery(request, topGroup: group, level: level)
                let results = try await run(query, request: request)
                let answered = level.answers(results, limit: request.limit)
                seen?("level \(size) of \(group.commonTerms.count) common tags: " + (answered ? "answered" : "not enough above \(level.bound)"), query)
                if answered { return results }
            }
            seen?("full scoring", Self.searchQuery(request, topGroup: nil))
        } else {
            seen?("full scoring (every query tag is rare)", Self.searchQuery(request, topGroup: nil))
        }
        return try await run(Self.searchQuery(request, topGroup: nil), request: request)
    }

    func run(_ text: SQLText, request: SearchRequest) async throws(MediaError) -> [ScoredAsset] {
        do {
            return try await rows(text).map { try decode($0.makeRandomAccess(), request: request) }
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
            JOIN tag t ON t.name = f.name
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

    /// Search's first step. Query tags carried by fewer than `rareRows` assets of the kind are
    /// *rare*: all their assets are scored. An asset carrying none of them matches at most the
    /// k common tags, so it scores at most `maximumScore`: those k tags (m = k), a score that
    /// does not grow with more days unused (recency at its ceiling, from `groupDays` on) and
    /// exactly the desired aspect. The assets that reach it tie, and rank by pixels, later last
    /// use, then id: the order of `asset_tag_tie_order` and `asset_tag_aspect_tie_order`, so
    /// the best `limit` of them are read with a LIMIT through one common tag's forms (the
    /// least dense, checking the other common tags per row).
    /// Beside them, the few that could round to the same score from just outside: the `edge`
    /// (last use within a minute of `groupDays`) and the `near` aspects (within 10⁻⁹ of the
    /// desired one). If the `limit`-th result has `maximumScore`, nothing unread can rank
    /// before it.
    struct TopGroup {
        /// Below this many assets of the kind (per form), a query tag's assets are all scored.
        static let defaultRareRows = 1000

        /// Query tags (indexes into `request.tags`) whose assets are all scored.
        let rareTerms: [Int32]
        /// The others; `driver` is the one read in tie order.
        let commonTerms: [Int32]
        let driver: Int32
        /// Each common term's density (`tagRows`): the least dense drives a read.
        let densities: [Int32: Double]
        /// The highest score an asset without a rare tag can reach.
        let maximumScore: Double
        /// From this many days since last use on, the score is `maximumScore` (nil: always, no boost).
        let groupDays: Double?

        init?(_ request: SearchRequest, tagRows: [Int: (rows: Int, density: Double)], rareRows: Int) {
            let all = (0..<request.tags.count).map { Int32($0) }
            rareTerms = all.filter { (tagRows[Int($0)]?.rows ?? 0) < rareRows }
            commonTerms = all.filter { (tagRows[Int($0)]?.rows ?? 0) >= rareRows }
            func density(_ term: Int32) -> Double { tagRows[Int(term)]?.density ?? 0 }
            // Every query tag rare: scoring all their assets is the fast way.
            guard let driver = commonTerms.min(by: { (density($0), $0) < (density($1), $1) }) else { return nil }
            self.driver = driver
            densities = Dictionary(uniqueKeysWithValues: commonTerms.map { ($0, density($0)) })
            let matched = commonTerms.count
            let queryCount = request.tags.count
            let aspectFit = request.aspect == nil ? 0 : Scoring.aspectFitMaximum
            func score(days: Double) -> Double {
                Scoring.Parts(
                    tagAnd: matched == queryCount ? 1 : 0, tagOr: Double(matched) / Double(queryCount),
                    recency: Scoring.recency(daysSinceLastUse: days), recencyBoost: request.recencyBoost,
                    aspectFit: aspectFit, matchedTags: matched, queryTags: queryCount, daysSinceLastUse: days
                ).score
            }
            let top = score(days: 100_000)
            maximumScore = top
            // The score is monotone in the days since last use: find where it reaches its top.
            if score(days: -100_000) == top {
                groupDays = nil
            } else {
                var low = -100_000.0  // below the top
                var high = 100_000.0  // at the top
                for _ in 0..<80 {
                    let middle = (low + high) / 2
                    if score(days: middle) == top { high = middle } else { low = middle }
                }
                groupDays = high
            }
        }

        /// A minute either side of `groupDays`, for the rounding of timestamps into days.
        static let edgeMargin = 60.0 / 86_400

        /// The top group answered when `limit` rows came back and the last still has the top score.
        func answers(_ results: [ScoredAsset], limit: Int) -> Bool {
            results.count == limit && results.last.map { $0.score >= maximumScore } == true
        }
    }

    /// Search's second step, when the top group is short: scored exactly, beside every asset
    /// of the rare tags, every asset that carries all the common query tags, and every asset
    /// that carries at least `size` of them and (with a desired aspect) earns some aspect fit.
    /// Each set of common tags is read through its least dense tag, the others checked per row
    /// by primary key: the cost is the rows of those tags, not of the most common one. An asset
    /// left out carries fewer than `size` common tags, or fewer than all of them and no aspect
    /// fit, so it scores at most `bound`; when the `limit`-th result scores above it, that is
    /// the answer. Levels run from every common tag down to two; one is full scoring.
    struct Level {
        static let maximumSets = 6

        let size: Int
        /// Per set of common terms: the term read, the ones checked, and whether only aspects
        /// with a fit are read.
        let sets: [(driver: Int32, others: [Int32], windowed: Bool)]
        /// The highest score an asset outside the level can have.
        let bound: Double

        init?(_ request: SearchRequest, group: TopGroup, size: Int) {
            let common = group.commonTerms
            guard size >= 2, size <= common.count else { return nil }
            let combinations = Self.combinations(of: common, size: size)
            guard combinations.count <= Self.maximumSets else { return nil }
            self.size = size
            func read(_ set: [Int32], windowed: Bool) -> (driver: Int32, others: [Int32], windowed: Bool) {
                let driver = set.min { (group.densities[$0] ?? 0, $0) < (group.densities[$1] ?? 0, $1) }!
                return (driver, set.filter { $0 != driver }, windowed)
            }
            let windowed = request.aspect != nil
            if size == common.count {
                sets = [read(common, windowed: false)]
            } else {
                sets = combinations.map { read($0, windowed: windowed) } + (windowed ? [read(common, windowed: false)] : [])
            }
            // An asset outside carries no rare tag (all of theirs are in) and not every common
            // tag: with fewer than `size` of them m ≤ size − 1; with more, it has no aspect fit
            // and m ≤ common − 1; recency at most 1.
            func score(matched: Int, aspectFit: Double) -> Double {
                Scoring.Parts(
                    tagAnd: matched == request.tags.count ? 1 : 0, tagOr: Double(matched) / Double(request.tags.count),
                    recency: 1, recencyBoost: request.recencyBoost, aspectFit: aspectFit, matchedTags: matched,
                    queryTags: request.tags.count, daysSinceLastUse: 0
                ).score
            }
            var bound = score(matched: size - 1, aspectFit: request.aspect == nil ? 0 : Scoring.aspectFitMaximum)
            if windowed && size < common.count { bound = max(bound, score(matched: common.count - 1, aspectFit: 0)) }
            self.bound = bound
        }

        /// Answered when `limit` rows came back and the last scores above what is left out
        /// (a tie could lose to an unread asset on pixels or id).
        func answers(_ results: [ScoredAsset], limit: Int) -> Bool {
            results.count == limit && results.last.map { $0.score > bound } == true
        }

        static func combinations(of terms: [Int32], size: Int) -> [[Int32]] {
            guard size > 0 else { return [[]] }
            guard terms.count >= size else { return [] }
            let first = terms[0]
            let rest = Array(terms.dropFirst())
            return combinations(of: rest, size: size - 1).map { [first] + $0 } + combinations(of: rest, size: size)
        }
    }

    /// The query, with every constant of `Scoring` bound as a parameter so that the SQL and
    /// the Swift reference cannot drift apart. With `topGroup`, only the top group, its edge
    /// and the rare tags' assets are scored; without, every asset carrying a query tag.
    static func searchQuery(_ request: SearchRequest, topGroup: TopGroup?, level: Level? = nil) -> SQLText {
        var q = SQLText()
        let (terms, names) = request.tags.pairs
        let queryCount = q.bind(Int32(request.tags.count))
        let asOf = q.bind(request.asOf)
        // What every asset_tag row `x` read must satisfy: the filters, from the row alone (the
        // provider excepted).
        var filters = "x.present AND x.kind = \(q.bind(request.kind.rawValue))::asset_kind"
        if request.minWidth > 0 { filters += " AND x.width >= \(q.bind(Int32(request.minWidth)))::int4" }
        if request.minHeight > 0 { filters += " AND x.height >= \(q.bind(Int32(request.minHeight)))::int4" }
        if let minDuration = request.minDurationMs { filters += " AND x.duration_ms >= \(q.bind(minDuration))::int8" }
        if !request.excluding.isEmpty {
            filters += " AND NOT (x.asset_id = ANY(\(q.bind(request.excluding.sorted()))::int8[]))"
        }
        if let provider = request.provider {
            filters += """
                 AND EXISTS (SELECT 1 FROM provenance p WHERE p.asset_id = x.asset_id AND p.provider = \(q.bind(provider))::text)
                """
        }
        let aspect = request.aspect.map { q.bind($0) + "::float8" }
        let termList = q.bind(terms)
        let nameList = q.bind(names)
        q.sql = """
            WITH form_tag AS (
                SELECT f.term, t.id AS tag_id
                FROM unnest(\(termList)::int4[], \(nameList)::text[]) AS f(term, name)
                JOIN tag t ON t.name = f.name
            )
            """
        // m per asset: the distinct query terms it carries, as a bit per term (`bit_or`, then
        // `bit_count`): one hash aggregate, where counting distinct terms sorted every row.
        var matched = """
            SELECT x.asset_id AS id, bit_count(bit_or(1::int8 << ft.term)::bit(64))::int4 AS matched,
                   min(x.width) AS width, min(x.height) AS height, min(x.last_use) AS last_use
            FROM form_tag ft JOIN asset_tag x ON x.tag_id = ft.tag_id
            WHERE \(filters)
            GROUP BY x.asset_id
            """
        if let topGroup {
            // The top group's cuts; a level reads no recency cut (and binds no unused parameter:
            // a prepared statement could not type it).
            let groupDays = level == nil ? topGroup.groupDays : nil
            let groupCut = groupDays.map {
                q.bind(request.asOf.addingTimeInterval(-($0 + TopGroup.edgeMargin) * 86_400)) + "::timestamptz"
            }
            let edgeCut = groupDays.map {
                q.bind(request.asOf.addingTimeInterval(-($0 - TopGroup.edgeMargin) * 86_400)) + "::timestamptz"
            }
            var candidates: [String] = []
            if let level {
                // The aspect window: where aspectFit > 0 (same orientation, within a factor 2),
                // widened by 10⁻⁹ so that rounding leaves nothing with a fit outside it.
                var window = ""
                if let aspect, let desired = request.aspect, level.sets.contains(where: \.windowed) {
                    window = """
                         AND x.width::float8 / x.height > \(q.bind(desired / Scoring.aspectFitZeroFactor * (1 - 1e-9)))::float8
                         AND x.width::float8 / x.height < \(q.bind(desired * Scoring.aspectFitZeroFactor * (1 + 1e-9)))::float8
                         AND (x.width::float8 / x.height - 1) * (\(aspect) - 1) >= 0
                        """
                }
                let reads = level.sets.map { set -> String in
                    let checks = set.others.map { term in
                        """
                         AND EXISTS (SELECT 1 FROM form_tag o JOIN asset_tag y ON y.tag_id = o.tag_id
                                     WHERE o.term = \(q.bind(term))::int4 AND y.asset_id = x.asset_id)
                        """
                    }.joined()
                    return """
                        SELECT x.asset_id, x.width, x.height, x.last_use FROM form_tag ft JOIN asset_tag x ON x.tag_id = ft.tag_id
                        WHERE ft.term = \(q.bind(set.driver))::int4 AND \(filters)\(set.windowed ? window : "")\(checks)
                        """
                }
                q.sql += ", level AS (\(reads.joined(separator: " UNION ")))"
                candidates.append("SELECT * FROM level")
            } else {
                var member = filters
                if let groupCut { member += " AND x.last_use <= \(groupCut)" }
                if let aspect { member += " AND x.width::float8 / x.height = \(aspect)" }
                if topGroup.commonTerms.count > 1 {
                    let common = q.bind(topGroup.commonTerms)
                    member += """
                         AND (SELECT count(DISTINCT o.term) FROM form_tag o JOIN asset_tag y ON y.tag_id = o.tag_id
                              WHERE y.asset_id = x.asset_id AND o.term = ANY(\(common)::int4[])) = \(q.bind(Int64(topGroup.commonTerms.count)))::int8
                        """
                }
                let driver = "\(q.bind(topGroup.driver))::int4"
                let groupLimit = q.bind(Int64(request.limit))
                q.sql += """
                    , top_group AS (
                        SELECT g.* FROM (SELECT * FROM form_tag WHERE term = \(driver)) ft
                        CROSS JOIN LATERAL (
                            SELECT x.asset_id, x.width, x.height, x.last_use FROM asset_tag x
                            WHERE x.tag_id = ft.tag_id AND \(member)
                            ORDER BY x.width::int8 * x.height DESC, x.last_use DESC, x.asset_id
                            LIMIT \(groupLimit)::int8) g
                    )
                    """
                candidates.append("SELECT * FROM top_group")
            }
            if !topGroup.rareTerms.isEmpty {
                let rareTerms = q.bind(topGroup.rareTerms)
                q.sql += """
                    , rare AS (
                        SELECT x.asset_id, x.width, x.height, x.last_use FROM form_tag ft JOIN asset_tag x ON x.tag_id = ft.tag_id
                        WHERE ft.term = ANY(\(rareTerms)::int4[]) AND \(filters)
                    )
                    """
                candidates.append("SELECT * FROM rare")
            }
            if let groupCut, let edgeCut {
                q.sql += """
                    , edge AS (
                        SELECT x.asset_id, x.width, x.height, x.last_use FROM form_tag ft JOIN asset_tag x ON x.tag_id = ft.tag_id
                        WHERE \(filters) AND x.last_use > \(groupCut) AND x.last_use <= \(edgeCut)
                    )
                    """
                candidates.append("SELECT * FROM edge")
            }
            if level == nil, let aspect, let desired = request.aspect {
                let low = q.bind(desired * (1 - 1e-9))
                let high = q.bind(desired * (1 + 1e-9))
                // Two ranges, below and above: the desired aspect itself may be thousands of rows.
                let recent = edgeCut.map { " AND x.last_use <= \($0)" } ?? ""
                q.sql += """
                    , near AS (
                        SELECT x.asset_id, x.width, x.height, x.last_use FROM form_tag ft JOIN asset_tag x ON x.tag_id = ft.tag_id
                        WHERE \(filters)\(recent)
                          AND x.width::float8 / x.height > \(low)::float8 AND x.width::float8 / x.height < \(aspect)
                        UNION ALL
                        SELECT x.asset_id, x.width, x.height, x.last_use FROM form_tag ft JOIN asset_tag x ON x.tag_id = ft.tag_id
                        WHERE \(filters)\(recent)
                          AND x.width::float8 / x.height > \(aspect) AND x.width::float8 / x.height < \(high)::float8
                    )
                    """
                candidates.append("SELECT * FROM near")
            }
            q.sql += ", top_candidate AS (\(candidates.joined(separator: " UNION ")))"
            // Each candidate comes with its inputs from the index row that found it (every tag
            // row of an asset carries the same copy, and the filters were applied there); m is
            // counted from its tag rows by primary key.
            matched = """
                SELECT c.asset_id AS id,
                       (SELECT bit_count(bit_or(1::int8 << o.term)::bit(64))
                        FROM asset_tag y JOIN form_tag o ON o.tag_id = y.tag_id
                        WHERE y.asset_id = c.asset_id)::int4 AS matched,
                       c.width, c.height, c.last_use
                FROM top_candidate c
                """
        }
        let clamp = q.bind(Scoring.recencyClamp)
        let centre = q.bind(Scoring.recencyCentreDays)
        let widthDays = q.bind(Scoring.recencyWidthDays)
        var aspectFit = "0.0::float8"
        if let aspect {
            let maximum = q.bind(Scoring.aspectFitMaximum)
            let zeroFactor = q.bind(Scoring.aspectFitZeroFactor)
            aspectFit = """
                CASE WHEN (c.ratio - 1) * (\(aspect) - 1) < 0 THEN 0.0::float8
                             ELSE \(maximum)::float8 * greatest(0.0::float8, 1 - abs(ln(c.ratio / \(aspect))) / ln(\(zeroFactor)::float8))
                        END
                """
        }
        let boost = q.bind(request.recencyBoost)
        let limit = q.bind(Int32(request.limit))
        let provider = q.bind(request.provider)
        q.sql += """
            , matched AS MATERIALIZED (
                -- Materialised: m is read by several expressions below, and a subquery would be
                -- evaluated again for each.
                \(matched)
            ), candidate AS (
                SELECT m.id, m.width, m.height, m.matched, m.last_use,
                       (extract(epoch FROM \(asOf)::timestamptz) - extract(epoch FROM m.last_use))::float8 / 86400 AS days,
                       m.width::float8 / m.height AS ratio
                FROM matched m
            ), part AS (
                SELECT c.id, c.width, c.height, c.matched, c.last_use, c.days,
                       CASE WHEN c.matched = \(queryCount)::int4 THEN 1.0::float8 ELSE 0.0::float8 END AS tag_and,
                       c.matched::float8 / \(queryCount)::int4::float8 AS tag_or,
                       1.0::float8 / (1.0::float8 + exp(-greatest(-\(clamp)::float8, least(\(clamp)::float8,
                           (c.days - \(centre)::float8) / \(widthDays)::float8)))) AS recency,
                       \(aspectFit) AS aspect_fit
                FROM candidate c
            ), ranked AS (
                SELECT p.*, p.tag_and + 0.5 * p.tag_or + \(boost)::float8 * p.recency + p.aspect_fit AS score
                FROM part p
                ORDER BY score DESC, p.width::int8 * p.height DESC, p.last_use DESC, p.id
                LIMIT \(limit)::int4
            )
            SELECT r.id, a.kind::text, a.sha256, a.path, th.path, a.width, a.height, a.duration_ms,
                   coalesce(tg.names, '{}'::text[]), src.provider, src.source_url, a.last_used_at, a.created_at,
                   r.score, r.tag_and, r.tag_or, r.recency, r.aspect_fit, r.matched, r.days
            FROM ranked r
            JOIN asset a ON a.id = r.id
            LEFT JOIN thumbnail th ON th.asset_id = r.id AND th.status = 'ok'
            LEFT JOIN LATERAL (
                SELECT p.provider, p.source_url FROM provenance p WHERE p.asset_id = r.id
                ORDER BY p.provider IS NOT DISTINCT FROM \(provider)::text DESC, p.first_seen_at, p.id
                LIMIT 1) src ON true
            LEFT JOIN LATERAL (
                -- Each name by the tag's primary key: a join here was planned as a scan of all tags per row.
                SELECT array_agg(n.name ORDER BY n.name) AS names
                FROM (SELECT (SELECT t.name FROM tag t WHERE t.id = x.tag_id) AS name
                      FROM asset_tag x WHERE x.asset_id = r.id) n) tg ON true
            ORDER BY r.score DESC, r.width::int8 * r.height DESC, r.last_use DESC, r.id
            """
        return q
    }

    private func decode(_ c: PostgresRandomAccessRow, request: SearchRequest) throws -> ScoredAsset {
        let path = try c[3].binary(String.self)
        let thumb = try c[4].binary(String?.self)
        let parts = Scoring.Parts(
            tagAnd: try c[14].binary(Double.self), tagOr: try c[15].binary(Double.self),
            recency: try c[16].binary(Double.self), recencyBoost: request.recencyBoost,
            aspectFit: try c[17].binary(Double.self), matchedTags: try c[18].binary(Int.self),
            queryTags: request.tags.count, daysSinceLastUse: try c[19].binary(Double.self))
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

/// SQL text and its parameters, numbered as they are bound, for a query whose parts depend on
/// the request (each part's parameters bound once, however often the part is used). The values
/// are kept both ways: as bindings for a one-off query, and as `PostgresData` for a prepared
/// statement (`PreparedStatements`).
struct SQLText {
    var sql = ""
    var binds = PostgresBindings()
    var values: [PostgresData] = []

    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        var buffer = ByteBuffer()
        value.encode(into: &buffer, context: .default)
        values.append(PostgresData(type: value.psqlType, formatCode: value.psqlFormat, value: buffer))
        return "$\(binds.count)"
    }

    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        guard let value else {
            binds.appendNull()
            values.append(PostgresData(type: .null))
            return "$\(binds.count)"
        }
        return bind(value)
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// The statements a connection has prepared, by their SQL. Search's SQL takes a few shapes (by
/// which steps and filters a request needs), and planning one cost 2–3 ms, more than running
/// it: a connection that searches many times (`mediaq plan`, the benchmark) prepares each shape
/// once and lets PostgreSQL cache its plan. Tied to one connection; one search at a time.
public final class PreparedStatements: Sendable {
    let connection: PostgresConnection
    private let prepared = Mutex<[String: PreparedQuery]>([:])

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    func rows(_ text: SQLText) async throws -> [PostgresRow] {
        let statement: PreparedQuery
        if let known = prepared.withLock({ $0[text.sql] }) {
            statement = known
        } else {
            statement = try await connection.prepare(query: text.sql).get()
            prepared.withLock { $0[text.sql] = statement }
        }
        return try await statement.execute(text.values).get()
    }
}

extension PostgresCell {
    /// The value read as binary, which is what the driver always asks the server for: its
    /// prepared-statement path labels the columns with the format the statement's description
    /// gave (text), and `decode` would then misread them.
    func binary<Value: PostgresDecodable>(_: Value.Type) throws -> Value {
        var buffer = bytes
        return try Value._decodeRaw(from: &buffer, type: dataType, format: .binary, context: .default)
    }
}
