public import Foundation
public import Logging
public import PostgresNIO

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

    public init(connection: PostgresConnection, logger: Logger, root: String) {
        self.connection = connection
        self.logger = logger
        self.root = root
    }

    /// The best assets for `request`, best first.
    public func search(_ request: SearchRequest) async throws(MediaError) -> [ScoredAsset] {
        try request.validate()
        var results: [ScoredAsset] = []
        do {
            let rows = try await connection.query(Self.searchQuery(request), logger: logger)
            for try await row in rows {
                results.append(try decode(row.makeRandomAccess(), request: request))
            }
        } catch let error as MediaError {
            throw error
        } catch {
            throw AssetRepository.describe(error, "cannot search the library")
        }
        return results
    }

    /// `EXPLAIN (ANALYZE, BUFFERS)` of exactly the query `search` runs, for docs/search.md.
    public func explain(_ request: SearchRequest) async throws(MediaError) -> [String] {
        try request.validate()
        var query = Self.searchQuery(request)
        query.sql = "EXPLAIN (ANALYZE, BUFFERS) " + query.sql
        var lines: [String] = []
        do {
            let rows = try await connection.query(query, logger: logger)
            for try await line in rows.decode(String.self) { lines.append(line) }
        } catch {
            throw AssetRepository.describe(error, "cannot explain the search")
        }
        return lines
    }

    /// The query, with every constant of `Scoring` bound as a parameter so that the SQL and
    /// the Swift reference cannot drift apart.
    static func searchQuery(_ request: SearchRequest) -> PostgresQuery {
        let (terms, names) = request.tags.pairs
        let excluded = Array(request.excluding)
        let queryCount = request.tags.count
        return """
            WITH query_form AS (
                SELECT f.term, f.name FROM unnest(\(terms)::int4[], \(names)::text[]) AS f(term, name)
            ), matched AS (
                -- The tag index: each form's tag row, then the assets carrying it.
                SELECT m.asset_id, count(*)::int4 AS matched
                FROM (SELECT DISTINCT x.asset_id, f.term
                      FROM query_form f
                      JOIN tag t ON t.name = f.name
                      JOIN asset_tag x ON x.tag_id = t.id) m
                GROUP BY m.asset_id
            ), candidate AS (
                SELECT a.id, a.width, a.height, m.matched,
                       coalesce(a.last_used_at, a.created_at) AS last_use,
                       (extract(epoch FROM \(request.asOf)::timestamptz)
                        - extract(epoch FROM coalesce(a.last_used_at, a.created_at)))::float8 / 86400 AS days,
                       a.width::float8 / a.height AS ratio
                FROM matched m JOIN asset a ON a.id = m.asset_id
                WHERE a.state = 'present' AND a.kind = \(request.kind.rawValue)::asset_kind
                  AND a.width >= \(request.minWidth)::int4 AND a.height >= \(request.minHeight)::int4
                  AND (\(request.minDurationMs)::int8 IS NULL OR a.duration_ms >= \(request.minDurationMs)::int8)
                  AND NOT (a.id = ANY(\(excluded)::int8[]))
                  AND (\(request.provider)::text IS NULL OR EXISTS (
                        SELECT 1 FROM provenance p WHERE p.asset_id = a.id AND p.provider = \(request.provider)::text))
            ), part AS (
                SELECT c.id, c.width, c.height, c.matched, c.last_use, c.days,
                       CASE WHEN c.matched = \(queryCount)::int4 THEN 1.0::float8 ELSE 0.0::float8 END AS tag_and,
                       c.matched::float8 / \(queryCount)::int4::float8 AS tag_or,
                       1.0::float8 / (1.0::float8 + exp(-greatest(-\(Scoring.recencyClamp)::float8, least(\(Scoring.recencyClamp)::float8,
                           (c.days - \(Scoring.recencyCentreDays)::float8) / \(Scoring.recencyWidthDays)::float8)))) AS recency,
                       CASE WHEN \(request.aspect)::float8 IS NULL THEN 0.0::float8
                            WHEN (c.ratio - 1) * (\(request.aspect)::float8 - 1) < 0 THEN 0.0::float8
                            ELSE \(Scoring.aspectFitMaximum)::float8 * greatest(0.0::float8,
                                 1 - abs(ln(c.ratio / \(request.aspect)::float8)) / ln(\(Scoring.aspectFitZeroFactor)::float8))
                       END AS aspect_fit
                FROM candidate c
            ), ranked AS (
                SELECT p.*, p.tag_and + 0.5 * p.tag_or + \(request.recencyBoost)::float8 * p.recency + p.aspect_fit AS score
                FROM part p
                ORDER BY score DESC, p.width::int8 * p.height DESC, p.last_use DESC, p.id
                LIMIT \(request.limit)::int4
            )
            SELECT r.id, a.kind::text, a.sha256, a.path, th.path, a.width, a.height, a.duration_ms,
                   coalesce(tg.names, '{}'::text[]), src.provider, src.source_url, a.last_used_at, a.created_at,
                   r.score, r.tag_and, r.tag_or, r.recency, r.aspect_fit, r.matched, r.days
            FROM ranked r
            JOIN asset a ON a.id = r.id
            LEFT JOIN thumbnail th ON th.asset_id = r.id AND th.status = 'ok'
            LEFT JOIN LATERAL (
                SELECT p.provider, p.source_url FROM provenance p WHERE p.asset_id = r.id
                ORDER BY p.provider IS NOT DISTINCT FROM \(request.provider)::text DESC, p.first_seen_at, p.id
                LIMIT 1) src ON true
            LEFT JOIN LATERAL (
                SELECT array_agg(t.name ORDER BY t.name) AS names
                FROM asset_tag x JOIN tag t ON t.id = x.tag_id WHERE x.asset_id = r.id) tg ON true
            ORDER BY r.score DESC, r.width::int8 * r.height DESC, r.last_use DESC, r.id
            """
    }

    private func decode(_ c: PostgresRandomAccessRow, request: SearchRequest) throws -> ScoredAsset {
        let path = try c[3].decode(String.self)
        let thumb = try c[4].decode(String?.self)
        let parts = Scoring.Parts(
            tagAnd: try c[14].decode(Double.self), tagOr: try c[15].decode(Double.self),
            recency: try c[16].decode(Double.self), recencyBoost: request.recencyBoost,
            aspectFit: try c[17].decode(Double.self), matchedTags: try c[18].decode(Int.self),
            queryTags: request.tags.count, daysSinceLastUse: try c[19].decode(Double.self))
        return ScoredAsset(
            id: try c[0].decode(Int64.self), kind: MediaFormat.Kind(rawValue: try c[1].decode(String.self)) ?? request.kind,
            sha256: try c[2].decode(String.self), path: path, absolutePath: root + "/" + path,
            thumbPath: thumb, absoluteThumbPath: thumb.map { root + "/" + $0 },
            width: try c[5].decode(Int.self), height: try c[6].decode(Int.self),
            durationMs: try c[7].decode(Int64?.self), tags: try c[8].decode([String].self),
            provider: try c[9].decode(String?.self), sourceUrl: try c[10].decode(String?.self),
            lastUsedAt: try c[11].decode(Date?.self), createdAt: try c[12].decode(Date.self),
            score: try c[13].decode(Double.self), scoreParts: parts)
    }
}
