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

    /// Gives the assets `stars` (0 clears the rating); returns the ids whose rating changed.
    public func rate(_ ids: [Int64], stars: Int) async throws(MediaError) -> [Int64] {
        guard (0...Scoring.maximumRating).contains(stars) else {
            throw MediaError(.invalidRequest, "a rating is 0 (none) to \(Scoring.maximumRating) stars, not \(stars)")
        }
        let ids = Array(Set(ids)).sorted()
        let rating = Int16(stars)
        return try await connection.transaction("cannot rate \(Self.describe(ids))", logger: logger) { connection in
            try await Self.lock(ids, on: connection, logger: logger)
            let rows = try await connection.query(
                "UPDATE asset SET rating = \(rating) WHERE id = ANY(\(ids)::int8[]) AND rating <> \(rating) RETURNING id",
                logger: logger)
            var changed: [Int64] = []
            for try await id in rows.decode(Int64.self) { changed.append(id) }
            return changed.sorted()
        }
    }

    /// What `rm` or `block` would remove, without changing anything (`--dry-run`): each asset,
    /// with the runs whose live pins hold it. Unknown ids throw `not_found`, as the change would.
    public struct Removal: Sendable, Encodable, Equatable {
        public let id: Int64
        public let sha256: String
        public let path: String
        /// Runs with a live pin on it: without --force, the change is refused.
        public let pinnedBy: [String]
    }

    public func previewRemoval(_ ids: [Int64]) async throws(MediaError) -> [Removal] {
        let ids = Array(Set(ids)).sorted()
        return try await connection.transaction(
            "cannot read \(Self.describe(ids))", mode: "ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger
        ) { connection in
            let rows = try await connection.query(
                """
                SELECT a.id, a.sha256, a.path,
                       coalesce((SELECT array_agg(p.run_id ORDER BY p.run_id) FROM pin p
                                 WHERE p.asset_id = a.id AND p.expires_at > now()), '{}'::text[])
                FROM asset a WHERE a.id = ANY(\(ids)::int8[]) AND a.state <> 'deleting' ORDER BY a.id
                """, logger: logger)
            var found: [Removal] = []
            for try await (id, sha256, path, runs) in rows.decode((Int64, String, String, [String]).self) {
                found.append(Removal(id: id, sha256: sha256, path: path, pinnedBy: runs))
            }
            let absent = ids.filter { id in !found.contains { $0.id == id } }
            guard absent.isEmpty else {
                throw MediaError(
                    .assetNotFound, "no asset has id \(absent.map(String.init).joined(separator: ", ")) (or it is being deleted)")
            }
            return found
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
