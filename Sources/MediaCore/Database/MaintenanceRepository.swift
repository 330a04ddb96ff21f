import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// The SQL of the library's upkeep, in one place: the budget's running total, GC's reads and its
/// crash-safe removal, recovery's file intents (this file); doctor's view of the rows,
/// statistics and rebase's root (`MaintenanceRepository+Reports.swift`). The types that decide
/// (`GCPlanBuilder`, `DoctorScan`, `StorageBudget`) stay pure; the ones that act
/// (`GarbageCollector`, `LibraryDoctor`, `IngestRecovery`, `LibraryRebase`) call this.
public struct MaintenanceRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Runs `body` in one read-only snapshot, so that every read inside sees the same library.
    func inSnapshot<T: Sendable>(
        _ action: String, _ body: (MaintenanceRepository) async throws -> T
    ) async throws(MediaError) -> T {
        try await connection.transaction(action, mode: "ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger) {
            connection in try await body(MaintenanceRepository(connection: connection, logger: logger))
        }
    }

    // MARK: - Budget and clock

    /// The library's size, from the running totals the triggers keep (`storage_usage`).
    public func usedBytes() async throws(MediaError) -> Int64 {
        do {
            let rows = try await connection.query(
                "SELECT coalesce(sum(original_bytes + thumbnail_bytes), 0)::int8 FROM storage_usage", logger: logger)
            for try await used in rows.decode(Int64.self) { return used }
            return 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the library's size")
        }
    }

    /// The database's clock: GC plans against it, so that a host whose clock is off does not
    /// collect what another host just used.
    func databaseNow() async throws(MediaError) -> Date {
        do {
            let rows = try await connection.query("SELECT now()", logger: logger)
            for try await now in rows.decode(Date.self) { return now }
            return Date()
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the database's clock")
        }
    }

    // MARK: - Garbage collection

    /// Up to `limit` present assets after (`micros`, `id`) in least-recently-used order (the
    /// `asset_lru` index), and the last one's key (its last use in microseconds since 1970,
    /// exact, and its id). A page comes back as one row of arrays: decoding a row costs far
    /// more than decoding an array element (a page of 5,000 rows took 90 ms to decode where
    /// PostgreSQL had made it in 4).
    func lruPage(
        after: (micros: Int64, id: Int64)?, limit: Int
    ) async throws(MediaError) -> (candidates: [GCCandidate], last: (micros: Int64, id: Int64)?) {
        let afterMicros = after?.micros ?? Int64.min
        let afterId = after?.id ?? Int64.min
        do {
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
        } catch {
            throw DatabaseFailure.translate(error, "cannot list the assets GC may collect")
        }
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

    /// Step 1 of a removal, in one transaction: marks the asset `deleting` (only if it is still
    /// present, unused since `usedBy` and not pinned by a live pin) and records a `delete` intent
    /// for its original, its thumbnail and its metadata file. Returns those paths, original
    /// first; none when the asset changed since the plan and was left alone.
    func markForCollection(_ id: Int64, unusedSince usedBy: Date) async throws(MediaError) -> [String] {
        try await markForRemoval(
            id,
            condition: """
                a.state = 'present' AND coalesce(a.last_used_at, a.created_at) <= $2
                  AND NOT EXISTS (SELECT 1 FROM pin p WHERE p.asset_id = a.id AND p.expires_at > now())
                """, usedBy: usedBy)
    }

    /// As `markForCollection`, for a lost asset (`mediaq forget`): its record goes.
    func markForgotten(_ id: Int64) async throws(MediaError) -> [String] {
        try await markForRemoval(id, condition: "a.state = 'lost'", usedBy: nil)
    }

    private func markForRemoval(_ id: Int64, condition: String, usedBy: Date?) async throws(MediaError) -> [String] {
        let pid = Int(getpid())
        return try await connection.transaction("cannot mark asset \(id) for removal", logger: logger) { connection in
            var paths: [String] = []
            var bindings = PostgresBindings()
            bindings.append(id)
            bindings.append(usedBy ?? Date())
            let marked = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE asset a SET state = 'deleting'
                        WHERE a.id = $1 AND \(condition) AND $2::timestamptz IS NOT NULL
                        RETURNING a.path, a.kind::text, a.sha256,
                                  (SELECT t.path FROM thumbnail t WHERE t.asset_id = a.id AND t.path IS NOT NULL)
                        """, binds: bindings), logger: logger)
            for try await (original, kind, sha256, thumbnail) in marked.decode((String, String, String, String?).self) {
                let metadata = AssetMetadata.path(sha256: sha256, kind: MediaFormat.Kind(rawValue: kind) ?? .image)
                paths = [original] + (thumbnail.map { [$0] } ?? []) + [metadata]
            }
            if paths.isEmpty { return paths }
            try await connection.query(
                """
                INSERT INTO file_intent (path, action, asset_id, owner_pid)
                SELECT unnest(\(paths)::text[]), 'delete', \(id), \(pid)
                ON CONFLICT (path) DO UPDATE SET action = 'delete', asset_id = EXCLUDED.asset_id,
                                                 owner_pid = EXCLUDED.owner_pid, created_at = now()
                """, logger: logger)
            return paths
        }
    }

    /// Step 1 of `mediaq rm` and `block`, for all the assets in one transaction (all or
    /// nothing): every id must name an asset that is not being removed already (else
    /// `not_found`), and none may be held by a live pin unless `force` (else `pinned`). With
    /// `block`, their bytes and provider ids are recorded as blocked in the same transaction,
    /// so no ingest can bring them back between this step and the last. Returns each asset's
    /// paths, original first, as `markForCollection` does.
    func markRemoved(_ ids: [Int64], force: Bool, block: Bool) async throws(MediaError) -> [(id: Int64, paths: [String])] {
        let pid = Int(getpid())
        let ids = Array(Set(ids)).sorted()
        let verb = block ? "block" : "remove"
        return try await connection.transaction("cannot \(verb) \(CurationRepository.describe(ids))", logger: logger) { connection in
            try await CurationRepository.lock(ids, on: connection, logger: logger)
            if !force {
                let pins = try await connection.query(
                    """
                    SELECT asset_id, run_id, expires_at FROM pin
                    WHERE asset_id = ANY(\(ids)::int8[]) AND expires_at > now() ORDER BY asset_id, run_id
                    """, logger: logger)
                var held: [String] = []
                for try await (asset, run, until) in pins.decode((Int64, String, Date).self) {
                    held.append("asset \(asset) is pinned by run \(run) until \(until.formatted(.iso8601))")
                }
                if !held.isEmpty {
                    throw MediaError(
                        .assetPinned,
                        held.prefix(5).joined(separator: "; ") + (held.count > 5 ? "; …" : "")
                            + "; nothing was \(block ? "blocked" : "removed") (--force \(verb)s it anyway)")
                }
            }
            if block {
                try await connection.query(
                    """
                    INSERT INTO blocked (sha256, kind, former_asset_id)
                    SELECT sha256, kind, id FROM asset WHERE id = ANY(\(ids)::int8[]) ON CONFLICT (sha256) DO NOTHING
                    """, logger: logger)
                try await connection.query(
                    """
                    INSERT INTO blocked_source (provider, provider_asset_id, sha256)
                    SELECT DISTINCT p.provider, p.provider_asset_id, a.sha256 FROM provenance p JOIN asset a ON a.id = p.asset_id
                    WHERE a.id = ANY(\(ids)::int8[]) AND p.provider_asset_id IS NOT NULL
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            let marked = try await connection.query(
                """
                UPDATE asset a SET state = 'deleting' WHERE a.id = ANY(\(ids)::int8[])
                RETURNING a.id, a.path, a.kind::text, a.sha256,
                          (SELECT t.path FROM thumbnail t WHERE t.asset_id = a.id AND t.path IS NOT NULL)
                """, logger: logger)
            var removals: [(id: Int64, paths: [String])] = []
            for try await (id, original, kind, sha256, thumbnail) in marked.decode((Int64, String, String, String, String?).self) {
                let metadata = AssetMetadata.path(sha256: sha256, kind: MediaFormat.Kind(rawValue: kind) ?? .image)
                removals.append((id, [original] + (thumbnail.map { [$0] } ?? []) + [metadata]))
            }
            for removal in removals {
                try await connection.query(
                    """
                    INSERT INTO file_intent (path, action, asset_id, owner_pid)
                    SELECT unnest(\(removal.paths)::text[]), 'delete', \(removal.id), \(pid)
                    ON CONFLICT (path) DO UPDATE SET action = 'delete', asset_id = EXCLUDED.asset_id,
                                                     owner_pid = EXCLUDED.owner_pid, created_at = now()
                    """, logger: logger)
            }
            return removals.sorted { $0.id < $1.id }
        }
    }

    /// The last step of a removal, once the files are gone: the rows (tags, sources, thumbnail
    /// row and pins go by cascade) and the intents, in one transaction.
    func forgetCollected(assets: [Int64], paths: [String]) async throws(MediaError) {
        try await connection.transaction("cannot remove the rows of collected assets", logger: logger) { connection in
            try await connection.query(
                "DELETE FROM asset WHERE id = ANY(\(assets)::int8[]) AND state = 'deleting'", logger: logger)
            try await connection.query(
                "DELETE FROM file_intent WHERE action = 'delete' AND path = ANY(\(paths)::text[])", logger: logger)
        }
    }

    // MARK: - Recovery

    /// One recorded intent: the file, the process that recorded it, whether it is older than
    /// `abandonedAfter`, and, for a `create` intent, whether a row already names the file (for
    /// a `delete` intent, the asset being collected).
    struct Intent: Sendable {
        let path: String
        let ownerPid: Int?
        let abandoned: Bool
        let recorded: Bool
        let assetId: Int64?
    }

    /// What an intent promises: a file about to be placed, or about to be removed.
    enum IntentAction: String, Sendable {
        case create, delete
    }

    /// The intents of one action.
    func intents(_ action: IntentAction, abandonedAfter: Duration) async throws(MediaError) -> [Intent] {
        let seconds = abandonedAfter.components.seconds
        do {
            let rows = try await connection.query(
                """
                SELECT i.path, i.owner_pid, i.created_at < now() - make_interval(secs => \(seconds)),
                       EXISTS (SELECT 1 FROM asset a WHERE a.path = i.path)
                       OR EXISTS (SELECT 1 FROM thumbnail t WHERE t.path = i.path),
                       i.asset_id
                FROM file_intent i WHERE i.action = \(action.rawValue)::file_intent_action
                """, logger: logger)
            var intents: [Intent] = []
            for try await (path, pid, old, recorded, asset) in rows.decode((String, Int?, Bool, Bool, Int64?).self) {
                intents.append(Intent(path: path, ownerPid: pid, abandoned: old, recorded: recorded, assetId: asset))
            }
            return intents
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the file intents of interrupted work")
        }
    }

    /// Every path some intent names (doctor leaves these files to the work that owns them).
    func intentPaths() async throws(MediaError) -> Set<String> {
        do {
            var paths: Set<String> = []
            let rows = try await connection.query("SELECT path FROM file_intent", logger: logger)
            for try await path in rows.decode(String.self) { paths.insert(path) }
            return paths
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the file intents")
        }
    }
}
