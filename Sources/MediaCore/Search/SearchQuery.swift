import Foundation
import PostgresNIO

/// The SQL of search, built from a request and the step it is for.
enum SearchQuery {
    /// The query, with every constant of `Scoring` bound as a parameter so that the SQL and
    /// the Swift reference cannot drift apart. With `topGroup`, only the top group, its edge
    /// and the rare tags' assets are scored; without, every asset carrying a query tag.
    ///
    /// With `related`, the fallback: every asset that carries a query tag or a related tag is
    /// scored with the values `related` gives (no steps: it runs when exact matches fell short).
    static func build(
        _ request: SearchRequest, topGroup: SearchStep.TopGroup?, level: SearchStep.Level? = nil, related: RelatedTags? = nil
    ) -> SQLText {
        precondition(related == nil || topGroup == nil, "the fallback scores every candidate")
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
        var formTag: String
        if let related {
            // Each (query tag, stored tag) once, with the best value a name gave it.
            let triples = related.triples
            formTag = """
                SELECT f.term, t.id AS tag_id, max(f.value) AS value
                FROM unnest(\(q.bind(triples.terms))::int4[], \(q.bind(triples.names))::text[], \(q.bind(triples.values))::float8[])
                     AS f(term, name, value)
                JOIN tag t ON t.folded = fold_tag(f.name)
                GROUP BY f.term, t.id
                """
        } else {
            formTag = """
                SELECT f.term, t.id AS tag_id
                FROM unnest(\(q.bind(terms))::int4[], \(q.bind(names))::text[]) AS f(term, name)
                JOIN tag t ON t.folded = fold_tag(f.name)
                """
        }
        q.sql = """
            WITH form_tag AS (
                \(formTag)
            ), rated AS (
                -- Rated assets (few: an operator's) can score above the bounds the steps prove
                -- with, which assume no rating: all of them that carry a query tag are scored,
                -- through a partial index, and they alone bring a rating. Read apart so that
                -- every other read stays index-only (the rating is not in the covering indexes).
                SELECT DISTINCT x.asset_id, x.width, x.height, x.last_use, x.rating
                FROM form_tag ft JOIN asset_tag x ON x.tag_id = ft.tag_id
                WHERE x.rating > 0 AND \(filters)
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
        if let related {
            // Exact forms: every asset. A related tag: its `relatedRowsPerTag` least recently
            // used assets only (the recency term favours them), so that a generic tag such as
            // `people` reached through `lovers` costs a bounded read, not its thousands of rows.
            // Then per asset, in one aggregate, each query tag's best value.
            let cap = q.bind(Int64(related.rowsPerTag))
            let perTerm = (0..<request.tags.count).map { term in
                "max(c.value) FILTER (WHERE c.term = \(term)) AS v\(term)"
            }.joined(separator: ", ")
            q.sql += """
                , reached AS (
                    SELECT ft.term, ft.value, x.asset_id, x.width, x.height, x.last_use
                    FROM form_tag ft JOIN asset_tag x ON x.tag_id = ft.tag_id
                    WHERE ft.value = 1.0::float8 AND \(filters)
                    UNION ALL
                    SELECT ft.term, ft.value, r.* FROM form_tag ft CROSS JOIN LATERAL (
                        SELECT x.asset_id, x.width, x.height, x.last_use FROM asset_tag x
                        WHERE x.tag_id = ft.tag_id AND \(filters)
                        ORDER BY x.last_use, x.asset_id LIMIT \(cap)::int8) r
                    WHERE ft.value < 1.0::float8
                ), per_asset AS (
                    SELECT c.asset_id AS id, min(c.width) AS width, min(c.height) AS height, min(c.last_use) AS last_use,
                           \(perTerm)
                    FROM reached c GROUP BY c.asset_id
                )
                """
            let terms = (0..<request.tags.count).map { "v\($0)" }
            // Added in query order, as the reference adds them (the values are exact in binary anyway).
            matched = """
                SELECT p.id, p.width, p.height, p.last_use,
                       (\(terms.map { "(\($0) IS NOT NULL)::int4" }.joined(separator: " + "))) AS matched,
                       (\(terms.map { "coalesce(\($0), 0.0::float8)" }.joined(separator: " + "))) AS value_sum,
                       least(\(terms.joined(separator: ", "))) AS value_min,
                       (\(terms.map { "(coalesce(\($0), 1.0::float8) < 1.0::float8)::int4" }.joined(separator: " + "))) AS through_relations,
                       ARRAY[\(terms.map { "coalesce(\($0), 0.0::float8)" }.joined(separator: ", "))] AS term_values
                FROM per_asset p
                """
        }
        if let topGroup {
            // The top group's cuts; a level reads no recency cut (and binds no unused parameter:
            // a prepared statement could not type it).
            let groupDays = level == nil ? topGroup.groupDays : nil
            let groupCut = groupDays.map {
                q.bind(request.asOf.addingTimeInterval(-($0 + SearchStep.TopGroup.edgeMargin) * 86_400)) + "::timestamptz"
            }
            let edgeCut = groupDays.map {
                q.bind(request.asOf.addingTimeInterval(-($0 - SearchStep.TopGroup.edgeMargin) * 86_400)) + "::timestamptz"
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
            candidates.append("SELECT asset_id, width, height, last_use FROM rated")
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
        // Exact matches count 1 each: the sum is m, the least 1 (the same numbers as m itself).
        let values =
            related == nil
            ? "m.matched::float8 AS value_sum, 1.0::float8 AS value_min, 0::int4 AS through_relations"
            : "m.value_sum, m.value_min, m.through_relations"
        // Each query tag's value, for what a result matched through: read for the results only.
        let termValues =
            related == nil ? "'{}'::float8[]" : "(SELECT mv.term_values FROM matched mv WHERE mv.id = r.id)"
        // The fallback puts every asset that carries all the query tags exactly first, whatever
        // its other terms (a large recency boost could otherwise lift a related match above it).
        func exactFirst(_ table: String) -> String { related == nil ? "" : "(\(table).tag_and = 1.0::float8) DESC, " }
        let boost = q.bind(request.recencyBoost)
        let ratingWeight = q.bind(Scoring.ratingWeight)
        let maximumRating = q.bind(Double(Scoring.maximumRating))
        let limit = q.bind(Int32(request.limit))
        let provider = q.bind(request.provider)
        q.sql += """
            , matched AS MATERIALIZED (
                -- Materialised: m is read by several expressions below, and a subquery would be
                -- evaluated again for each.
                \(matched)
            ), candidate AS (
                SELECT m.id, m.width, m.height, m.matched, m.last_use, coalesce(rt.rating, 0)::int2 AS rating,
                       \(values),
                       (extract(epoch FROM \(asOf)::timestamptz) - extract(epoch FROM m.last_use))::float8 / 86400 AS days,
                       m.width::float8 / m.height AS ratio
                FROM matched m LEFT JOIN rated rt ON rt.asset_id = m.id
            ), part AS (
                SELECT c.id, c.width, c.height, c.matched, c.last_use, c.days, c.rating, c.through_relations,
                       CASE WHEN c.matched = \(queryCount)::int4 THEN c.value_min ELSE 0.0::float8 END AS tag_and,
                       c.value_sum / \(queryCount)::int4::float8 AS tag_or,
                       1.0::float8 / (1.0::float8 + exp(-greatest(-\(clamp)::float8, least(\(clamp)::float8,
                           (c.days - \(centre)::float8) / \(widthDays)::float8)))) AS recency,
                       \(aspectFit) AS aspect_fit,
                       \(ratingWeight)::float8 * c.rating / \(maximumRating)::float8 AS rating_term
                FROM candidate c
            ), ranked AS (
                SELECT p.*, p.tag_and + 0.5 * p.tag_or + \(boost)::float8 * p.recency + p.aspect_fit + p.rating_term AS score
                FROM part p
                ORDER BY \(exactFirst("p"))score DESC, p.width::int8 * p.height DESC, p.last_use DESC, p.id
                LIMIT \(limit)::int4
            )
            SELECT r.id, a.kind::text, a.sha256, a.path, th.path, a.width, a.height, a.duration_ms,
                   coalesce(tg.names, '{}'::text[]), src.provider, src.source_url, a.last_used_at, a.created_at,
                   r.score, r.tag_and, r.tag_or, r.recency, r.aspect_fit, r.matched, r.days, r.rating, r.through_relations, \(termValues)
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
            ORDER BY \(exactFirst("r"))r.score DESC, r.width::int8 * r.height DESC, r.last_use DESC, r.id
            """
        return q
    }
}
