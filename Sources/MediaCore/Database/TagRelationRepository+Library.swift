import Foundation
import Logging
import PostgresNIO

/// How tags that appear together on the library's assets become relations (docs/search.md,
/// "Learned from the library").
///
/// Over the present, non-hidden assets that carry at least one tag (N of them), with n_a and
/// n_b the assets carrying each tag and n_ab those carrying both, a pair's normalised
/// pointwise mutual information is
///
///     NPMI = ln(N · n_ab / (n_a · n_b)) / −ln(n_ab / N)
///
/// from −1 (never together) through 0 (independent) to 1 (always together). A pair is kept
/// when n_ab ≥ `minimumSupport` and NPMI ≥ `minimumNPMI`, in both directions as `cooccurs`
/// from source `library`, weighing `weightScale` · NPMI (at most 0.8, below a WordNet
/// synonym's 0.9); each tag keeps its `perTerm` strongest.
public struct CooccurrenceSettings: Sendable, Equatable {
    /// Assets that must carry both tags: fewer is chance, or one photographer's series.
    public var minimumSupport = 5
    /// 0.5: a pair seen together far more often than chance would put them; a tag that is
    /// merely popular (on half the library) scores near 0 with everything.
    public var minimumNPMI = 0.5
    /// Relations kept per tag, the strongest: a popular tag's list stays short.
    public var perTerm = 20

    /// A learned relation weighs this times its NPMI: (0.4, 0.8] with the default threshold.
    public static let weightScale = 0.8
    public static let supportRange = 2...1_000_000
    public static let perTermRange = 1...1_000

    public init() {}

    /// The lexicon's version of a learn: its parameters and the assets it read.
    func version(assets: Int) -> String {
        "npmi>=\(String(format: "%.2f", minimumNPMI)) support>=\(minimumSupport) perTag=\(perTerm) assets=\(assets)"
    }
}

extension TagRelationRepository {
    /// What a learn from the library found, and whether it changed the stored relations.
    public struct Learned: Sendable, Encodable, Equatable {
        public let source: String
        public let version: String
        /// Relations, counting each direction of a pair.
        public let relations: Int
        /// Tags with at least one learned relation.
        public let tags: Int
        /// The tagged, present, non-hidden assets it read (N).
        public let assets: Int
        /// False when the relations were already exactly these (nothing rewritten), and for a dry run.
        public let changed: Bool
        public let dryRun: Bool
    }

    /// Computes the co-occurrence relations in one statement and, unless `dryRun`, replaces
    /// the library's previous ones with them in one transaction (rewriting nothing when they
    /// are the same) and records the learn in `lexicon`. A dry run writes nothing.
    public func learnFromLibrary(_ settings: CooccurrenceSettings, dryRun: Bool = false) async throws(MediaError) -> Learned {
        try await connection.transaction("cannot learn relations from the library", logger: logger) { connection in
            if !dryRun {
                // One writer of relations at a time (a WordNet load, another learn).
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext('media-library lexicon'))", logger: logger)
            }
            // The pair counts are one hash aggregate; in the default 4MB it would spill to disk.
            try await connection.query("SET LOCAL work_mem = '64MB'", logger: logger)
            // A background job: one core, leaving the other to the drops.
            try await connection.query("SET LOCAL max_parallel_workers_per_gather = 0", logger: logger)
            try await connection.query(
                """
                CREATE TEMPORARY TABLE learned_relation (term text, related text, weight float8, assets bigint)
                ON COMMIT DROP
                """, logger: logger)
            try await connection.query(Self.learnStatement(settings), logger: logger)
            var assets = 0
            for try await count in try await connection.query(
                "SELECT count(DISTINCT asset_id) FROM asset_tag WHERE present", logger: logger
            ).decode(Int64.self) {
                assets = Int(count)
            }
            var (relations, tags, differs) = (0, 0, false)
            let summary = try await connection.query(
                """
                SELECT (SELECT count(*) FROM learned_relation), (SELECT count(DISTINCT term) FROM learned_relation),
                       EXISTS (SELECT term, related, weight FROM learned_relation
                               EXCEPT SELECT term, related, weight FROM tag_relation WHERE source = 'library')
                    OR EXISTS (SELECT term, related, weight FROM tag_relation WHERE source = 'library'
                               EXCEPT SELECT term, related, weight FROM learned_relation)
                """, logger: logger)
            for try await (count, terms, different) in summary.decode((Int64, Int64, Bool).self) {
                (relations, tags, differs) = (Int(count), Int(terms), different)
            }
            let version = settings.version(assets: assets)
            guard !dryRun else {
                return Learned(
                    source: "library", version: version, relations: relations, tags: tags, assets: assets, changed: false,
                    dryRun: true)
            }
            if differs {
                try await connection.query("DELETE FROM tag_relation WHERE source = 'library'", logger: logger)
                try await connection.query(
                    """
                    INSERT INTO tag_relation (term, related, relation, source, weight)
                    SELECT term, related, 'cooccurs', 'library', weight FROM learned_relation
                    """, logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO lexicon (source, version, relations) VALUES ('library', \(version), \(Int64(relations)))
                ON CONFLICT (source) DO UPDATE SET version = EXCLUDED.version, relations = EXCLUDED.relations, loaded_at = now()
                """, logger: logger)
            return Learned(
                source: "library", version: version, relations: relations, tags: tags, assets: assets, changed: differs,
                dryRun: false)
        }
    }

    /// The one statement that counts and scores every pair: tags below the support are left
    /// out before the self-join of asset_tag per asset (each pair once, a < b), the pairs are
    /// aggregated, scored, turned both ways, and each tag keeps its strongest.
    static func learnStatement(_ settings: CooccurrenceSettings) -> PostgresQuery {
        let support = Int64(settings.minimumSupport)
        let threshold = settings.minimumNPMI
        let perTerm = Int64(settings.perTerm)
        let scale = CooccurrenceSettings.weightScale
        return """
            INSERT INTO learned_relation (term, related, weight, assets)
            WITH counted AS (
                SELECT tag_id, count(*)::float8 AS n FROM asset_tag WHERE present GROUP BY tag_id HAVING count(*) >= \(support)
            ), total AS (
                SELECT count(DISTINCT asset_id)::float8 AS n FROM asset_tag WHERE present
            ), frequent AS (
                SELECT x.asset_id, x.tag_id FROM asset_tag x JOIN counted c ON c.tag_id = x.tag_id WHERE x.present
            ), pair AS (
                SELECT a.tag_id AS a, b.tag_id AS b, count(*)::float8 AS n_ab
                FROM frequent a JOIN frequent b ON b.asset_id = a.asset_id AND b.tag_id > a.tag_id
                GROUP BY a.tag_id, b.tag_id HAVING count(*) >= \(support)
            ), scored AS (
                -- n_ab = N: both tags on every asset, the limit of NPMI is 1 (its formula is 0/0).
                SELECT p.a, p.b, p.n_ab,
                       CASE WHEN p.n_ab >= t.n THEN 1
                            ELSE least(1, ln(t.n * p.n_ab / (ca.n * cb.n)) / -ln(p.n_ab / t.n)) END AS npmi
                FROM pair p JOIN counted ca ON ca.tag_id = p.a JOIN counted cb ON cb.tag_id = p.b CROSS JOIN total t
            ), directed AS (
                SELECT a AS term, b AS related, npmi, n_ab FROM scored WHERE npmi >= \(threshold)
                UNION ALL
                SELECT b, a, npmi, n_ab FROM scored WHERE npmi >= \(threshold)
            ), ranked AS (
                SELECT d.*, row_number() OVER (PARTITION BY d.term ORDER BY d.npmi DESC, d.n_ab DESC, d.related) AS rank
                FROM directed d
            )
            SELECT t.name, r.name, round((\(scale) * k.npmi)::numeric, 3)::float8, k.n_ab::int8
            FROM ranked k JOIN tag t ON t.id = k.term JOIN tag r ON r.id = k.related
            WHERE k.rank <= \(perTerm)
            """
    }

    /// How long ago, in seconds, the library's relations were last learned; nil if never
    /// (`mediad` learns again when this is older than its interval). By the database's clock,
    /// which wrote the time.
    public func secondsSinceLibraryLearned() async throws(MediaError) -> Double? {
        do {
            let rows = try await connection.query(
                "SELECT extract(epoch FROM now() - loaded_at)::float8 FROM lexicon WHERE source = 'library'", logger: logger)
            for try await age in rows.decode(Double.self) { return age }
            return nil
        } catch {
            throw DatabaseFailure.translate(error, "cannot read when the library's relations were learned")
        }
    }
}
