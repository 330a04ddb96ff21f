public import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// `mediaq backup` and `mediaq restore`: the library's database dumped and restored by
/// PostgreSQL's own tools (`pg_dump`, `pg_restore`, `psql`), for the embedded cluster and a
/// `DATABASE_URL` alike. A backup is a folder `<to>/<UTC time>/` holding `database.dump`
/// (pg_dump's custom format: one consistent snapshot) and `manifest.json` (the library id it
/// belongs to, the schema, the counts); it appears whole (written under a `.partial` name and
/// renamed) or not at all. The originals and their metadata files are not in it: they are the
/// library's folders, and `mediaq reindex` brings back from them whatever is newer than a
/// restored backup.
public struct LibraryBackup: Sendable {
    public let url: DatabaseURL
    public let logger: Logger

    public init(url: DatabaseURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    public struct Manifest: Codable, Sendable, Equatable {
        public var format = "media-library/backup"
        public var version = 1
        public var libraryId: String
        public var createdAt: Date
        /// The newest migration applied when it was made.
        public var schema: String
        public var assets: Int
        public var dumpBytes: Int64
        public var postgres: String
    }

    public struct Made: Sendable, Encodable {
        public let path: String
        public let manifest: Manifest
        /// Older backups removed by `keep`.
        public let removed: [String]
    }

    static let dumpName = "database.dump"
    static let manifestName = "manifest.json"

    // MARK: - Backup

    /// Dumps the database into a new folder under `parent`, then keeps the newest `keep` backups there.
    public func backup(
        libraryId: UUID, to parent: String, keep: Int, on connection: PostgresConnection
    ) async throws(MediaError) -> Made {
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw MediaError(.outputNotWritten, "cannot create \(parent): \(error.localizedDescription)")
        }
        removeAbandonedPartials(in: parent)
        let name = Self.folderName(for: Date())
        let final = parent + "/" + name
        guard !FileManager.default.fileExists(atPath: final) else {
            throw MediaError(.outputNotWritten, "\(final) exists already; nothing was written")
        }
        let staging = parent + "/.\(name).\(getpid()).partial"
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw MediaError(.outputNotWritten, "cannot create \(staging): \(error.localizedDescription)")
        }
        var finished = false
        defer { if !finished { try? FileManager.default.removeItem(atPath: staging) } }

        let dump = staging + "/" + Self.dumpName
        try await run(
            "pg_dump", ["--format=custom", "--no-owner", "--no-privileges", "--file=" + dump], what: "pg_dump could not dump the database")
        try Self.syncFile(dump)
        let (schema, assets) = try await facts(on: connection)
        let manifest = Manifest(
            libraryId: libraryId.lowercased, createdAt: Date(), schema: schema, assets: assets,
            dumpBytes: FileIO.size(of: dump) ?? 0, postgres: try await run("pg_dump", ["--version"], what: "pg_dump --version failed"))
        guard let encoded = try? Self.encoder.encode(manifest) else {
            throw MediaError(.outputNotWritten, "cannot encode the backup manifest")
        }
        try AtomicFile.write(encoded, to: staging + "/" + Self.manifestName)
        guard rename(staging, final) == 0 else {
            throw MediaError(.outputNotWritten, "cannot rename \(staging) to \(final): \(LibraryRoot.errnoText())")
        }
        finished = true
        LibraryRoot.syncDirectory(parent)
        return Made(path: final, manifest: manifest, removed: prune(parent, keep: keep))
    }

    /// `20261205T072800Z`: sorts by time, and is what `prune` and `restore` recognise.
    static func folderName(for date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// The complete backups under `parent`, oldest first.
    static func backups(in parent: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        return names.filter { name in
            name.range(of: #"^[0-9]{8}T[0-9]{6}Z$"#, options: .regularExpression) != nil
                && FileManager.default.fileExists(atPath: parent + "/" + name + "/" + manifestName)
        }.sorted().map { parent + "/" + $0 }
    }

    private func prune(_ parent: String, keep: Int) -> [String] {
        let all = Self.backups(in: parent)
        guard keep > 0, all.count > keep else { return [] }
        let old = Array(all.prefix(all.count - keep))
        for path in old { try? FileManager.default.removeItem(atPath: path) }
        return old
    }

    /// `.…<pid>.partial` folders of processes that are gone: backups a crash interrupted.
    private func removeAbandonedPartials(in parent: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasSuffix(".partial") {
            let parts = name.split(separator: ".")
            guard parts.count >= 3, let pid = Int(parts[parts.count - 2]), !IngestRecovery.isAlive(pid) else { continue }
            try? FileManager.default.removeItem(atPath: parent + "/" + name)
        }
    }

    private func facts(on connection: PostgresConnection) async throws(MediaError) -> (String, Int) {
        do {
            var schema = ""
            var assets = 0
            let rows = try await connection.query(
                """
                SELECT (SELECT name FROM schema_migration ORDER BY version DESC LIMIT 1), (SELECT count(*)::int FROM asset)
                """, logger: logger)
            for try await (name, count) in rows.decode((String?, Int).self) {
                schema = name ?? ""
                assets = count
            }
            return (schema, assets)
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the schema version")
        }
    }

    // MARK: - Restore

    /// The backup `path` names: itself when it holds a manifest, else the newest one under it.
    public static func resolve(_ path: String) throws(MediaError) -> (folder: String, manifest: Manifest) {
        let folder: String
        if FileManager.default.fileExists(atPath: path + "/" + manifestName) {
            folder = path
        } else if let newest = backups(in: path).last {
            folder = newest
        } else {
            throw MediaError(.backupInvalid, "\(path) holds no backup (no \(manifestName), nor a folder of backups)")
        }
        guard let data = FileManager.default.contents(atPath: folder + "/" + manifestName),
            let manifest = try? decoder.decode(Manifest.self, from: data), manifest.format == "media-library/backup"
        else {
            throw MediaError(.backupInvalid, "\(folder)/\(manifestName) is not a backup manifest")
        }
        guard FileManager.default.fileExists(atPath: folder + "/" + dumpName) else {
            throw MediaError(.backupInvalid, "\(folder) has no \(dumpName)")
        }
        return (folder, manifest)
    }

    /// Replaces the database's contents with the backup's, in one transaction: the schema is
    /// dropped and the dump loaded by `psql --single-transaction`, so a failure leaves the
    /// database as it was. Intents to create files and metadata marks from the dump are
    /// dropped in the same transaction: they describe work long finished, and acting on them
    /// would remove originals ingested since, or put older rows over newer metadata files.
    public func restore(_ backup: String, on connection: PostgresConnection, force: Bool) async throws(MediaError) {
        if !force {
            let others = try await otherSessions(on: connection)
            if others > 0 {
                throw MediaError(
                    .libraryBusy,
                    "\(others) other session(s) use the database (is mediad running?); stop them and try again, or pass --force")
            }
        }
        let work = NSTemporaryDirectory() + "/mediaq-restore-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        } catch {
            throw MediaError(.outputNotWritten, "cannot create \(work): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: work) }
        let script = work + "/restore.sql"
        try await run(
            "pg_restore", ["--no-owner", "--no-privileges", "--file=" + script, backup + "/" + Self.dumpName],
            what: "pg_restore could not read the backup")
        let before = work + "/before.sql", after = work + "/after.sql"
        do {
            try "DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n".write(toFile: before, atomically: true, encoding: .utf8)
            try """
            DELETE FROM public.file_intent WHERE action = 'create';
            DO $$ BEGIN
                IF to_regclass('public.asset_metadata_pending') IS NOT NULL THEN
                    DELETE FROM public.asset_metadata_pending;
                END IF;
            END $$;

            """.write(toFile: after, atomically: true, encoding: .utf8)
        } catch {
            throw MediaError(.outputNotWritten, "cannot write the restore script in \(work): \(error.localizedDescription)")
        }
        try await run(
            "psql",
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", before, "-f", script, "-f", after],
            what: "the restore failed and was rolled back; the database is as it was")
    }

    private func otherSessions(on connection: PostgresConnection) async throws(MediaError) -> Int {
        do {
            let rows = try await connection.query(
                """
                SELECT count(*)::int FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                """, logger: logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot see who uses the database")
        }
    }

    // MARK: - PostgreSQL's programs

    /// Runs a PostgreSQL client program against the library's database; returns its output.
    /// A dump or a restore takes minutes: it is waited for on a thread of its own, not the
    /// cooperative pool.
    @discardableResult
    private func run(_ program: String, _ arguments: [String], what: String) async throws(MediaError) -> String {
        let binary = try EmbeddedCluster.postgresBinary(program)
        let environment = Self.libpqEnvironment(url)
        let outcome: ChildProcess.Outcome
        do {
            outcome = try await onOwnThread { () throws -> ChildProcess.Outcome in
                try ChildProcess.run([binary] + arguments, environment: environment)
            }
        } catch {
            throw MediaError(.databaseError, "\(what): \(error)")
        }
        guard outcome.status == 0 else {
            let detail = outcome.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw MediaError(.databaseError, "\(what): \(detail.isEmpty ? "exit \(outcome.status)" : detail)")
        }
        return outcome.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The URL as libpq's environment variables (no password on a command line).
    static func libpqEnvironment(_ url: DatabaseURL) -> [String: String] {
        var environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PGUSER": url.user, "PGDATABASE": url.database]
        switch url.endpoint {
        case .tcp(let host, let port):
            environment["PGHOST"] = host
            environment["PGPORT"] = "\(port)"
            environment["PGSSLMODE"] = url.tlsMode.rawValue
        case .unixSocket(let path):
            let socket = path as NSString
            environment["PGHOST"] = socket.deletingLastPathComponent
            environment["PGPORT"] = socket.lastPathComponent.components(separatedBy: ".").last ?? "5432"
        }
        if let password = url.password { environment["PGPASSWORD"] = password }
        if let timeout = url.connectTimeoutSeconds { environment["PGCONNECT_TIMEOUT"] = "\(max(2, Int(timeout.rounded(.up))))" }
        return environment
    }

    static func syncFile(_ path: String) throws(MediaError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            if fd >= 0 { close(fd) }
            throw MediaError(.outputNotWritten, "cannot flush \(path) to disk: \(LibraryRoot.errnoText())")
        }
        close(fd)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
