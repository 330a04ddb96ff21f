import Foundation
import PostgresNIO

/// The SQL of taking an original that is on disk back into the rows (`mediaq reindex`,
/// `doctor --fix`), and of an asset's original going missing and coming back.
extension AssetRepository {
    /// Records an original already in its place, with what its metadata file says (or, without
    /// one, provider `unknown` and the keywords its file carries as tags). Returns the new id, or nil when a row with these bytes is
    /// there (another process recorded them first). `intents` (a thumbnail placed for it) are
    /// cleared in the same transaction.
    func adopt(
        _ asset: NewAsset, thumbnail: ThumbnailRow, metadata: AssetMetadata?, intents: [String]
    ) async throws(MediaError) -> Int64? {
        try await connection.transaction("cannot record the adopted original", logger: logger) { connection in
            guard
                let id = try await Self.insertRows(
                    asset, thumbnail: thumbnail, addedAt: metadata?.addedAt, on: connection, logger: logger)
            else { return nil }
            // The metadata file's tags include the file's keywords already (and not those an
            // operator removed since): the file is read again only when there is no metadata file.
            let fileTags = metadata == nil ? FileKeywords.tags(from: asset.probed.keywords) : nil
            try await Self.apply(metadata, fileTags: fileTags, to: id, on: connection, logger: logger)
            if !intents.isEmpty {
                try await connection.query("DELETE FROM file_intent WHERE path = ANY(\(intents)::text[])", logger: logger)
            }
            return id
        }
    }

    /// Makes a recorded asset's tags those of its metadata file and adds the sources it lacks
    /// (sources are history: never removed). Returns whether the rows changed.
    func apply(_ metadata: AssetMetadata, to id: Int64) async throws(MediaError) -> Bool {
        try await connection.transaction("cannot apply the metadata file", logger: logger) { connection in
            guard let current = try await MetadataRepository.documents([id], on: connection, logger: logger).first else {
                return false
            }
            let missingSources = metadata.sources.filter { wanted in
                !current.sources.contains { Self.sameSource($0, wanted) }
            }
            // A source recorded before its file's keywords were kept (a restored older backup)
            // takes them from the metadata file.
            let keywordsToFill = metadata.sources.filter { wanted in
                wanted.fileKeywords != nil && current.sources.contains { Self.sameSource($0, wanted) && $0.fileKeywords == nil }
            }
            let wanted = TagNormalizer.normalize(metadata.tags)
            guard
                Set(current.tags) != Set(wanted) || !missingSources.isEmpty || !keywordsToFill.isEmpty
                    || current.hidden != metadata.hidden || current.rating != metadata.rating
                    || (metadata.stored != nil && current.stored != metadata.stored)
            else {
                return false
            }
            try await connection.query(
                """
                DELETE FROM asset_tag x USING tag t
                WHERE x.asset_id = \(id) AND t.id = x.tag_id AND NOT (t.name = ANY(\(wanted)::text[]))
                """, logger: logger)
            var partial = metadata
            partial.sources = missingSources + keywordsToFill
            try await Self.apply(partial, fileTags: nil, to: id, on: connection, logger: logger)
            return true
        }
    }

    /// Adds the document's tags and sources to asset `id` (an original without one gets the
    /// source `unknown`, with `fileTags`, the keywords its file carries, as its tags).
    private static func apply(
        _ metadata: AssetMetadata?, fileTags: [String]?, to id: Int64, on connection: PostgresConnection, logger: Logger
    )
        async throws
    {
        try await addTags(TagNormalizer.normalize(metadata?.tags ?? fileTags ?? []), to: id, on: connection, logger: logger)
        if let metadata {
            try await connection.query(
                "UPDATE asset SET hidden = \(metadata.hidden == true) WHERE id = \(id) AND hidden <> \(metadata.hidden == true)",
                logger: logger)
            let rating = Int16(min(max(metadata.rating ?? 0, 0), Scoring.maximumRating))
            try await connection.query(
                "UPDATE asset SET rating = \(rating) WHERE id = \(id) AND rating <> \(rating)", logger: logger)
            if let stored = metadata.stored {
                // The original on disk is the optimised one the file describes (the adopter
                // checked its hash, or the rows were restored from before the optimisation).
                try await connection.query(
                    """
                    UPDATE asset SET download_bytes = \(metadata.bytes), bytes = \(stored.bytes),
                                     stored_sha256 = \(stored.sha256), optimization = \(stored.method),
                                     optimization_quality = \(stored.quality), optimized_at = coalesce(optimized_at, now()),
                                     optimize_checked_at = coalesce(optimize_checked_at, now()), optimize_outcome = 'optimized'
                    WHERE id = \(id) AND stored_sha256 IS DISTINCT FROM \(stored.sha256)
                    """, logger: logger)
            }
        }
        let sources =
            metadata?.sources
            ?? [.init(provider: Self.unknownProvider, firstSeenAt: Date(), fileKeywords: fileTags)]
        for source in sources {
            try await connection.query(
                """
                INSERT INTO provenance (asset_id, provider, provider_asset_id, source_url, first_seen_at, last_seen_at,
                                        file_keywords)
                VALUES (\(id), \(source.provider), \(source.providerAssetId), \(source.sourceUrl),
                        \(source.firstSeenAt), \(source.firstSeenAt), \(source.fileKeywords))
                ON CONFLICT (asset_id, provider, provider_asset_id, source_url)
                DO UPDATE SET file_keywords = EXCLUDED.file_keywords
                WHERE provenance.file_keywords IS NULL AND EXCLUDED.file_keywords IS NOT NULL
                """, logger: logger)
        }
    }

    /// The provider of an original adopted without a metadata file.
    public static let unknownProvider = "unknown"

    static func sameSource(_ a: AssetMetadata.Source, _ b: AssetMetadata.Source) -> Bool {
        a.provider == b.provider && a.providerAssetId == b.providerAssetId && a.sourceUrl == b.sourceUrl
    }

    // MARK: - Lost and found

    /// Marks present assets whose originals are gone `lost`; returns those it changed.
    @discardableResult
    public func markLost(_ ids: [Int64]) async throws(MediaError) -> [Int64] {
        do {
            let rows = try await connection.query(
                "UPDATE asset SET state = 'lost' WHERE id = ANY(\(ids)::int8[]) AND state = 'present' RETURNING id",
                logger: logger)
            var changed: [Int64] = []
            for try await id in rows.decode(Int64.self) { changed.append(id) }
            for id in changed { logger.event(.assetLost, "original missing: asset marked lost", metadata: ["id": "\(id)"]) }
            return changed
        } catch {
            throw DatabaseFailure.translate(error, "cannot mark assets lost")
        }
    }

    /// A lost asset's original is in its place again: it is offered again.
    /// A lost asset (or a present one whose file is gone) whose download came again and was placed: the file is the download now,
    /// whatever optimisation the old one had, and the background optimiser may try it again.
    func markFoundAsDownloaded(_ id: Int64) async throws(MediaError) {
        do {
            try await connection.query(
                """
                UPDATE asset SET state = 'present', bytes = coalesce(download_bytes, bytes), download_bytes = NULL,
                                 stored_sha256 = NULL, optimization = NULL, optimization_quality = NULL, optimized_at = NULL,
                                 optimize_checked_at = NULL, optimize_outcome = NULL
                WHERE id = \(id) AND state IN ('lost', 'present')
                """, logger: logger)
        } catch {
            throw DatabaseFailure.translate(error, "cannot mark asset \(id) present again")
        }
    }

    func markFound(_ id: Int64) async throws(MediaError) {
        do {
            try await connection.query("UPDATE asset SET state = 'present' WHERE id = \(id) AND state = 'lost'", logger: logger)
        } catch {
            throw DatabaseFailure.translate(error, "cannot mark asset \(id) present again")
        }
    }
}
