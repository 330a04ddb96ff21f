public import Foundation
public import Logging
public import PostgresNIO

/// A new original about to be recorded.
struct NewAsset: Sendable {
    let kind: MediaFormat.Kind
    let sha256: String
    let format: MediaFormat
    let bytes: Int64
    let probed: ProbedMedia
    let path: String
    let originalName: String?
}

/// An asset as the database holds it.
public struct StoredAsset: Sendable {
    public let id: Int64
    public let kind: MediaFormat.Kind
    public let sha256: String
    public let path: String
    public let thumbPath: String?
    public let width: Int
    public let height: Int
    public let durationMs: Int64?
    /// `present`, `lost`, `quarantined` or `deleting`.
    public let state: String

    func result(file: String, status: IngestResult.Status) -> IngestResult {
        var result = IngestResult(file: file, status: status)
        result.id = id
        result.sha256 = sha256
        result.kind = kind
        result.path = path
        result.thumbPath = thumbPath
        result.width = width
        result.height = height
        result.durationMs = durationMs
        return result
    }
}

/// The SQL of ingest, in one place: the asset, its tags, provenance, thumbnail and the file
/// intents that make placing files crash-safe.
public struct AssetRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    struct ThumbnailRow: Sendable {
        let path: String?
        let width: Int?
        let height: Int?
        let bytes: Int64?
        let missingReason: String?
    }

    enum InsertOutcome {
        case inserted(Int64)
        case alreadyThere(StoredAsset)
    }

    public func asset(sha256: String) async throws(MediaError) -> StoredAsset? {
        try await one(
            """
            SELECT a.id, a.kind::text, a.sha256, a.path, t.path, a.width, a.height, a.duration_ms, a.state::text
            FROM asset a LEFT JOIN thumbnail t ON t.asset_id = a.id AND t.status = 'ok'
            WHERE a.sha256 = \(sha256)
            """)
    }

    /// Whether GC is removing the asset with these bytes right now (state `deleting`).
    func isBeingCollected(sha256: String) async throws(MediaError) -> Bool {
        do {
            let rows = try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM asset WHERE sha256 = \(sha256) AND state = 'deleting')", logger: logger)
            for try await found in rows.decode(Bool.self) { return found }
            return false
        } catch {
            throw DatabaseFailure.translate(error, "cannot look up an asset")
        }
    }

    private func one(_ query: PostgresQuery) async throws(MediaError) -> StoredAsset? {
        do {
            let rows = try await connection.query(query, logger: logger)
            for try await (id, kind, sha, path, thumb, width, height, duration, state)
                in rows.decode((Int64, String, String, String, String?, Int, Int, Int64?, String).self)
            {
                return StoredAsset(
                    id: id, kind: MediaFormat.Kind(rawValue: kind) ?? .image, sha256: sha, path: path,
                    thumbPath: thumb, width: width, height: height, durationMs: duration, state: state)
            }
            return nil
        } catch {
            throw DatabaseFailure.translate(error, "cannot look up an asset")
        }
    }

    /// Adds tags and a source to an asset that already holds the bytes.
    func merge(into id: Int64, tags: [String], provenance: Provenance, markUsed: Bool) async throws(MediaError) {
        try await transaction { connection in
            try await addDetails(id: id, tags: tags, provenance: provenance, markUsed: markUsed, on: connection)
        }
    }

    func recordIntents(_ paths: [String]) async throws(MediaError) {
        do {
            try await connection.query(
                """
                INSERT INTO file_intent (path, action, owner_pid)
                SELECT unnest(\(paths)::text[]), 'create', \(Int(getpid()))
                ON CONFLICT (path) DO NOTHING
                """, logger: logger)
        } catch {
            throw DatabaseFailure.translate(error, "cannot record the files about to be written")
        }
    }

    func forgetIntents(_ paths: [String]) async throws(MediaError) {
        do {
            try await connection.query("DELETE FROM file_intent WHERE path = ANY(\(paths)::text[])", logger: logger)
        } catch {
            throw DatabaseFailure.translate(error, "cannot clear file intents")
        }
    }

    /// Records a new asset with everything about it in one transaction, or, when another
    /// process recorded the same bytes first, merges into that one. `ON CONFLICT` names no
    /// index: the path derives from the SHA-256, and a concurrent insert of the same bytes may
    /// meet the path's unique index before the hash's (PostgreSQL checks them in index order),
    /// which with `ON CONFLICT (sha256)` was an error instead of a duplicate.
    func insert(
        _ asset: NewAsset, thumbnail: ThumbnailRow, tags: [String], provenance: Provenance, markUsed: Bool,
        intents: [String]
    ) async throws(MediaError) -> InsertOutcome {
        let inserted: Int64? = try await transaction { connection in
            guard let id = try await Self.insertRows(asset, thumbnail: thumbnail, on: connection, logger: logger) else {
                return nil
            }
            try await addDetails(id: id, tags: tags, provenance: provenance, markUsed: markUsed, on: connection)
            try await connection.query("DELETE FROM file_intent WHERE path = ANY(\(intents)::text[])", logger: logger)
            return id
        }
        if let inserted { return .inserted(inserted) }
        guard let existing = try await self.asset(sha256: asset.sha256) else {
            throw MediaError(.databaseError, "asset \(asset.sha256) was neither inserted nor found")
        }
        try await merge(into: existing.id, tags: tags, provenance: provenance, markUsed: markUsed)
        return .alreadyThere(existing)
    }

    /// The asset's row and its thumbnail's; nil when a row with these bytes (or path) is there.
    static func insertRows(
        _ asset: NewAsset, thumbnail: ThumbnailRow, addedAt: Date? = nil, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int64? {
        let probed = asset.probed
        let isVideo = asset.kind == .video
        let rows = try await connection.query(
            """
            INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path, original_name,
                               page_count, duration_ms, fps, video_codec, audio_codec, bitrate, has_audio, created_at)
            VALUES (\(asset.kind.rawValue)::asset_kind, \(asset.sha256), \(asset.format.canonicalExtension),
                    \(asset.format.mimeType), \(asset.bytes), \(probed.width), \(probed.height), \(asset.path),
                    \(asset.originalName), \(probed.pageCount),
                    \(isVideo ? probed.durationMs ?? 0 : nil as Int64?), \(isVideo ? probed.fps : nil),
                    \(isVideo ? probed.videoCodec : nil), \(isVideo ? probed.audioCodec : nil),
                    \(isVideo ? probed.bitrate : nil), \(isVideo ? probed.hasAudio ?? false : nil as Bool?),
                    coalesce(\(addedAt), now()))
            ON CONFLICT DO NOTHING
            RETURNING id
            """, logger: logger)
        var id: Int64?
        for try await value in rows.decode(Int64.self) { id = value }
        guard let id else { return nil }
        try await connection.query(
            """
            INSERT INTO thumbnail (asset_id, status, path, width, height, bytes, reason, attempts)
            VALUES (\(id), \(thumbnail.path == nil ? "missing" : "ok")::thumbnail_status, \(thumbnail.path),
                    \(thumbnail.width), \(thumbnail.height), \(thumbnail.bytes.flatMap { $0 > 0 ? $0 : nil }),
                    \(thumbnail.missingReason), \(thumbnail.path == nil ? 2 : 1))
            """, logger: logger)
        return id
    }

    /// Gives asset `id` these tags (already normalised), making the tags that are new.
    static func addTags(_ tags: [String], to id: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        guard !tags.isEmpty else { return }
        try await connection.query(
            "INSERT INTO tag (name) SELECT unnest(\(tags)::text[]) ON CONFLICT (name) DO NOTHING", logger: logger)
        try await connection.query(
            """
            INSERT INTO asset_tag (asset_id, tag_id)
            SELECT \(id), t.id FROM tag t WHERE t.name = ANY(\(tags)::text[])
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    private func addDetails(
        id: Int64, tags: [String], provenance: Provenance, markUsed: Bool, on connection: PostgresConnection
    ) async throws {
        try await Self.addTags(tags, to: id, on: connection, logger: logger)
        try await connection.query(
            """
            INSERT INTO provenance (asset_id, provider, provider_asset_id, source_url, file_keywords)
            VALUES (\(id), \(provenance.provider), \(provenance.providerAssetId), \(provenance.sourceURL),
                    \(provenance.fileKeywords))
            ON CONFLICT (asset_id, provider, provider_asset_id, source_url)
            DO UPDATE SET last_seen_at = now(), file_keywords = coalesce(EXCLUDED.file_keywords, provenance.file_keywords)
            """, logger: logger)
        if markUsed {
            try await connection.query(
                "UPDATE asset SET last_used_at = now(), use_count = use_count + 1 WHERE id = \(id)", logger: logger)
        }
    }

    private func transaction<T: Sendable>(
        _ body: (PostgresConnection) async throws -> T
    ) async throws(MediaError) -> T {
        try await connection.transaction("cannot record the asset", logger: logger, body)
    }
}

extension AssetRepository {
    /// Adds tags, a source and a use to an asset that is already stored (a sidecar that came
    /// after its media). Tags must already be normalised.
    public func addDetails(
        assetId: Int64, tags: [String], provider: String?, providerAssetId: String?, sourceURL: String?, markUsed: Bool
    ) async throws(MediaError) {
        let provenance = try Provenance(
            IngestRequest(
                path: "", provider: provider, sourceURL: sourceURL, providerAssetId: providerAssetId))
        try await merge(into: assetId, tags: tags, provenance: provenance, markUsed: markUsed)
    }
}
