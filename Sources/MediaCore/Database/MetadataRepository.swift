import Foundation
import Synchronization
public import Logging
public import PostgresNIO

/// Writes the metadata files (`AssetMetadata`) of the assets whose rows changed.
///
/// A change to an asset's tags or sources marks it in `asset_metadata_pending`, by trigger, in
/// the change's own transaction (migration 0005). `flush` claims marks (row locks, skipping
/// those another process is writing), writes each file from the rows, makes the batch durable
/// with one `syncfs`, and clears the marks in the same transaction: a writer changing an asset
/// meanwhile waits for the lock and marks it again afterwards, so the file always catches up
/// with the rows. A crash before the commit leaves the marks, and the files are written at the
/// next flush. Writers flush in batches after their work (mediad within a second, a command
/// when it ends), so an ingest pays for no fsync of its own for them.
public struct MetadataRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Writes the pending files of `assets` (all pending assets when nil), at most `limit` of
    /// them; returns how many marks it cleared.
    @discardableResult
    public func flush(_ assets: [Int64]? = nil, in store: ContentStore, limit: Int = 200) async throws(MediaError) -> Int {
        let logger = logger
        return try await connection.transaction("cannot write the assets' metadata files", logger: logger) { connection in
            let claimed = try await Self.claim(assets, limit: limit, on: connection, logger: logger)
            guard !claimed.isEmpty else { return 0 }
            // A drive unmounted under a running daemon leaves a bare mount point at the root:
            // nothing is written there (the marks stay, for when the library is back).
            guard FileManager.default.fileExists(atPath: LibraryRoot(path: store.root).markerPath) else {
                throw MediaError(
                    .libraryRootUnmarked, "\(store.root) no longer holds the library (no \(LibraryRoot.markerName)): metadata files wait")
            }
            for document in try await Self.documents(claimed, on: connection, logger: logger) {
                try document.write(in: store, durable: false)
            }
            // The batch reaches the disk before its marks go.
            guard FileIO.syncFilesystem(containing: store.root) else {
                throw MediaError(.libraryWriteFailed, "cannot flush the metadata files to disk: \(LibraryRoot.errnoText())")
            }
            try await connection.query(
                "DELETE FROM asset_metadata_pending WHERE asset_id = ANY(\(claimed)::int8[])", logger: logger)
            return claimed.count
        }
    }

    /// Flushes every pending file, in batches; `progress` gets (written, pending at the start).
    @discardableResult
    public func flushAll(in store: ContentStore, progress: (Int, Int) -> Void = { _, _ in }) async throws(MediaError) -> Int {
        let total = try await pendingCount()
        var written = 0
        while true {
            let batch = try await flush(in: store, limit: 200)
            if batch == 0 { break }
            written += batch
            progress(min(written, total), max(total, written))
        }
        return written
    }

    public func pendingCount() async throws(MediaError) -> Int {
        do {
            let rows = try await connection.query("SELECT count(*) FROM asset_metadata_pending", logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot count the metadata files to write")
        }
    }

    /// Forgets every mark: after a restore, the marks in the dump are of changes whose files
    /// were written long since, and writing them now would put older rows over newer files.
    public func forgetPending() async throws(MediaError) {
        do {
            try await connection.query("DELETE FROM asset_metadata_pending", logger: logger)
        } catch {
            throw DatabaseFailure.translate(error, "cannot clear the metadata marks")
        }
    }

    private static func claim(
        _ assets: [Int64]?, limit: Int, on connection: PostgresConnection, logger: Logger
    ) async throws -> [Int64] {
        let rows: PostgresRowSequence
        if let assets {
            rows = try await connection.query(
                """
                SELECT asset_id FROM asset_metadata_pending WHERE asset_id = ANY(\(assets)::int8[])
                ORDER BY asset_id LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED
                """, logger: logger)
        } else {
            rows = try await connection.query(
                "SELECT asset_id FROM asset_metadata_pending ORDER BY asset_id LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED",
                logger: logger)
        }
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return ids
    }

    /// The documents of these assets as the rows say now. An asset GC is removing gets none:
    /// its files are going.
    static func documents(_ ids: [Int64], on connection: PostgresConnection, logger: Logger) async throws -> [AssetMetadata] {
        var documents: [Int64: AssetMetadata] = [:]
        let assets = try await connection.query(
            """
            SELECT id, sha256, kind::text, ext, coalesce(download_bytes, bytes), original_name, created_at, hidden, rating,
                   stored_sha256, bytes, optimization, optimization_quality
            FROM asset WHERE id = ANY(\(ids)::int8[]) AND state <> 'deleting'
            """, logger: logger)
        for try await (id, sha256, kind, ext, bytes, name, created, hidden, rating, storedSha, storedBytes, method, quality)
            in assets.decode(
                (Int64, String, String, String, Int64, String?, Date, Bool, Int16, String?, Int64, String?, Double?).self)
        {
            var document = AssetMetadata(
                sha256: sha256, kind: MediaFormat.Kind(rawValue: kind) ?? .image, ext: ext, bytes: bytes, originalName: name,
                addedAt: created, tags: [], sources: [], hidden: hidden ? true : nil, rating: rating > 0 ? Int(rating) : nil)
            if let storedSha, let method {
                document.stored = .init(sha256: storedSha, bytes: storedBytes, method: method, quality: quality)
            }
            documents[id] = document
        }
        let tags = try await connection.query(
            """
            SELECT x.asset_id, t.name FROM asset_tag x JOIN tag t ON t.id = x.tag_id
            WHERE x.asset_id = ANY(\(ids)::int8[]) ORDER BY x.asset_id, t.name
            """, logger: logger)
        for try await (id, name) in tags.decode((Int64, String).self) { documents[id]?.tags.append(name) }
        let sources = try await connection.query(
            """
            SELECT asset_id, provider, provider_asset_id, source_url, first_seen_at, file_keywords FROM provenance
            WHERE asset_id = ANY(\(ids)::int8[]) ORDER BY asset_id, first_seen_at, id
            """, logger: logger)
        for try await (id, provider, providerId, url, seen, keywords)
            in sources.decode((Int64, String, String?, String?, Date, [String]?).self)
        {
            documents[id]?.sources.append(
                .init(provider: provider, providerAssetId: providerId, sourceUrl: url, firstSeenAt: seen, fileKeywords: keywords))
        }
        return ids.compactMap { documents[$0] }
    }
}

/// Whether this process knows of metadata files behind their rows (a write that failed, or
/// marks found when the library opened), so that a background writer leases a connection only
/// when there is something to write.
public final class MetadataBacklog: Sendable {
    private let behind = Atomic<Bool>(false)

    public init(behind: Bool = false) { self.behind.store(behind, ordering: .relaxed) }

    public func note() { behind.store(true, ordering: .releasing) }

    /// Whether there was a backlog; it is cleared (note it again if writing it fails).
    public func take() -> Bool { behind.exchange(false, ordering: .acquiringAndReleasing) }
}
