public import Foundation
import PostgresNIO

// What `mediaq serve` reads besides search: the library listed newest first (keyset paging by
// id), and the one row a file request needs.

/// Which assets a listing shows, newest first.
public struct BrowseRequest: Sendable, Equatable {
    public enum Listing: String, Sendable, CaseIterable {
        /// What search and plan offer: present and not hidden.
        case offered
        /// Hidden by an operator (`mediaq hide`), whatever their state.
        case hidden
        /// Originals gone from the disk (`doctor --fix` marked them).
        case lost
    }

    public var kind: MediaFormat.Kind?
    public var provider: String?
    public var minWidth: Int
    public var minHeight: Int
    public var minDurationMs: Int64?
    public var listing: Listing
    /// Keyset: only ids below this one (the last id of the page before).
    public var before: Int64?
    public var limit: Int

    public static let maximumLimit = 500

    public init(
        kind: MediaFormat.Kind? = nil, provider: String? = nil, minWidth: Int = 0, minHeight: Int = 0,
        minDurationMs: Int64? = nil, listing: Listing = .offered, before: Int64? = nil, limit: Int = 60
    ) {
        self.kind = kind
        self.provider = provider
        self.minWidth = minWidth
        self.minHeight = minHeight
        self.minDurationMs = minDurationMs
        self.listing = listing
        self.before = before
        self.limit = limit
    }
}

/// One asset of a listing: enough for a grid cell.
public struct BrowsedAsset: Sendable, Encodable, Equatable {
    public let id: Int64
    public let kind: MediaFormat.Kind
    public let sha256: String
    public let width: Int
    public let height: Int
    public let durationMs: Int64?
    public let bytes: Int64
    public let state: String
    public let hidden: Bool
    public let rating: Int
    /// A thumbnail (or poster frame) is on disk.
    public let hasThumbnail: Bool
    /// The provider of the first recorded source.
    public let provider: String?
}

/// Where an asset's bytes are, for serving them by id.
public struct AssetFiles: Sendable, Equatable {
    public let id: Int64
    public let kind: MediaFormat.Kind
    /// The asset's identity: the SHA-256 of the download.
    public let sha256: String
    /// The SHA-256 of the file on disk: `sha256` unless the original was optimised.
    public let storedSha256: String
    public let mimeType: String
    /// The size of the file on disk.
    public let bytes: Int64
    /// Relative to LIBRARY_ROOT; as recorded, never from a request.
    public let path: String
    public let state: String
    /// Relative to LIBRARY_ROOT, when the thumbnail's status is `ok`.
    public let thumbnailPath: String?
}

extension AssetRepository {
    /// A page of assets, newest (highest id) first.
    public func browse(_ request: BrowseRequest) async throws(MediaError) -> [BrowsedAsset] {
        let kind = request.kind?.rawValue
        let provider = request.provider
        let before = request.before ?? Int64.max
        let minDuration = request.minDurationMs
        let (minWidth, minHeight, limit) = (request.minWidth, request.minHeight, max(1, min(request.limit, BrowseRequest.maximumLimit)))
        let listing = request.listing.rawValue
        do {
            let rows = try await connection.query(
                """
                SELECT a.id, a.kind::text, a.sha256, a.width, a.height, a.duration_ms, a.bytes, a.state::text, a.hidden,
                       a.rating, coalesce(t.status = 'ok', false),
                       (SELECT p.provider FROM provenance p WHERE p.asset_id = a.id ORDER BY p.first_seen_at, p.id LIMIT 1)
                FROM asset a LEFT JOIN thumbnail t ON t.asset_id = a.id
                WHERE a.id < \(before)
                  AND (\(kind)::text IS NULL OR a.kind::text = \(kind))
                  AND a.width >= \(minWidth) AND a.height >= \(minHeight)
                  AND (\(minDuration)::int8 IS NULL OR a.duration_ms >= \(minDuration))
                  AND (\(provider)::text IS NULL
                       OR EXISTS (SELECT 1 FROM provenance p WHERE p.asset_id = a.id AND p.provider = \(provider)))
                  AND CASE \(listing)::text
                        WHEN 'hidden' THEN a.hidden AND a.state <> 'deleting'
                        WHEN 'lost' THEN a.state = 'lost'
                        ELSE a.state = 'present' AND NOT a.hidden END
                ORDER BY a.id DESC LIMIT \(limit)
                """, logger: logger)
            var assets: [BrowsedAsset] = []
            for try await row in rows {
                let c = row.makeRandomAccess()
                assets.append(
                    BrowsedAsset(
                        id: try c[0].decode(Int64.self), kind: MediaFormat.Kind(rawValue: try c[1].decode(String.self)) ?? .image,
                        sha256: try c[2].decode(String.self), width: try c[3].decode(Int.self), height: try c[4].decode(Int.self),
                        durationMs: try c[5].decode(Int64?.self), bytes: try c[6].decode(Int64.self),
                        state: try c[7].decode(String.self), hidden: try c[8].decode(Bool.self),
                        rating: Int(try c[9].decode(Int16.self)), hasThumbnail: try c[10].decode(Bool.self),
                        provider: try c[11].decode(String?.self)))
            }
            return assets
        } catch {
            throw DatabaseFailure.translate(error, "cannot list the assets")
        }
    }

    /// The recorded files of asset `id` (one query: thumbnails are asked for by the hundred).
    public func files(id: Int64) async throws(MediaError) -> AssetFiles? {
        do {
            let rows = try await connection.query(
                """
                SELECT a.kind::text, a.sha256, coalesce(a.stored_sha256, a.sha256), a.mime_type, a.bytes, a.path,
                       a.state::text, CASE WHEN t.status = 'ok' THEN t.path END
                FROM asset a LEFT JOIN thumbnail t ON t.asset_id = a.id WHERE a.id = \(id)
                """, logger: logger)
            for try await (kind, sha, stored, mime, bytes, path, state, thumb) in rows.decode(
                (String, String, String, String, Int64, String, String, String?).self)
            {
                return AssetFiles(
                    id: id, kind: MediaFormat.Kind(rawValue: kind) ?? .image, sha256: sha, storedSha256: stored, mimeType: mime,
                    bytes: bytes, path: path, state: state, thumbnailPath: thumb)
            }
            return nil
        } catch {
            throw DatabaseFailure.translate(error, "cannot read asset \(id)")
        }
    }
}

extension AssetRepository {
    /// Assets added per week (Monday to Sunday, UTC), the last `weeks` weeks, oldest first;
    /// weeks without any are absent.
    public func addedPerWeek(weeks: Int) async throws(MediaError) -> [(week: Date, assets: Int)] {
        do {
            let rows = try await connection.query(
                """
                SELECT date_trunc('week', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*)::int8
                FROM asset WHERE created_at > now() - make_interval(weeks => \(Int32(weeks))) AND state <> 'deleting'
                GROUP BY 1 ORDER BY 1
                """, logger: logger)
            var out: [(week: Date, assets: Int)] = []
            for try await (week, count) in rows.decode((Date, Int64).self) { out.append((week, Int(count))) }
            return out
        } catch {
            throw DatabaseFailure.translate(error, "cannot count the assets added per week")
        }
    }
}
