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
    let originalName: String
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
            SELECT a.id, a.kind::text, a.sha256, a.path, t.path, a.width, a.height, a.duration_ms
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
            for try await (id, kind, sha, path, thumb, width, height, duration)
                in rows.decode((Int64, String, String, String, String?, Int, Int, Int64?).self)
            {
                return StoredAsset(
                    id: id, kind: MediaFormat.Kind(rawValue: kind) ?? .image, sha256: sha, path: path,
                    thumbPath: thumb, width: width, height: height, durationMs: duration)
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
        let probed = asset.probed
        let isVideo = asset.kind == .video
        let inserted: Int64? = try await transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path, original_name,
                                   page_count, duration_ms, fps, video_codec, audio_codec, bitrate, has_audio)
                VALUES (\(asset.kind.rawValue)::asset_kind, \(asset.sha256), \(asset.format.canonicalExtension),
                        \(asset.format.mimeType), \(asset.bytes), \(probed.width), \(probed.height), \(asset.path),
                        \(asset.originalName), \(probed.pageCount),
                        \(isVideo ? probed.durationMs ?? 0 : nil as Int64?), \(isVideo ? probed.fps : nil),
                        \(isVideo ? probed.videoCodec : nil), \(isVideo ? probed.audioCodec : nil),
                        \(isVideo ? probed.bitrate : nil), \(isVideo ? probed.hasAudio ?? false : nil as Bool?))
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

    private func addDetails(
        id: Int64, tags: [String], provenance: Provenance, markUsed: Bool, on connection: PostgresConnection
    ) async throws {
        if !tags.isEmpty {
            try await connection.query(
                "INSERT INTO tag (name) SELECT unnest(\(tags)::text[]) ON CONFLICT (name) DO NOTHING", logger: logger)
            try await connection.query(
                """
                INSERT INTO asset_tag (asset_id, tag_id)
                SELECT \(id), t.id FROM tag t WHERE t.name = ANY(\(tags)::text[])
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        try await connection.query(
            """
            INSERT INTO provenance (asset_id, provider, provider_asset_id, source_url)
            VALUES (\(id), \(provenance.provider), \(provenance.providerAssetId), \(provenance.sourceURL))
            ON CONFLICT (asset_id, provider, provider_asset_id, source_url) DO UPDATE SET last_seen_at = now()
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

/// Everything the library knows of one asset, for `mediaq show`.
public struct AssetDetails: Sendable, Encodable {
    public struct Source: Sendable, Encodable {
        public let provider: String
        public let providerId: String?
        public let sourceUrl: String?
        public let firstSeenAt: Date
        public let lastSeenAt: Date
    }

    public struct Thumbnail: Sendable, Encodable {
        public let status: String
        public let path: String?
        public let width: Int?
        public let height: Int?
        public let reason: String?
    }

    public let id: Int64
    public let kind: String
    public let state: String
    public let sha256: String
    public let path: String
    public let ext: String
    public let mimeType: String
    public let bytes: Int64
    public let width: Int
    public let height: Int
    public let pageCount: Int
    public let durationMs: Int64?
    public let fps: Double?
    public let videoCodec: String?
    public let audioCodec: String?
    public let bitrate: Int64?
    public let hasAudio: Bool?
    public let originalName: String?
    public let createdAt: Date
    public let lastUsedAt: Date?
    public let useCount: Int
    public let tags: [String]
    public let sources: [Source]
    public let thumbnail: Thumbnail?
}

extension AssetRepository {
    /// One asset by id or SHA-256 (a full 64-character hash).
    public func details(idOrSHA256 key: String) async throws(MediaError) -> AssetDetails? {
        let id = Int64(key)
        let sha = key.lowercased()
        do {
            let rows = try await connection.query(
                """
                SELECT a.id, a.kind::text, a.state::text, a.sha256, a.path, a.ext, a.mime_type, a.bytes,
                       a.width, a.height, a.page_count, a.duration_ms, a.fps, a.video_codec, a.audio_codec,
                       a.bitrate, a.has_audio, a.original_name, a.created_at, a.last_used_at, a.use_count
                FROM asset a WHERE a.id = \(id) OR a.sha256 = \(sha)
                """, logger: logger)
            var found: AssetDetails?
            var keys: [Int64] = []
            var partial: [(PostgresRandomAccessRow)] = []
            for try await row in rows {
                let cells = row.makeRandomAccess()
                keys.append(try cells[0].decode(Int64.self))
                partial.append(cells)
            }
            for (assetId, c) in zip(keys, partial) {
                found = AssetDetails(
                    id: assetId, kind: try c[1].decode(String.self), state: try c[2].decode(String.self),
                    sha256: try c[3].decode(String.self), path: try c[4].decode(String.self),
                    ext: try c[5].decode(String.self), mimeType: try c[6].decode(String.self),
                    bytes: try c[7].decode(Int64.self), width: try c[8].decode(Int.self),
                    height: try c[9].decode(Int.self), pageCount: try c[10].decode(Int.self),
                    durationMs: try c[11].decode(Int64?.self), fps: try c[12].decode(Double?.self),
                    videoCodec: try c[13].decode(String?.self), audioCodec: try c[14].decode(String?.self),
                    bitrate: try c[15].decode(Int64?.self), hasAudio: try c[16].decode(Bool?.self),
                    originalName: try c[17].decode(String?.self), createdAt: try c[18].decode(Date.self),
                    lastUsedAt: try c[19].decode(Date?.self), useCount: try c[20].decode(Int.self),
                    tags: try await tagNames(assetId: assetId), sources: try await sources(assetId: assetId),
                    thumbnail: try await thumbnail(assetId: assetId))
            }
            return found
        } catch let error as MediaError {
            throw error
        } catch {
            throw DatabaseFailure.translate(error, "cannot read asset \(key)")
        }
    }

    private func tagNames(assetId: Int64) async throws -> [String] {
        let rows = try await connection.query(
            "SELECT t.name FROM asset_tag x JOIN tag t ON t.id = x.tag_id WHERE x.asset_id = \(assetId) ORDER BY t.name",
            logger: logger)
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    private func sources(assetId: Int64) async throws -> [AssetDetails.Source] {
        let rows = try await connection.query(
            """
            SELECT provider, provider_asset_id, source_url, first_seen_at, last_seen_at
            FROM provenance WHERE asset_id = \(assetId) ORDER BY first_seen_at, id
            """, logger: logger)
        var sources: [AssetDetails.Source] = []
        for try await (provider, id, url, first, last) in rows.decode((String, String?, String?, Date, Date).self) {
            sources.append(.init(provider: provider, providerId: id, sourceUrl: url, firstSeenAt: first, lastSeenAt: last))
        }
        return sources
    }

    private func thumbnail(assetId: Int64) async throws -> AssetDetails.Thumbnail? {
        let rows = try await connection.query(
            "SELECT status::text, path, width, height, reason FROM thumbnail WHERE asset_id = \(assetId)", logger: logger)
        for try await (status, path, width, height, reason) in rows.decode((String, String?, Int?, Int?, String?).self) {
            return .init(status: status, path: path, width: width, height: height, reason: reason)
        }
        return nil
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
