import Crypto
public import Foundation
public import Logging
public import PostgresNIO

/// One schema change: `migrations/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file's bytes, lowercase hex.
    public let checksum: String

    public var fileName: String { Self.fileName(version: version, name: name) }

    public static func fileName(version: Int, name: String) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name + ".sql"
    }

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = Self.hex(SHA256.hash(data: Data(sql.utf8)))
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Reads `NNNN_name.sql` into a migration; `nil` when the name does not follow that pattern.
    public init?(fileName: String, contents: String) {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_"),
            stem.distance(from: stem.startIndex, to: underscore) == 4,
            let version = Int(stem[..<underscore]), version > 0
        else { return nil }
        let name = String(stem[stem.index(after: underscore)...])
        guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else { return nil }
        self.init(version: version, name: name, sql: contents)
    }

    /// The migrations built into this binary from `migrations/*.sql`, in order.
    public static let bundled: [Migration] = {
        embeddedMigrationFiles.map { file in
            let bytes = Data(base64Encoded: file.base64) ?? Data()
            guard let migration = Migration(fileName: file.name, contents: String(decoding: bytes, as: UTF8.self)) else {
                preconditionFailure("migrations/\(file.name) does not follow the NNNN_name.sql pattern")
            }
            return migration
        }.sorted { $0.version < $1.version }
    }()
}

/// A migration as recorded in the database.
public struct AppliedMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    public let appliedAt: Date
}

/// Where each known migration stands against one database.
public struct MigrationStatus: Sendable {
    public enum State: String, Sendable {
        case applied, pending
        /// Applied, but the file now has other contents.
        case changed
        /// Recorded in the database, unknown to this binary (the database is newer).
        case unknown
    }

    public struct Entry: Sendable {
        public let version: Int
        public let name: String
        public let state: State
        public let appliedAt: Date?
        public let recordedChecksum: String?
        public let fileChecksum: String?
    }

    public let entries: [Entry]

    public var isCurrent: Bool { entries.allSatisfy { $0.state == .applied } }
    public var pending: [Entry] { entries.filter { $0.state == .pending } }

    /// One sentence per problem that stops the schema from being brought up to date.
    public var blockingProblems: [MediaError] {
        entries.compactMap { entry in
            switch entry.state {
            case .changed:
                MediaError(
                    .migrationChanged,
                    "migration \(Migration.fileName(version: entry.version, name: entry.name)) was changed "
                        + "after it was applied (recorded checksum \(entry.recordedChecksum?.prefix(12) ?? ""), "
                        + "file now \(entry.fileChecksum?.prefix(12) ?? "")); restore the file, "
                        + "or put the change in a new migration")
            case .unknown:
                MediaError(
                    .schemaTooNew,
                    "the database has migration \(Migration.fileName(version: entry.version, name: entry.name)) "
                        + "applied, which this build does not know: a newer mediad or mediaq upgraded it; "
                        + "upgrade this one")
            case .applied, .pending:
                nil
            }
        }
    }
}

/// Applies migrations in order, each in its own transaction, under a PostgreSQL advisory lock so
/// that of several processes starting at once one applies and the others wait, then find the
/// work done.
public struct MigrationRunner: Sendable {
    public let migrations: [Migration]
    public let logger: Logger

    /// Arbitrary, fixed: "media-library migrations" as the key of the session advisory lock.
    static let advisoryLockKey: Int64 = 0x6D65_6469_615F_6D67

    public init(migrations: [Migration] = Migration.bundled, logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Reads where the database stands without changing anything.
    public func status(on connection: PostgresConnection) async throws -> MigrationStatus {
        let applied = try await appliedMigrations(on: connection)
        return compare(applied: applied)
    }

    /// Brings the schema up to date. Returns the migrations this call applied (empty when another
    /// process had already done it).
    @discardableResult
    public func migrate(on connection: PostgresConnection) async throws -> [Migration] {
        try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
        do {
            let done = try await migrateLocked(on: connection)
            try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
            return done
        } catch {
            // A failed migration's transaction was rolled back; the lock is the session's.
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
            throw error
        }
    }

    private func migrateLocked(on connection: PostgresConnection) async throws -> [Migration] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migration (
                version     integer     PRIMARY KEY,
                name        text        NOT NULL,
                checksum    text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                duration_ms integer     NOT NULL
            )
            """, logger: logger)
        let status = compare(applied: try await appliedMigrations(on: connection))
        if let problem = status.blockingProblems.first { throw problem }
        var done: [Migration] = []
        for entry in status.pending {
            guard let migration = migrations.first(where: { $0.version == entry.version }) else { continue }
            let started = ContinuousClock.now
            let milliseconds: Int
            do {
                milliseconds = try await connection.transaction("migration \(migration.fileName) failed", logger: logger) {
                    connection in
                    try await connection.runScript(migration.sql, logger: logger)
                    let elapsed = ContinuousClock.now - started
                    let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
                    try await connection.query(
                        """
                        INSERT INTO schema_migration (version, name, checksum, duration_ms)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum), \(milliseconds))
                        """, logger: logger)
                    return milliseconds
                }
            } catch {
                throw MediaError(.migrationFailed, error.message)
            }
            logger.event(
                .migrationApplied,
                "applied migration", metadata: ["migration": "\(migration.fileName)", "ms": "\(milliseconds)"])
            done.append(migration)
        }
        return done
    }

    private func appliedMigrations(on connection: PostgresConnection) async throws -> [AppliedMigration] {
        let exists = try await connection.query(
            "SELECT to_regclass('schema_migration') IS NOT NULL", logger: logger)
        var tableExists = false
        for try await value in exists.decode(Bool.self) { tableExists = value }
        guard tableExists else { return [] }
        let rows = try await connection.query(
            "SELECT version, name, checksum, applied_at FROM schema_migration ORDER BY version", logger: logger)
        var applied: [AppliedMigration] = []
        for try await (version, name, checksum, appliedAt) in rows.decode((Int, String, String, Date).self) {
            applied.append(AppliedMigration(version: version, name: name, checksum: checksum, appliedAt: appliedAt))
        }
        return applied
    }

    func compare(applied: [AppliedMigration]) -> MigrationStatus {
        var entries: [MigrationStatus.Entry] = []
        let recorded = Dictionary(uniqueKeysWithValues: applied.map { ($0.version, $0) })
        for migration in migrations {
            if let row = recorded[migration.version] {
                entries.append(
                    .init(
                        version: migration.version, name: migration.name,
                        state: row.checksum == migration.checksum ? .applied : .changed,
                        appliedAt: row.appliedAt, recordedChecksum: row.checksum, fileChecksum: migration.checksum))
            } else {
                entries.append(
                    .init(
                        version: migration.version, name: migration.name, state: .pending,
                        appliedAt: nil, recordedChecksum: nil, fileChecksum: migration.checksum))
            }
        }
        let known = Set(migrations.map(\.version))
        for row in applied where !known.contains(row.version) {
            entries.append(
                .init(
                    version: row.version, name: row.name, state: .unknown,
                    appliedAt: row.appliedAt, recordedChecksum: row.checksum, fileChecksum: nil))
        }
        return MigrationStatus(entries: entries.sorted { $0.version < $1.version })
    }
}
