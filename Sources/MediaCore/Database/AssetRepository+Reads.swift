public import Foundation
import PostgresNIO

// What `mediaq show` and `mediaq export` read of assets already recorded.

/// Everything the library knows of one asset, for `mediaq show`.
public struct AssetDetails: Sendable, Encodable {
    public struct Source: Sendable, Encodable {
        public let provider: String
        public let providerId: String?
        public let sourceUrl: String?
        public let firstSeenAt: Date
        public let lastSeenAt: Date
        /// The tags this source's file carried as keywords (IPTC, XMP, EXIF), normalised;
        /// absent when it carried none.
        public let fileKeywords: [String]?
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
    /// Hidden by an operator (`mediaq hide`): never offered by search, plan or known.
    public let hidden: Bool
    /// An operator's stars (`mediaq rate`), 0 (not rated) to 5.
    public let rating: Int
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
    /// The stored file when it was optimised (`bytes` is its size then); nil while it is the download.
    public var stored: AssetMetadata.Stored?
    /// The download's size when the stored file is not the download.
    public var downloadBytes: Int64?
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
                       a.bitrate, a.has_audio, a.original_name, a.created_at, a.last_used_at, a.use_count, a.hidden, a.rating,
                       a.stored_sha256, a.download_bytes, a.optimization, a.optimization_quality
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
                    hidden: try c[21].decode(Bool.self), rating: Int(try c[22].decode(Int16.self)), sha256: try c[3].decode(String.self),
                    path: try c[4].decode(String.self),
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
                if let storedSha = try c[23].decode(String?.self), let method = try c[25].decode(String?.self) {
                    found?.stored = .init(
                        sha256: storedSha, bytes: try c[7].decode(Int64.self), method: method,
                        quality: try c[26].decode(Double?.self))
                    found?.downloadBytes = try c[24].decode(Int64?.self)
                }
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
            SELECT provider, provider_asset_id, source_url, first_seen_at, last_seen_at, file_keywords
            FROM provenance WHERE asset_id = \(assetId) ORDER BY first_seen_at, id
            """, logger: logger)
        var sources: [AssetDetails.Source] = []
        for try await (provider, id, url, first, last, keywords)
            in rows.decode((String, String?, String?, Date, Date, [String]?).self)
        {
            sources.append(
                .init(
                    provider: provider, providerId: id, sourceUrl: url, firstSeenAt: first, lastSeenAt: last,
                    fileKeywords: keywords))
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
    /// The present assets `ids` names, in that order; when one is not there, an error that
    /// names every missing id.
    public func exportSources(_ ids: [Int64]) async throws(MediaError) -> [ExportSource] {
        var found: [Int64: ExportSource] = [:]
        do {
            let rows = try await connection.query(
                """
                SELECT id, kind::text, sha256, path, stored_sha256 FROM asset
                WHERE id = ANY(\(ids)::int8[]) AND state = 'present'
                """,
                logger: logger)
            for try await (id, kind, sha, path, stored) in rows.decode((Int64, String, String, String, String?).self) {
                found[id] = ExportSource(
                    id: id, kind: MediaFormat.Kind(rawValue: kind) ?? .image, sha256: sha, path: path, storedSha256: stored)
            }
        } catch {
            throw DatabaseFailure.translate(error, "cannot look up the assets to export")
        }
        let absent = ids.filter { found[$0] == nil }
        guard absent.isEmpty else {
            throw MediaError(
                .assetNotFound,
                "no asset has id \(absent.map(String.init).joined(separator: ", ")) (or it is being deleted); nothing was exported")
        }
        return ids.compactMap { found[$0] }
    }
}
