import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Carries out a GC plan, one asset at a time, crash-safely:
///
/// 1. One transaction marks the asset `deleting` (only if it is still present, unused since the
///    plan and not pinned by a live pin) and records a `delete` file intent for its original
///    and its thumbnail. From here it is invisible to search, plan and ingest's lookup.
/// 2. The original is unlinked (and its folder synced), then the thumbnail.
/// 3. One transaction deletes the row (tags, sources, thumbnail row and pins go by cascade)
///    and its intents.
///
/// A crash between 1 and 3 leaves a `deleting` row with its intents; the next open of the
/// library (`IngestRecovery`) finishes the removal. So after recovery there is never a row
/// without its file nor a file without its row.
public struct GarbageCollector: Sendable {
    public let connection: PostgresConnection
    public let store: ContentStore
    public let logger: Logger
    /// For the crash test only: a pause after each original is unlinked, before its row goes.
    public var pauseAfterOriginal: Duration?

    public init(connection: PostgresConnection, root: String, logger: Logger) {
        self.connection = connection
        self.store = ContentStore(root: root)
        self.logger = logger
    }

    /// Plans against the database's own clock and the running totals. The assets are read least
    /// recently used first from the `asset_lru` index, a page at a time, only until the target
    /// is met: freeing 10 % of a library reads about 10 % of its rows. Each page comes back as
    /// one row of arrays: decoding a row costs far more than decoding an array element, and a
    /// page of 5,000 rows took 90 ms to decode where PostgreSQL had made it in 4. The same
    /// decisions as `GarbageCollectionPlanner.plan` over every asset (GCPlanSQLTests).
    public func plan(policy: GCPolicy, pageSize: Int = 5_000) async throws(MediaError) -> GCPlan {
        let used = try await StorageBudget.usedBytes(on: connection, logger: logger)
        guard used > policy.targetBytes else {
            return GCPlan(startBytes: used, targetBytes: policy.targetBytes)
        }
        // One snapshot for the clock, the keep caps and every page.
        return try await connection.transaction(
            "cannot list the assets GC may collect", mode: "ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger
        ) { _ in
            let now = try await databaseNow()
            var kept: Set<Int64> = []
            for (provider, keep) in policy.keepPerProvider.sorted(by: { $0.key < $1.key }) where keep > 0 {
                kept.formUnion(try await newest(of: provider, count: keep))
            }
            var builder = GCPlanBuilder(currentBytes: used, policy: policy, kept: kept, now: now)
            var after: (micros: Int64, id: Int64)? = nil
            while !builder.isDone {
                let page = try await lruPage(after: after, limit: pageSize)
                for candidate in page.candidates where !builder.isDone { builder.consider(candidate) }
                guard page.candidates.count == pageSize, let last = page.last else { break }
                after = last
            }
            return builder.plan
        }
    }

    /// Up to `limit` present assets after (`micros`, `id`) in least-recently-used order, and the
    /// last one's key (its last use in microseconds since 1970, exact, and its id).
    func lruPage(
        after: (micros: Int64, id: Int64)?, limit: Int
    ) async throws -> (candidates: [GCCandidate], last: (micros: Int64, id: Int64)?) {
        let afterMicros = after?.micros ?? Int64.min
        let afterId = after?.id ?? Int64.min
        let rows = try await connection.query(
            """
            SELECT coalesce(array_agg(s.id ORDER BY s.n), '{}'), coalesce(array_agg(s.kind ORDER BY s.n), '{}'),
                   coalesce(array_agg(s.provider ORDER BY s.n), '{}'), coalesce(array_agg(s.bytes ORDER BY s.n), '{}'),
                   coalesce(array_agg(s.thumb ORDER BY s.n), '{}'), coalesce(array_agg(s.used ORDER BY s.n), '{}'),
                   coalesce(array_agg(s.pinned ORDER BY s.n), '{}')
            FROM (
                SELECT row_number() OVER () AS n, a.id, a.kind::text AS kind,
                       coalesce((SELECT p.provider FROM provenance p WHERE p.asset_id = a.id ORDER BY p.id LIMIT 1), 'local') AS provider,
                       a.bytes, coalesce((SELECT t.bytes FROM thumbnail t WHERE t.asset_id = a.id), 0)::int8 AS thumb,
                       (extract(epoch FROM coalesce(a.last_used_at, a.created_at)) * 1000000)::int8 AS used,
                       coalesce((SELECT (extract(epoch FROM max(pn.expires_at)) * 1000000)::int8 FROM pin pn WHERE pn.asset_id = a.id), 0) AS pinned
                FROM (SELECT * FROM asset a
                      WHERE a.state = 'present'
                        AND (\(afterMicros) = \(Int64.min)
                             OR (coalesce(a.last_used_at, a.created_at), a.id)
                                > ('epoch'::timestamptz + \(afterMicros) * interval '1 microsecond', \(afterId)))
                      ORDER BY coalesce(a.last_used_at, a.created_at), a.id
                      LIMIT \(Int64(limit))) a
            ) s
            """, logger: logger)
        for try await (ids, kinds, providers, bytes, thumbs, used, pinned)
            in rows.decode(([Int64], [String], [String], [Int64], [Int64], [Int64], [Int64]).self)
        {
            func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
            let candidates = ids.indices.map { index in
                GCCandidate(
                    id: ids[index], kind: MediaFormat.Kind(rawValue: kinds[index]) ?? .image, provider: providers[index],
                    originalBytes: bytes[index], thumbnailBytes: thumbs[index], lastUsed: date(used[index]),
                    // 0: no pin (a pin that ended in 1970 holds nothing either).
                    pinnedUntil: pinned[index] == 0 ? nil : date(pinned[index]))
            }
            return (candidates, ids.last.map { (used[used.count - 1], $0) })
        }
        return ([], nil)
    }

    /// The ids of `provider`'s `count` most recently used present assets (a keep cap).
    func newest(of provider: String, count: Int) async throws(MediaError) -> Set<Int64> {
        do {
            let rows = try await connection.query(
                """
                SELECT a.id FROM asset a
                WHERE a.state = 'present'
                  AND coalesce((SELECT p.provider FROM provenance p WHERE p.asset_id = a.id ORDER BY p.id LIMIT 1), 'local') = \(provider)
                ORDER BY coalesce(a.last_used_at, a.created_at) DESC, a.id DESC
                LIMIT \(Int64(count))
                """, logger: logger)
            var ids: Set<Int64> = []
            for try await id in rows.decode(Int64.self) { ids.insert(id) }
            return ids
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the assets a keep cap holds")
        }
    }

    /// Plans and, unless `dryRun`, collects. `progress` sees (done, total) after each asset.
    public func collect(
        policy: GCPolicy, dryRun: Bool, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws(MediaError) -> GCReport {
        let plan = try await plan(policy: policy)
        if dryRun { return GCReport(plan: plan, removed: plan.victims, dryRun: true, skippedChanged: 0) }
        var removed: [GCCandidate] = []
        var changed = 0
        for (index, victim) in plan.victims.enumerated() {
            if try await remove(victim) { removed.append(victim) } else { changed += 1 }
            progress(index + 1, plan.victims.count)
        }
        let report = GCReport(plan: plan, removed: removed, dryRun: false, skippedChanged: changed)
        if report.assets > 0 {
            logger.event(
                .collected,
                "collected",
                metadata: [
                    "assets": "\(report.assets)", "freed": "\(report.freedBytes)",
                    "size": "\(report.endBytes)", "target": "\(report.targetBytes)",
                ])
        }
        return report
    }

    /// Removes one asset (see the type's steps). False when it changed since the plan (used,
    /// pinned or already gone) and was left alone.
    public func remove(_ victim: GCCandidate) async throws(MediaError) -> Bool {
        let pid = Int(getpid())
        // Dates travel as microseconds; a millisecond of slack keeps "unused since the plan" true.
        let usedBy = victim.lastUsed.addingTimeInterval(0.001)
        // Marked and its intents recorded in one transaction; nothing changes when it is not
        // marked (used, pinned or gone since the plan).
        let paths = try await connection.transaction("cannot mark asset \(victim.id) for collection", logger: logger) {
            connection in
            var paths: [String] = []
            let marked = try await connection.query(
                """
                UPDATE asset a SET state = 'deleting'
                WHERE a.id = \(victim.id) AND a.state = 'present'
                  AND coalesce(a.last_used_at, a.created_at) <= \(usedBy)
                  AND NOT EXISTS (SELECT 1 FROM pin p WHERE p.asset_id = a.id AND p.expires_at > now())
                RETURNING a.path, (SELECT t.path FROM thumbnail t WHERE t.asset_id = a.id AND t.path IS NOT NULL)
                """, logger: logger)
            for try await (original, thumbnail) in marked.decode((String, String?).self) {
                paths = [original] + (thumbnail.map { [$0] } ?? [])
            }
            if paths.isEmpty { return paths }
            try await connection.query(
                """
                INSERT INTO file_intent (path, action, asset_id, owner_pid)
                SELECT unnest(\(paths)::text[]), 'delete', \(victim.id), \(pid)
                ON CONFLICT (path) DO UPDATE SET action = 'delete', asset_id = EXCLUDED.asset_id,
                                                 owner_pid = EXCLUDED.owner_pid, created_at = now()
                """, logger: logger)
            return paths
        }
        if paths.isEmpty { return false }
        // Originals first; a thumbnail only after its original.
        for path in paths {
            do {
                try store.remove(path)
            } catch {
                // The row stays `deleting` with its intents: recovery finishes it later.
                throw Ingestor.storeError(error)
            }
            LibraryRoot.syncDirectory((store.absolute(path) as NSString).deletingLastPathComponent)
            if path == paths[0], let pause = pauseAfterOriginal { try? await Task.sleep(for: pause) }
        }
        try await Self.forget(assets: [victim.id], paths: paths, on: connection, logger: logger)
        return true
    }

    /// The last step of a removal: the rows and the intents, in one transaction.
    static func forget(
        assets: [Int64], paths: [String], on connection: PostgresConnection, logger: Logger
    ) async throws(MediaError) {
        try await connection.transaction("cannot remove the rows of collected assets", logger: logger) { connection in
            try await connection.query(
                "DELETE FROM asset WHERE id = ANY(\(assets)::int8[]) AND state = 'deleting'", logger: logger)
            try await connection.query(
                "DELETE FROM file_intent WHERE action = 'delete' AND path = ANY(\(paths)::text[])", logger: logger)
        }
    }

    func databaseNow() async throws(MediaError) -> Date {
        do {
            let rows = try await connection.query("SELECT now()", logger: logger)
            for try await now in rows.decode(Date.self) { return now }
            return Date()
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the database's clock")
        }
    }
}

extension GCPolicy {
    /// The configured policy, towards `target` (default: the low-water mark).
    public init(_ configuration: LibraryConfiguration, target: Int64? = nil) {
        self.init(targetBytes: target ?? configuration.lowWaterBytes, keepPerProvider: configuration.gcKeepPerProvider)
    }
}
