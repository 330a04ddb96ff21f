public import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// The rows an optimisation run reads and writes (migration 0012): which originals to try,
/// the `replace` intent that makes swapping a file crash-safe, and the stored facts after it.
public struct OptimizationRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// An asset an optimisation run may rewrite.
    public struct Candidate: Sendable, Equatable {
        public let id: Int64
        public let kind: MediaFormat.Kind
        public let sha256: String
        public let ext: String
        public let mimeType: String
        public let path: String
        /// On disk now.
        public let bytes: Int64
        /// The hash of the file on disk now.
        public let storedSha256: String
        /// As downloaded.
        public let downloadBytes: Int64
        /// The rewrite it had already, if any.
        public let optimization: String?
    }

    /// Which assets a run asks for.
    public enum Selection: Sendable, Equatable {
        /// Present assets never tried (`optimize_checked_at` NULL), oldest first.
        case untried
        /// Present videos not re-encoded yet (`--reencode-video`), oldest first.
        case videosNotReencoded
        /// Present assets whose last lossless try failed (`--retry-failed`), oldest first.
        case failedBefore
    }

    /// Up to `limit` candidates after `afterId`, oldest first.
    public func candidates(
        _ selection: Selection, after afterId: Int64 = 0, limit: Int
    ) async throws(MediaError)
        -> [Candidate]
    {
        let filter =
            switch selection {
            case .untried: "a.optimize_checked_at IS NULL"
            case .videosNotReencoded: "a.kind = 'video' AND coalesce(a.optimization, '') NOT LIKE '%-crf%'"
            case .failedBefore: "a.optimize_outcome = 'failed'"
            }
        do {
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT a.id, a.kind::text, a.sha256, a.ext, a.mime_type, a.path, a.bytes,
                               coalesce(a.stored_sha256, a.sha256), coalesce(a.download_bytes, a.bytes), a.optimization
                        FROM asset a
                        WHERE a.state = 'present' AND a.id > $1 AND \(filter)
                          AND NOT EXISTS (SELECT 1 FROM file_intent i WHERE i.path = a.path)
                        ORDER BY a.id LIMIT $2
                        """,
                    binds: {
                        var bindings = PostgresBindings()
                        bindings.append(afterId)
                        bindings.append(Int64(limit))
                        return bindings
                    }()), logger: logger)
            var found: [Candidate] = []
            for try await (id, kind, sha, ext, mime, path, bytes, stored, download, method)
                in rows.decode((Int64, String, String, String, String, String, Int64, String, Int64, String?).self)
            {
                found.append(
                    Candidate(
                        id: id, kind: MediaFormat.Kind(rawValue: kind) ?? .image, sha256: sha, ext: ext, mimeType: mime,
                        path: path, bytes: bytes, storedSha256: stored, downloadBytes: download, optimization: method))
            }
            return found
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the originals to optimise")
        }
    }

    /// How many assets `selection` has left.
    public func remaining(_ selection: Selection) async throws(MediaError) -> Int {
        let filter =
            switch selection {
            case .untried: "optimize_checked_at IS NULL"
            case .videosNotReencoded: "kind = 'video' AND coalesce(optimization, '') NOT LIKE '%-crf%'"
            case .failedBefore: "optimize_outcome = 'failed'"
            }
        do {
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM asset WHERE state = 'present' AND \(filter)"), logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot count the originals to optimise")
        }
    }

    /// Records that an asset was tried, so that the background run goes on to the next.
    public func recordOutcome(_ id: Int64, _ outcome: String) async throws(MediaError) {
        do {
            try await connection.query(
                "UPDATE asset SET optimize_checked_at = now(), optimize_outcome = \(outcome) WHERE id = \(id)",
                logger: logger)
        } catch {
            throw DatabaseFailure.translate(error, "cannot record the optimisation of asset \(id)")
        }
    }

    /// The new stored facts of an original about to be replaced.
    public struct Replacement: Sendable, Equatable {
        public let assetId: Int64
        /// The original's path, relative to LIBRARY_ROOT.
        public let path: String
        /// The optimised copy, relative to LIBRARY_ROOT (in `.tmp`).
        public let temporaryPath: String
        public let sha256: String
        public let bytes: Int64
        public let method: String
        public let quality: Double?

        public init(
            assetId: Int64, path: String, temporaryPath: String, sha256: String, bytes: Int64, method: String,
            quality: Double?
        ) {
            self.assetId = assetId
            self.path = path
            self.temporaryPath = temporaryPath
            self.sha256 = sha256
            self.bytes = bytes
            self.method = method
            self.quality = quality
        }
    }

    /// Step 1 of a replacement, committed before the rename: the `replace` intent. Returns false
    /// (nothing recorded) when the asset is no longer present, or another intent holds its file
    /// (GC removing it, another run replacing it).
    public func recordReplaceIntent(_ replacement: Replacement) async throws(MediaError) -> Bool {
        let pid = Int(getpid())
        let logger = logger
        return try await connection.transaction("cannot record the replacement of asset \(replacement.assetId)", logger: logger) {
            connection in
            // The row lock keeps GC's marking (an UPDATE of the same row) after this commit, and
            // its delete intent then takes over this one (ON CONFLICT), never the reverse.
            let present = try await connection.query(
                "SELECT 1 FROM asset WHERE id = \(replacement.assetId) AND path = \(replacement.path) AND state = 'present' FOR UPDATE",
                logger: logger)
            var found = false
            for try await _ in present.decode(Int.self) { found = true }
            guard found else { return false }
            let inserted = try await connection.query(
                """
                INSERT INTO file_intent (path, action, asset_id, owner_pid, replacement_path, replacement_sha256,
                                         replacement_bytes, replacement_method, replacement_quality)
                VALUES (\(replacement.path), 'replace', \(replacement.assetId), \(pid), \(replacement.temporaryPath),
                        \(replacement.sha256), \(replacement.bytes), \(replacement.method), \(replacement.quality))
                ON CONFLICT (path) DO NOTHING RETURNING 1
                """, logger: logger)
            var recorded = false
            for try await _ in inserted.decode(Int.self) { recorded = true }
            return recorded
        }
    }

    /// Step 3, after the rename: the row takes the new stored facts and the intent goes, in one
    /// transaction. The size as downloaded is kept from the first rewrite.
    public func applyReplacement(_ replacement: Replacement) async throws(MediaError) {
        let logger = logger
        try await connection.transaction("cannot record the optimised original of asset \(replacement.assetId)", logger: logger) {
            connection in
            try await Self.apply(replacement, on: connection, logger: logger)
            try await connection.query(
                "DELETE FROM file_intent WHERE path = \(replacement.path) AND action = 'replace'", logger: logger)
        }
    }

    static func apply(_ replacement: Replacement, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE asset SET download_bytes = coalesce(download_bytes, bytes), bytes = \(replacement.bytes),
                             stored_sha256 = \(replacement.sha256), optimization = \(replacement.method),
                             optimization_quality = \(replacement.quality), optimized_at = now(),
                             optimize_checked_at = now(), optimize_outcome = 'optimized'
            WHERE id = \(replacement.assetId) AND path = \(replacement.path) AND state <> 'deleting'
            """, logger: logger)
    }

    /// Gives up a recorded replacement whose rename did not happen (the intent only).
    public func forgetReplaceIntent(path: String) async throws(MediaError) {
        do {
            try await connection.query("DELETE FROM file_intent WHERE path = \(path) AND action = 'replace'", logger: logger)
        } catch {
            throw DatabaseFailure.translate(error, "cannot clear the replacement intent of \(path)")
        }
    }

    // MARK: - Recovery

    /// A `replace` intent left by a process that may be gone.
    struct ReplaceIntent: Sendable {
        let replacement: Replacement
        let ownerPid: Int?
        let abandoned: Bool
    }

    func replaceIntents(abandonedAfter: Duration) async throws(MediaError) -> [ReplaceIntent] {
        let seconds = abandonedAfter.components.seconds
        do {
            let rows = try await connection.query(
                """
                SELECT path, coalesce(asset_id, 0), owner_pid, created_at < now() - make_interval(secs => \(seconds)),
                       coalesce(replacement_path, ''), coalesce(replacement_sha256, ''), coalesce(replacement_bytes, 1),
                       coalesce(replacement_method, ''), replacement_quality
                FROM file_intent WHERE action = 'replace'
                """, logger: logger)
            var intents: [ReplaceIntent] = []
            for try await (path, asset, pid, old, temporary, sha, bytes, method, quality)
                in rows.decode((String, Int64, Int?, Bool, String, String, Int64, String, Double?).self)
            {
                intents.append(
                    ReplaceIntent(
                        replacement: Replacement(
                            assetId: asset, path: path, temporaryPath: temporary, sha256: sha, bytes: bytes, method: method,
                            quality: quality),
                        ownerPid: pid, abandoned: old))
            }
            return intents
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the replacement intents of interrupted work")
        }
    }

    /// Finishes a replacement whose rename happened: the row update and the intent's removal.
    func finishInterrupted(_ replacement: Replacement, renamed: Bool) async throws(MediaError) {
        let logger = logger
        try await connection.transaction("cannot finish the replacement of \(replacement.path)", logger: logger) { connection in
            if renamed { try await Self.apply(replacement, on: connection, logger: logger) }
            try await connection.query(
                "DELETE FROM file_intent WHERE path = \(replacement.path) AND action = 'replace'", logger: logger)
        }
    }
}
