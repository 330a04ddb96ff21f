public import Logging
public import PostgresNIO

/// An operator's corrections to assets: their tags, and whether the pipeline is offered them.
/// Each call is all or nothing: an id that names no asset changes nothing. The metadata files
/// follow through the marks of migrations 0005 and 0006.
public struct CurationRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public struct Tagged: Sendable, Encodable, Equatable {
        public let id: Int64
        /// Every tag of the asset afterwards, sorted.
        public let tags: [String]
    }

    /// Adds `add` and removes `remove` (both normalised as ingest normalises) on every asset.
    public func retag(_ ids: [Int64], add: [String], remove: [String]) async throws(MediaError) -> [Tagged] {
        let ids = Array(Set(ids)).sorted()
        let added = TagNormalizer.normalize(add)
        let removed = TagNormalizer.normalize(remove).filter { !added.contains($0) }
        return try await connection.transaction("cannot change the tags of \(Self.describe(ids))", logger: logger) { connection in
            try await Self.lock(ids, on: connection, logger: logger)
            if !removed.isEmpty {
                try await connection.query(
                    """
                    DELETE FROM asset_tag x USING tag t
                    WHERE x.asset_id = ANY(\(ids)::int8[]) AND t.id = x.tag_id AND t.name = ANY(\(removed)::text[])
                    """, logger: logger)
            }
            for id in ids { try await AssetRepository.addTags(added, to: id, on: connection, logger: logger) }
            let rows = try await connection.query(
                """
                SELECT x.asset_id, t.name FROM asset_tag x JOIN tag t ON t.id = x.tag_id
                WHERE x.asset_id = ANY(\(ids)::int8[]) ORDER BY x.asset_id, t.name
                """, logger: logger)
            var tags: [Int64: [String]] = [:]
            for try await (id, name) in rows.decode((Int64, String).self) { tags[id, default: []].append(name) }
            return ids.map { Tagged(id: $0, tags: tags[$0] ?? []) }
        }
    }

    /// Hides or shows the assets; returns the ids whose flag changed.
    public func setHidden(_ ids: [Int64], _ hidden: Bool) async throws(MediaError) -> [Int64] {
        let ids = Array(Set(ids)).sorted()
        let verb = hidden ? "hide" : "unhide"
        return try await connection.transaction("cannot \(verb) \(Self.describe(ids))", logger: logger) { connection in
            try await Self.lock(ids, on: connection, logger: logger)
            let rows = try await connection.query(
                "UPDATE asset SET hidden = \(hidden) WHERE id = ANY(\(ids)::int8[]) AND hidden <> \(hidden) RETURNING id",
                logger: logger)
            var changed: [Int64] = []
            for try await id in rows.decode(Int64.self) { changed.append(id) }
            return changed.sorted()
        }
    }

    /// Locks the assets' rows, or throws `not_found` naming the ids that are not there (or are
    /// being deleted), which rolls the transaction back.
    static func lock(_ ids: [Int64], on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            "SELECT id FROM asset WHERE id = ANY(\(ids)::int8[]) AND state <> 'deleting' FOR UPDATE", logger: logger)
        var found: Set<Int64> = []
        for try await id in rows.decode(Int64.self) { found.insert(id) }
        let absent = ids.filter { !found.contains($0) }
        guard absent.isEmpty else {
            throw MediaError(
                .assetNotFound,
                "no asset has id \(absent.map(String.init).joined(separator: ", ")) (or it is being deleted); nothing was changed")
        }
    }

    static func describe(_ ids: [Int64]) -> String {
        (ids.count == 1 ? "asset " : "assets ") + ids.prefix(10).map(String.init).joined(separator: ", ") + (ids.count > 10 ? ", …" : "")
    }
}
