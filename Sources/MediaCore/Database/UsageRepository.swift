public import Foundation
public import Logging
public import PostgresNIO

/// The SQL of what selection writes: uses (`last_used_at`, `use_count`) and pins, and the
/// provenance lookup gather makes before it downloads.
public struct UsageRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger

    /// How long a pin holds its asset when the run never unpins it (as a sidecar's pin).
    public static let pinLifetime: Duration = .seconds(86_400)

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public struct Use: Sendable, Encodable, Equatable {
        public let id: Int64
        public let lastUsedAt: Date
        public let useCount: Int
    }

    /// Marks `ids` used now (unless `markUsed` is false) and pins them for `run`, in one
    /// transaction: all of them or, when one is not a present asset, none.
    @discardableResult
    public func record(
        _ ids: [Int64], markUsed: Bool = true, pinFor run: String? = nil, pinLifetime: Duration = pinLifetime
    ) async throws(MediaError) -> [Use] {
        let ids = Array(Set(ids)).sorted()
        guard !ids.isEmpty else { return [] }
        let action = "cannot record the use of assets \(ids.map(String.init).joined(separator: ", "))"
        return try await connection.transaction(action, logger: logger) { connection in
            var present: Set<Int64> = []
            let found = try await connection.query(
                "SELECT id FROM asset WHERE id = ANY(\(ids)::int8[]) AND state = 'present' FOR UPDATE", logger: logger)
            for try await id in found.decode(Int64.self) { present.insert(id) }
            let absent = ids.filter { !present.contains($0) }
            guard absent.isEmpty else {
                throw MediaError(
                    .assetNotFound,
                    "no asset has id \(absent.map(String.init).joined(separator: ", ")) (or it is being deleted); nothing was changed")
            }
            if markUsed {
                try await connection.query(
                    "UPDATE asset SET last_used_at = now(), use_count = use_count + 1 WHERE id = ANY(\(ids)::int8[])",
                    logger: logger)
            }
            if let run {
                try await Self.insertPins(ids, for: run, lifetime: pinLifetime, on: connection, logger: logger)
            }
            var uses: [Use] = []
            let rows = try await connection.query(
                "SELECT id, coalesce(last_used_at, created_at), use_count FROM asset WHERE id = ANY(\(ids)::int8[]) ORDER BY id",
                logger: logger)
            for try await (id, lastUsed, count) in rows.decode((Int64, Date, Int).self) {
                uses.append(Use(id: id, lastUsedAt: lastUsed, useCount: count))
            }
            return uses
        }
    }

    /// Pins `ids` for `run` (a pin that exists is extended), without checking that they are
    /// present assets: for an asset just stored, as a sidecar's `pin` asks.
    public func pin(_ ids: [Int64], for run: String, lifetime: Duration = pinLifetime) async throws(MediaError) {
        do {
            try await Self.insertPins(ids, for: run, lifetime: lifetime, on: connection, logger: logger)
        } catch {
            throw DatabaseFailure.translate(
                error, "cannot pin asset \(ids.map(String.init).joined(separator: ", ")) for run \(run)")
        }
    }

    /// The one statement that writes pins.
    private static func insertPins(
        _ ids: [Int64], for run: String, lifetime: Duration, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let seconds = Int(lifetime.components.seconds)
        try await connection.query(
            """
            INSERT INTO pin (run_id, asset_id, expires_at)
            SELECT \(run), unnest(\(ids)::int8[]), now() + make_interval(secs => \(seconds))
            ON CONFLICT (run_id, asset_id) DO UPDATE SET expires_at = greatest(pin.expires_at, EXCLUDED.expires_at)
            """, logger: logger)
    }

    /// `mediaq pin --extend RUN`: every pin of `run` (expired ones too, while their asset is
    /// still there) holds for `lifetime` from now, or longer if it already did. Returns how many.
    public func extend(run: String, lifetime: Duration) async throws(MediaError) -> Int {
        let seconds = Int(lifetime.components.seconds)
        do {
            let rows = try await connection.query(
                """
                WITH extended AS (
                    UPDATE pin SET expires_at = greatest(expires_at, now() + make_interval(secs => \(seconds)))
                    WHERE run_id = \(run) RETURNING 1)
                SELECT count(*)::int8 FROM extended
                """, logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot extend the pins of run \(run)")
        }
    }

    /// One run's live pins, for `mediaq pins`.
    public struct RunPins: Sendable, Encodable, Equatable {
        public let runId: String
        public let assets: [Int64]
        public let bytes: Int64
        public let firstPinnedAt: Date
        /// The earliest and the latest expiry among its pins.
        public let expiresFrom: Date
        public let expiresUntil: Date
    }

    /// Every run with a live pin (or just `run`), the soonest to expire first.
    public func livePins(run: String? = nil) async throws(MediaError) -> [RunPins] {
        do {
            let rows = try await connection.query(
                """
                SELECT p.run_id, array_agg(p.asset_id ORDER BY p.asset_id), coalesce(sum(a.bytes), 0)::int8,
                       min(p.created_at), min(p.expires_at), max(p.expires_at)
                FROM pin p JOIN asset a ON a.id = p.asset_id
                WHERE p.expires_at > now() AND (\(run)::text IS NULL OR p.run_id = \(run))
                GROUP BY p.run_id ORDER BY min(p.expires_at), p.run_id
                """, logger: logger)
            var runs: [RunPins] = []
            for try await (id, assets, bytes, first, from, until) in rows.decode((String, [Int64], Int64, Date, Date, Date).self) {
                runs.append(RunPins(runId: id, assets: assets, bytes: bytes, firstPinnedAt: first, expiresFrom: from, expiresUntil: until))
            }
            return runs
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the pins")
        }
    }

    /// Releases every pin of `run`; returns how many there were.
    public func unpin(run: String) async throws(MediaError) -> Int {
        do {
            let rows = try await connection.query(
                "WITH gone AS (DELETE FROM pin WHERE run_id = \(run) RETURNING 1) SELECT count(*)::int8 FROM gone",
                logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot unpin run \(run)")
        }
    }

    /// The assets pinned for `run` whose pin has not expired, by id.
    public func pinned(run: String) async throws(MediaError) -> [Int64] {
        do {
            let rows = try await connection.query(
                "SELECT asset_id FROM pin WHERE run_id = \(run) AND expires_at > now() ORDER BY asset_id", logger: logger)
            var ids: [Int64] = []
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            return ids
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the pins of run \(run)")
        }
    }

    /// One of a provider's assets that the library already holds.
    public struct KnownAsset: Sendable, Encodable, Equatable {
        public let providerId: String
        public let libraryId: Int64
        public let kind: MediaFormat.Kind
        public let path: String
        public let absolutePath: String
        public let sourceUrl: String?

        enum CodingKeys: String, CodingKey {
            case providerId, libraryId, kind, path, absolutePath, sourceUrl
        }

        /// Every key always, `null` when absent.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(providerId, forKey: .providerId)
            try container.encode(libraryId, forKey: .libraryId)
            try container.encode(kind, forKey: .kind)
            try container.encode(path, forKey: .path)
            try container.encode(absolutePath, forKey: .absolutePath)
            try container.encode(sourceUrl, forKey: .sourceUrl)
        }
    }

    /// Which of `providerIds` of `provider` the library holds (present assets only), in the
    /// order given; a provider id with several files (renditions) appears once per file.
    public func known(provider: String, providerIds: [String], root: String) async throws(MediaError) -> [KnownAsset] {
        var found: [KnownAsset] = []
        do {
            let rows = try await connection.query(
                """
                SELECT DISTINCT ON (p.provider_asset_id, a.id) p.provider_asset_id, a.id, a.kind::text, a.path, p.source_url
                FROM provenance p JOIN asset a ON a.id = p.asset_id
                WHERE p.provider = \(provider) AND p.provider_asset_id = ANY(\(providerIds)::text[]) AND a.state = 'present' AND NOT a.hidden
                ORDER BY p.provider_asset_id, a.id, p.first_seen_at, p.id
                """, logger: logger)
            for try await (providerId, id, kind, path, url) in rows.decode((String, Int64, String, String, String?).self) {
                found.append(
                    KnownAsset(
                        providerId: providerId, libraryId: id, kind: MediaFormat.Kind(rawValue: kind) ?? .image,
                        path: path, absolutePath: root + "/" + path, sourceUrl: url))
            }
        } catch {
            throw DatabaseFailure.translate(error, "cannot look up \(provider)'s assets")
        }
        let order = Dictionary(providerIds.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        return found.sorted { (order[$0.providerId] ?? 0, $0.libraryId) < (order[$1.providerId] ?? 0, $1.libraryId) }
    }
}
