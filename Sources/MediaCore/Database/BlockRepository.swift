public import Foundation
public import Logging
public import PostgresNIO

/// Content an operator blocked (`mediaq block`, migration 0007): the bytes and the provider
/// ids it was known under, refused when they come again. The rows are the truth; the library's
/// `blocked.json` (`BlockList`) follows them so that a reindex after a lost database keeps the
/// blocks.
public struct BlockRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Why a file is refused: the blocked content it is, or shares a provider id with.
    public struct Match: Sendable, Equatable {
        public let sha256: String
        public let formerAssetId: Int64?
        public let blockedAt: Date
    }

    /// The block on these bytes, if any.
    public func match(sha256: String) async throws(MediaError) -> Match? {
        try await first(
            "SELECT sha256, former_asset_id, blocked_at FROM blocked WHERE sha256 = \(sha256)")
    }

    /// The block on content the provider knows by this id, if any.
    public func match(provider: String, providerAssetId: String) async throws(MediaError) -> Match? {
        try await first(
            """
            SELECT b.sha256, b.former_asset_id, b.blocked_at FROM blocked_source s JOIN blocked b ON b.sha256 = s.sha256
            WHERE s.provider = \(provider) AND s.provider_asset_id = \(providerAssetId)
            ORDER BY b.blocked_at LIMIT 1
            """)
    }

    /// Which of these provider ids name blocked content.
    public func blockedIds(provider: String, providerAssetIds: [String]) async throws(MediaError) -> Set<String> {
        do {
            let rows = try await connection.query(
                """
                SELECT DISTINCT provider_asset_id FROM blocked_source
                WHERE provider = \(provider) AND provider_asset_id = ANY(\(providerAssetIds)::text[])
                """, logger: logger)
            var ids: Set<String> = []
            for try await id in rows.decode(String.self) { ids.insert(id) }
            return ids
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the blocked content")
        }
    }

    private func first(_ query: PostgresQuery) async throws(MediaError) -> Match? {
        do {
            let rows = try await connection.query(query, logger: logger)
            for try await (sha256, former, at) in rows.decode((String, Int64?, Date).self) {
                return Match(sha256: sha256, formerAssetId: former, blockedAt: at)
            }
            return nil
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the blocked content")
        }
    }

    /// Every block, oldest first, with its provider ids.
    public func list() async throws(MediaError) -> [BlockList.Entry] {
        do {
            var entries: [BlockList.Entry] = []
            var index: [String: Int] = [:]
            let rows = try await connection.query(
                "SELECT sha256, kind::text, former_asset_id, blocked_at FROM blocked ORDER BY blocked_at, sha256", logger: logger)
            for try await (sha256, kind, former, at) in rows.decode((String, String, Int64?, Date).self) {
                index[sha256] = entries.count
                entries.append(
                    .init(
                        sha256: sha256, kind: MediaFormat.Kind(rawValue: kind) ?? .image, formerAssetId: former, blockedAt: at,
                        sources: []))
            }
            let sources = try await connection.query(
                "SELECT sha256, provider, provider_asset_id FROM blocked_source ORDER BY sha256, provider, provider_asset_id",
                logger: logger)
            for try await (sha256, provider, id) in sources.decode((String, String, String).self) {
                if let at = index[sha256] { entries[at].sources.append(.init(provider: provider, providerAssetId: id)) }
            }
            return entries
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the blocked content")
        }
    }

    /// Records blocks read from `blocked.json` (reindex); those already there are kept as they
    /// are. Returns how many were new.
    public func insert(_ entries: [BlockList.Entry]) async throws(MediaError) -> Int {
        try await connection.transaction("cannot record the blocked content", logger: logger) { connection in
            var added = 0
            for entry in entries {
                let rows = try await connection.query(
                    """
                    INSERT INTO blocked (sha256, kind, former_asset_id, blocked_at)
                    VALUES (\(entry.sha256), \(entry.kind.rawValue)::asset_kind, \(entry.formerAssetId), \(entry.blockedAt))
                    ON CONFLICT (sha256) DO NOTHING RETURNING 1
                    """, logger: logger)
                for try await _ in rows { added += 1 }
                for source in entry.sources {
                    try await connection.query(
                        """
                        INSERT INTO blocked_source (provider, provider_asset_id, sha256)
                        VALUES (\(source.provider), \(source.providerAssetId), \(entry.sha256)) ON CONFLICT DO NOTHING
                        """, logger: logger)
                }
            }
            return added
        }
    }

    /// Lifts the blocks on these SHA-256s, all or none: when one is not blocked, nothing is
    /// lifted and `not_found` names it. Returns them sorted.
    public func unblock(_ sha256s: [String]) async throws(MediaError) -> [String] {
        let wanted = Set(sha256s)
        return try await connection.transaction("cannot lift the blocks", logger: logger) { connection in
            let rows = try await connection.query(
                "DELETE FROM blocked WHERE sha256 = ANY(\(Array(wanted))::text[]) RETURNING sha256", logger: logger)
            var lifted: Set<String> = []
            for try await sha256 in rows.decode(String.self) { lifted.insert(sha256) }
            let unknown = wanted.subtracting(lifted).sorted()
            guard unknown.isEmpty else {
                throw MediaError(.assetNotFound, "not blocked: \(unknown.joined(separator: ", ")); nothing was lifted")
            }
            return lifted.sorted()
        }
    }

    /// Writes `blocked.json` from the rows (after every block and unblock, and by reindex).
    public func writeList(root: String) async {
        await BlockList.writeFollowingRows(root: root, logger: logger) { () throws(MediaError) in BlockList(entries: try await list()) }
    }
}

/// The blocked content as a file in the library root, `blocked.json` (docs/storage.md).
public struct BlockList: RootListFile {
    public static let formatName = "media-library/blocked"
    public static let fileName = "blocked.json"
    public static let description = "a block list"

    public struct Source: Codable, Equatable, Sendable {
        public var provider: String
        public var providerAssetId: String
    }

    public struct Entry: Codable, Equatable, Sendable {
        public var sha256: String
        public var kind: MediaFormat.Kind
        public var formerAssetId: Int64?
        public var blockedAt: Date
        public var sources: [Source]
    }

    public var format = formatName
    public var version = 1
    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    public static var empty: BlockList { BlockList(entries: []) }
    public var isEmpty: Bool { entries.isEmpty }
}
