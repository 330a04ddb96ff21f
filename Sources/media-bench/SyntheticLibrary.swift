import Foundation
import Logging
import MediaCore
import MediaTestSupport
import PostgresNIO

/// Rows for a library of any size, written by SQL inside PostgreSQL: search, plan and start-up
/// read rows only, so no file bytes are written (the paths name files that do not exist).
///
/// - 3000 tags: 60 common words first (the popular ranks), then `topic N`.
/// - Each asset takes 5–15 draws from a Zipf-like popularity (s = 1, drawn as exp(u · ln 3001),
///   log-uniform): the first tag is on about 60 % of the library, tag 100 on about 2 %, tag
///   3000 on a few assets in 100,000.
/// - 40 % videos (2–60 s); 70 % of the assets have a common stock size (16:9, 9:16, 4:3, 3:2,
///   1:1, 4:5, in HD to 6K), 30 % a random size and aspect between 0.4 and 2.5.
/// - Added over the last two years; half never used, a tenth used in the last 30 days, the rest
///   used at some time since they were added.
/// - One source and one thumbnail row each.
///
/// `grow(to:)` adds assets to reach a size, so 10k, 100k and 1M are one library growing.
///
/// With `.stock` tagging (`media-bench related`), the tags are instead `StockVocabulary`'s: each
/// asset is one concept tagged as a provider tags it, drawn in Swift from a generator seeded by
/// the asset's id (so a library grows the same whatever its steps) and sent as arrays.
struct SyntheticLibrary {
    /// Where the assets' tags come from.
    enum Tagging {
        /// 3000 tags of Zipf-like popularity (`words`, then `topic N`).
        case topics
        /// `StockVocabulary`'s concepts.
        case stock
    }

    static let tagCount = 3000
    static let words = [
        "nature", "people", "city", "sky", "water", "business", "technology", "sunset", "beach", "ocean",
        "mountain", "forest", "night", "food", "travel", "street", "car", "family", "office", "snow",
        "flower", "tree", "road", "river", "lake", "desert", "island", "harbour", "boat", "bridge",
        "dog", "cat", "coffee", "music", "sport", "winter", "summer", "autumn", "spring", "rain",
        "cloud", "sun", "light", "abstract", "texture", "background", "woman", "man", "child", "hands",
        "computer", "phone", "money", "health", "fitness", "yoga", "kitchen", "home", "garden", "sea",
    ]

    /// The name of the tag of popularity rank `rank` (1 is the most common).
    static func tagName(rank: Int) -> String { rank <= words.count ? words[rank - 1] : "topic \(rank)" }

    /// A rank drawn from the same popularity as the library's tags.
    static func drawRank(using random: inout some RandomNumberGenerator) -> Int {
        let u = Double.random(in: 0..<1, using: &random)
        return min(tagCount, max(1, Int(exp(u * log(Double(tagCount + 1))))))
    }

    let connection: PostgresConnection
    let logger: Logger
    var tagging = Tagging.topics

    func count() async throws -> Int {
        var total = 0
        for try await value in try await connection.query("SELECT count(*)::int8 FROM asset", logger: logger).decode(Int64.self) {
            total = Int(value)
        }
        return total
    }

    func grow(to size: Int) async throws {
        var have = try await count()
        if tagging == .stock {
            // Kinds, sizes and uses come from random() below: seeded, so that the quality
            // figures of `media-bench related` are the same on every run with the same sizes.
            try await connection.query("SELECT setseed(0.17)", logger: logger)
        }
        if have == 0, tagging == .stock {
            let names = StockVocabulary.libraryTags
            try await connection.query("INSERT INTO tag (name) SELECT unnest(\(names)::text[])", logger: logger)
        } else if have == 0 {
            try await connection.query(
                """
                INSERT INTO tag (name)
                SELECT CASE WHEN i <= cardinality(\(Self.words)::text[]) THEN (\(Self.words)::text[])[i] ELSE 'topic ' || i END
                FROM generate_series(1, \(Self.tagCount)) AS i ORDER BY i
                """, logger: logger)
        }
        // The triggers that keep storage_usage and asset_tag's copies would run per row; the
        // copies are written here directly and the totals summed once at the end.
        try await execute("ALTER TABLE asset DISABLE TRIGGER USER")
        try await execute("ALTER TABLE asset_tag DISABLE TRIGGER USER")
        try await execute("ALTER TABLE thumbnail DISABLE TRIGGER USER")
        while have < size {
            let upTo = min(size, have + 100_000)
            try await addAssets(from: have + 1, through: upTo)
            have = upTo
        }
        try await execute("ALTER TABLE asset ENABLE TRIGGER USER")
        try await execute("ALTER TABLE asset_tag ENABLE TRIGGER USER")
        try await execute("ALTER TABLE thumbnail ENABLE TRIGGER USER")
        try await execute(
            """
            UPDATE storage_usage s
               SET original_bytes = coalesce(x.bytes, 0), asset_count = coalesce(x.n, 0), thumbnail_bytes = coalesce(x.thumbs, 0)
              FROM (SELECT k.kind, sum(a.bytes) AS bytes, count(a.id) AS n,
                           (SELECT sum(th.bytes) FROM thumbnail th JOIN asset b ON b.id = th.asset_id WHERE b.kind = k.kind) AS thumbs
                      FROM unnest(enum_range(NULL::asset_kind)) AS k(kind) LEFT JOIN asset a ON a.kind = k.kind
                     GROUP BY k.kind) x
             WHERE s.kind = x.kind
            """)
        try await execute("VACUUM (ANALYZE) asset, asset_tag, tag, provenance, thumbnail")
    }

    private func addAssets(from first: Int, through last: Int) async throws {
        try await connection.query(
            """
            INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path, duration_ms, fps,
                               created_at, last_used_at, use_count)
            SELECT s.kind, s.sha, s.ext, s.mime, 200000 + (random() * 80000000)::int8, s.w, s.h,
                   CASE s.kind WHEN 'video' THEN 'videos' ELSE 'images' END || '/original/' || left(s.sha, 2) || '/' || s.sha || '.' || s.ext,
                   CASE s.kind WHEN 'video' THEN (2000 + random() * 58000)::int8 END,
                   CASE s.kind WHEN 'video' THEN 30 END,
                   s.created,
                   CASE WHEN s.use < 0.5 THEN NULL
                        WHEN s.use < 0.6 THEN greatest(s.created, now() - random() * interval '30 days')
                        ELSE s.created + random() * (now() - s.created) END,
                   CASE WHEN s.use < 0.5 THEN 0 ELSE 1 END
            FROM (
                SELECT g.i, g.kind, g.use, encode(sha256(('synthetic asset ' || g.i)::bytea), 'hex') AS sha,
                       CASE g.kind WHEN 'video' THEN 'mp4' ELSE 'jpg' END AS ext,
                       CASE g.kind WHEN 'video' THEN 'video/mp4' ELSE 'image/jpeg' END AS mime,
                       CASE WHEN g.shape <= 13 THEN (ARRAY[1920, 1080, 3840, 2160, 1280, 720, 4000, 3000, 6000, 4000, 1080, 2048, 1080])[g.shape]
                            ELSE g.rw END AS w,
                       CASE WHEN g.shape <= 13 THEN (ARRAY[1080, 1920, 2160, 3840, 720, 1280, 3000, 4000, 4000, 6000, 1080, 2048, 1350])[g.shape]
                            ELSE greatest(1, round(g.rw / g.ra))::int4 END AS h,
                       now() - random() * interval '730 days' AS created
                FROM (SELECT i, CASE WHEN random() < 0.4 THEN 'video' ELSE 'image' END::asset_kind AS kind,
                             1 + floor(random() * 19)::int AS shape, 320 + floor(random() * 5700)::int AS rw,
                             0.4 + random() * 2.1 AS ra, random() AS use
                      FROM generate_series(\(first), \(last)) AS i) AS g
            ) AS s
            ORDER BY s.i
            """, logger: logger)
        if tagging == .stock {
            try await addStockTags(from: first, through: last)
        } else {
            try await addTopicTags(from: first, through: last)
        }
        try await connection.query(
            """
            INSERT INTO provenance (asset_id, provider, provider_asset_id, source_url)
            SELECT id, (ARRAY['pexels', 'pixabay', 'unsplash'])[1 + (id % 3)::int], id::text, 'https://stock.example/' || id
            FROM asset WHERE id BETWEEN \(first) AND \(last)
            """, logger: logger)
        try await connection.query(
            """
            INSERT INTO thumbnail (asset_id, status, path, width, height, bytes)
            SELECT id, 'ok', CASE kind WHEN 'video' THEN 'videos' ELSE 'images' END || '/thumbs/' || sha256 || '.jpg',
                   400, greatest(1, 400 * height / width), 30000
            FROM asset WHERE id BETWEEN \(first) AND \(last)
            """, logger: logger)
    }

    /// 5–15 draws from the 3000 tags' popularity.
    private func addTopicTags(from first: Int, through last: Int) async throws {
        try await connection.query(
            """
            INSERT INTO asset_tag (asset_id, tag_id, kind, present, width, height, duration_ms, last_use)
            SELECT a.id, t.tag_id, a.kind, true, a.width, a.height, a.duration_ms, coalesce(a.last_used_at, a.created_at)
            FROM asset a
            CROSS JOIN LATERAL (
                SELECT DISTINCT least(\(Self.tagCount), floor(exp(random() * ln(\(Self.tagCount + 1)::float8)))::int4) AS tag_id
                FROM generate_series(1, 5 + ((a.id * 7919) % 11)::int4)
            ) AS t
            WHERE a.id BETWEEN \(first) AND \(last)
            """, logger: logger)
    }

    /// One `StockVocabulary` concept an asset, its tags drawn from a generator seeded by the id;
    /// sent as (id, name) arrays, 100,000 pairs a statement.
    private func addStockTags(from first: Int, through last: Int) async throws {
        var ids: [Int64] = []
        var names: [String] = []
        func flush() async throws {
            guard !ids.isEmpty else { return }
            try await connection.query(
                """
                INSERT INTO asset_tag (asset_id, tag_id, kind, present, width, height, duration_ms, last_use)
                SELECT a.id, t.id, a.kind, true, a.width, a.height, a.duration_ms, coalesce(a.last_used_at, a.created_at)
                FROM unnest(\(ids)::int8[], \(names)::text[]) AS x(asset_id, name)
                JOIN tag t ON t.name = x.name
                JOIN asset a ON a.id = x.asset_id
                """, logger: logger)
            ids.removeAll(keepingCapacity: true)
            names.removeAll(keepingCapacity: true)
        }
        for id in first...last {
            var random = SplitMix64(state: 0x5EED_0000 &+ UInt64(id) &* 0x9E37_79B9)
            let concept = StockVocabulary.drawConcept(using: &random)
            for tag in StockVocabulary.tags(of: concept, using: &random) {
                ids.append(Int64(id))
                names.append(tag)
            }
            if ids.count >= 100_000 { try await flush() }
        }
        try await flush()
    }

    private func execute(_ sql: String) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }
}
