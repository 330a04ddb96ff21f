import Foundation
public import PostgresNIO

/// The SQL of doctor, `mediaq stats` and rebase.
extension MaintenanceRepository {
    // MARK: - Doctor

    /// Every asset row with its thumbnail, as doctor compares them with the files.
    func doctorRows() async throws(MediaError) -> [DoctorScan.Row] {
        do {
            var rows: [DoctorScan.Row] = []
            let result = try await connection.query(
                """
                SELECT a.id, a.kind::text, a.sha256, a.path, a.state::text, t.status::text, t.path, a.stored_sha256
                FROM asset a LEFT JOIN thumbnail t ON t.asset_id = a.id
                """, logger: logger)
            for try await (id, kind, sha, path, state, status, thumb, stored)
                in result.decode((Int64, String, String, String, String, String?, String?, String?).self)
            {
                rows.append(
                    DoctorScan.Row(
                        id: id, kind: MediaFormat.Kind(rawValue: kind) ?? .image, sha256: sha, path: path, state: state,
                        thumbnailStatus: status, thumbnailPath: thumb, storedSha256: stored))
            }
            return rows
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the assets")
        }
    }

    /// Records a thumbnail doctor made again, and clears the create intent that covered its
    /// placing, in one transaction.
    func recordRegeneratedThumbnail(
        assetId: Int64, path: String, size: ThumbnailSize, bytes: Int64
    ) async throws(MediaError) {
        try await connection.transaction("cannot record the thumbnail of asset \(assetId)", logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO thumbnail (asset_id, status, path, width, height, bytes)
                VALUES (\(assetId), 'ok', \(path), \(size.width), \(size.height), \(bytes))
                ON CONFLICT (asset_id) DO UPDATE SET status = 'ok', path = EXCLUDED.path, width = EXCLUDED.width,
                    height = EXCLUDED.height, bytes = EXCLUDED.bytes, reason = NULL,
                    attempts = thumbnail.attempts + 1, updated_at = now()
                """, logger: logger)
            try await connection.query("DELETE FROM file_intent WHERE path = \(path)", logger: logger)
        }
    }

    /// Marks an asset quarantined at its new path (search, plan and ingest's lookup skip it).
    func markQuarantined(_ assetId: Int64, at path: String) async throws(MediaError) {
        do {
            try await connection.query(
                "UPDATE asset SET state = 'quarantined', path = \(path) WHERE id = \(assetId)", logger: logger)
        } catch {
            throw DatabaseFailure.translate(error, "cannot mark the asset")
        }
    }

    // MARK: - Statistics

    /// What `mediaq stats` reports, but the budget line (the caller knows the configuration).
    func statistics(topTags: Int) async throws(MediaError) -> LibraryStats.Counts {
        var counts = LibraryStats.Counts()
        do {
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
                counts.byKindAndProvider.append(
                    LibraryStats.Group(
                        kind: MediaFormat.Kind(rawValue: kind) ?? .image, provider: provider, assets: count,
                        originalBytes: bytes, thumbnailBytes: thumbBytes))
            }
            let optimized = try await connection.query(
                """
                SELECT kind::text, count(*)::int, coalesce(sum(download_bytes - bytes), 0)::int8,
                       count(*) FILTER (WHERE optimization LIKE '%-crf%')::int
                FROM asset WHERE state = 'present' AND stored_sha256 IS NOT NULL
                GROUP BY 1 ORDER BY 1
                """, logger: logger)
            for try await (kind, count, saved, lossy) in optimized.decode((String, Int, Int64, Int).self) {
                counts.optimized.append(
                    LibraryStats.Optimized(
                        kind: MediaFormat.Kind(rawValue: kind) ?? .image, assets: count, bytesSaved: saved, lossy: lossy))
            }
            let pinRows = try await connection.query(
                """
                SELECT count(*) FILTER (WHERE expires_at > now())::int,
                       count(DISTINCT asset_id) FILTER (WHERE expires_at > now())::int,
                       count(DISTINCT run_id) FILTER (WHERE expires_at > now())::int,
                       count(*) FILTER (WHERE expires_at <= now())::int
                FROM pin
                """, logger: logger)
            for try await (live, assets, runs, expired) in pinRows.decode((Int, Int, Int, Int).self) {
                counts.pins = LibraryStats.Pins(live: live, pinnedAssets: assets, runs: runs, expired: expired)
            }
            let summary = try await connection.query(
                """
                SELECT count(*) FILTER (WHERE a.state = 'present' AND (t.asset_id IS NULL OR t.status = 'missing'))::int,
                       count(*) FILTER (WHERE a.state = 'quarantined')::int,
                       count(*) FILTER (WHERE a.state = 'deleting')::int,
                       count(*) FILTER (WHERE a.state = 'lost')::int,
                       min(a.last_used_at) FILTER (WHERE a.state = 'present'),
                       max(a.last_used_at) FILTER (WHERE a.state = 'present'),
                       count(*) FILTER (WHERE a.state = 'present' AND a.last_used_at IS NULL)::int
                FROM asset a LEFT JOIN thumbnail t ON t.asset_id = a.id
                """, logger: logger)
            for try await (missing, quarantined, deleting, lost, oldest, newest, never)
                in summary.decode((Int, Int, Int, Int, Date?, Date?, Int).self)
            {
                counts.lost = lost
                counts.thumbnailsMissing = missing
                counts.quarantined = quarantined
                counts.deleting = deleting
                counts.oldestUse = oldest
                counts.newestUse = newest
                counts.neverUsed = never
            }
            let curated = try await connection.query(
                """
                SELECT (SELECT count(*) FROM asset WHERE hidden AND state <> 'deleting')::int,
                       (SELECT count(*) FROM asset WHERE rating > 0 AND state <> 'deleting')::int,
                       (SELECT count(*) FROM blocked)::int
                """, logger: logger)
            for try await (hidden, rated, blocked) in curated.decode((Int, Int, Int).self) {
                counts.curation = LibraryStats.Curation(hidden: hidden, rated: rated, blocked: blocked)
            }
            let tagTotal = try await connection.query(
                "SELECT count(DISTINCT tag_id)::int FROM asset_tag", logger: logger)
            for try await count in tagTotal.decode(Int.self) { counts.tagCount = count }
            let top = try await connection.query(
                """
                SELECT t.name, count(*)::int FROM asset_tag at JOIN tag t ON t.id = at.tag_id
                JOIN asset a ON a.id = at.asset_id AND a.state = 'present'
                GROUP BY t.name ORDER BY 2 DESC, 1 LIMIT \(topTags)
                """, logger: logger)
            for try await (tag, count) in top.decode((String, Int).self) {
                counts.topTags.append(LibraryStats.TagCount(tag: tag, assets: count))
            }
            return counts
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the library's statistics")
        }
    }

    // MARK: - Rebase

    /// Records the library's new root, if it is still recorded at `from`, and the move in the
    /// history, in one transaction. Returns the new root version, or nil when the library row
    /// changed meanwhile.
    func moveRoot(from: String, to: String, verifiedFiles: Int) async throws(MediaError) -> Int? {
        try await connection.transaction("cannot record the new root", logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE library SET root_path = \(to), root_version = root_version + 1, opened_at = now()
                WHERE root_path = \(from) RETURNING root_version
                """, logger: logger)
            var updated: Int?
            for try await value in rows.decode(Int.self) { updated = value }
            guard let updated else { return nil }
            try await connection.query(
                """
                INSERT INTO rebase_history (from_root, to_root, root_version, verified_files)
                VALUES (\(from), \(to), \(updated), \(verifiedFiles))
                """, logger: logger)
            return updated
        }
    }

    /// Up to `count` present originals chosen at random: (relative path, SHA-256).
    func randomOriginals(_ count: Int) async throws(MediaError) -> [(id: Int64, path: String, sha256: String)] {
        do {
            var sample: [(id: Int64, path: String, sha256: String)] = []
            let rows = try await connection.query(
                "SELECT id, path, coalesce(stored_sha256, sha256) FROM asset WHERE state = 'present' ORDER BY random() LIMIT \(count)",
                logger: logger)
            for try await row in rows.decode((Int64, String, String).self) { sample.append(row) }
            return sample
        } catch {
            throw DatabaseFailure.translate(error, "cannot choose originals to verify")
        }
    }

    /// The state of each of these assets that exists.
    public func states(of ids: [Int64]) async throws(MediaError) -> [Int64: String] {
        do {
            var states: [Int64: String] = [:]
            let rows = try await connection.query(
                "SELECT id, state::text FROM asset WHERE id = ANY(\(ids)::int8[])", logger: logger)
            for try await (id, state) in rows.decode((Int64, String).self) { states[id] = state }
            return states
        } catch {
            throw DatabaseFailure.translate(error, "cannot look the assets up")
        }
    }

    public func assetCount() async throws(MediaError) -> Int {
        do {
            let rows = try await connection.query("SELECT count(*)::int FROM asset", logger: logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot count the assets")
        }
    }
}
