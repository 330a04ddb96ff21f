public import Foundation
public import Logging
public import PostgresNIO

/// `mediaq stats`: what the library holds and what it costs.
public struct LibraryStats: Sendable, Encodable {
    public struct Group: Sendable, Encodable, Equatable {
        public let kind: MediaFormat.Kind
        public let provider: String
        public let assets: Int
        public let originalBytes: Int64
        public let thumbnailBytes: Int64
    }

    public struct Budget: Sendable, Encodable {
        public let usedBytes: Int64
        public let budgetBytes: Int64
        public let usedPercent: Double
        public let lowWaterBytes: Int64
        public let reserveBytes: Int64
        public let freeBytes: Int64?
    }

    public struct Pins: Sendable, Encodable {
        /// Live pins (not expired) and the assets they hold.
        public let live: Int
        public let pinnedAssets: Int
        public let runs: Int
        public let expired: Int
    }

    public struct TagCount: Sendable, Encodable, Equatable {
        public let tag: String
        public let assets: Int
    }

    public var byKindAndProvider: [Group] = []
    public var assets = 0
    public var images = 0
    public var videos = 0
    public var budget: Budget
    public var pins: Pins
    public var thumbnailsMissing = 0
    public var quarantined = 0
    public var deleting = 0
    /// Oldest and newest `last_used_at` among assets that were used.
    public var oldestUse: Date?
    public var newestUse: Date?
    public var neverUsed = 0
    public var tagCount = 0
    public var topTags: [TagCount] = []

    public static func collect(
        on connection: PostgresConnection, root: String, budget: StorageBudget, topTags: Int = 10, logger: Logger
    ) async throws(MediaError) -> LibraryStats {
        do {
            var groups: [Group] = []
            let rows = try await connection.query(
                """
                SELECT a.kind::text,
                       coalesce((SELECT p.provider FROM provenance p WHERE p.asset_id = a.id ORDER BY p.id LIMIT 1), 'local') AS provider,
                       count(*)::int, coalesce(sum(a.bytes), 0)::int8, coalesce(sum(t.bytes), 0)::int8
                FROM asset a LEFT JOIN thumbnail t ON t.asset_id = a.id
                WHERE a.state = 'present'
                GROUP BY 1, 2 ORDER BY 1, 2
                """, logger: logger)
            for try await (kind, provider, count, bytes, thumbBytes) in rows.decode((String, String, Int, Int64, Int64).self) {
                groups.append(
                    Group(
                        kind: MediaFormat.Kind(rawValue: kind) ?? .image, provider: provider, assets: count,
                        originalBytes: bytes, thumbnailBytes: thumbBytes))
            }
            let used = try await StorageBudget.usedBytes(on: connection, logger: logger)
            let free = StorageBudget.freeBytes(atPath: root)
            let budgetLine = Budget(
                usedBytes: used, budgetBytes: budget.budgetBytes,
                usedPercent: (Double(used) / Double(max(1, budget.budgetBytes)) * 1000).rounded() / 10,
                lowWaterBytes: budget.lowWaterBytes, reserveBytes: budget.reserveBytes, freeBytes: free)

            var pins = Pins(live: 0, pinnedAssets: 0, runs: 0, expired: 0)
            let pinRows = try await connection.query(
                """
                SELECT count(*) FILTER (WHERE expires_at > now())::int,
                       count(DISTINCT asset_id) FILTER (WHERE expires_at > now())::int,
                       count(DISTINCT run_id) FILTER (WHERE expires_at > now())::int,
                       count(*) FILTER (WHERE expires_at <= now())::int
                FROM pin
                """, logger: logger)
            for try await (live, assets, runs, expired) in pinRows.decode((Int, Int, Int, Int).self) {
                pins = Pins(live: live, pinnedAssets: assets, runs: runs, expired: expired)
            }
            var stats = LibraryStats(budget: budgetLine, pins: pins)
            stats.byKindAndProvider = groups
            stats.images = groups.filter { $0.kind == .image }.reduce(0) { $0 + $1.assets }
            stats.videos = groups.filter { $0.kind == .video }.reduce(0) { $0 + $1.assets }
            stats.assets = stats.images + stats.videos

            let summary = try await connection.query(
                """
                SELECT count(*) FILTER (WHERE a.state = 'present' AND (t.asset_id IS NULL OR t.status = 'missing'))::int,
                       count(*) FILTER (WHERE a.state = 'quarantined')::int,
                       count(*) FILTER (WHERE a.state = 'deleting')::int,
                       min(a.last_used_at) FILTER (WHERE a.state = 'present'),
                       max(a.last_used_at) FILTER (WHERE a.state = 'present'),
                       count(*) FILTER (WHERE a.state = 'present' AND a.last_used_at IS NULL)::int
                FROM asset a LEFT JOIN thumbnail t ON t.asset_id = a.id
                """, logger: logger)
            for try await (missing, quarantined, deleting, oldest, newest, never)
                in summary.decode((Int, Int, Int, Date?, Date?, Int).self)
            {
                stats.thumbnailsMissing = missing
                stats.quarantined = quarantined
                stats.deleting = deleting
                stats.oldestUse = oldest
                stats.newestUse = newest
                stats.neverUsed = never
            }
            let tagTotal = try await connection.query(
                "SELECT count(DISTINCT tag_id)::int FROM asset_tag", logger: logger)
            for try await count in tagTotal.decode(Int.self) { stats.tagCount = count }
            let top = try await connection.query(
                """
                SELECT t.name, count(*)::int FROM asset_tag at JOIN tag t ON t.id = at.tag_id
                JOIN asset a ON a.id = at.asset_id AND a.state = 'present'
                GROUP BY t.name ORDER BY 2 DESC, 1 LIMIT \(topTags)
                """, logger: logger)
            for try await (tag, count) in top.decode((String, Int).self) {
                stats.topTags.append(TagCount(tag: tag, assets: count))
            }
            return stats
        } catch let error as MediaError {
            throw error
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the library's statistics")
        }
    }
}
