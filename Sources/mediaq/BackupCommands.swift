import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Dump the library's database into a new dated folder (pg_dump), keeping the newest few.",
        discussion: """
            Writes <dir>/<UTC time>/database.dump (pg_dump's custom format, one consistent \
            snapshot, taken while mediad runs) and manifest.json (library id, schema, asset \
            count), whole or not at all, then removes all but the newest --keep backups in <dir>. \
            The originals and their metadata files stay in the library: back the library's folder \
            up with your file backup; `mediaq reindex` rebuilds from it whatever is newer than a \
            restored dump. systemd/mediaq-backup.timer runs this nightly (docs/operations.md).

            With --json: {"ok", "path", "manifest": {"libraryId", "createdAt", "schema", "assets", \
            "dumpBytes", "postgres"}, "removed": [paths]}.

            Exit codes: 0 done; 1 pg_dump failed or the folder cannot be written; 2 usage; 75 \
            database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("The folder that holds the backups.", valueName: "dir"))
    var to: String

    @Option(help: ArgumentHelp("How many backups to keep in <dir> (0: all).", valueName: "n"))
    var keep = 7

    func validate() throws {
        if keep < 0 { throw ValidationError("--keep must be 0 or more") }
    }

    func run() async throws {
        let logger = options.makeLogger()
        let (parent, keep) = (absolutePath(to), keep)
        do {
            let configuration = try await options.library.load()
            let made = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (library, connection) throws(MediaError) in
                try await LibraryBackup(url: library.databaseURL, logger: logger)
                    .backup(libraryId: library.libraryId, to: parent, keep: keep, on: connection)
            }
            if options.json {
                JSONOutput.print(OKReport(made))
            } else {
                print(
                    "backed up \(made.manifest.assets) assets (\(ByteCount.format(made.manifest.dumpBytes))) to \(made.path)"
                        + (made.removed.isEmpty ? "" : "; removed \(made.removed.count) older backup(s)"))
            }
        } catch {
            throw fail(error, program: "mediaq backup", json: options.json)
        }
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the library's database with a backup made by `mediaq backup`; then run `mediaq reindex`.",
        discussion: """
            --from names one backup folder, or a folder of them (the newest is used). The backup \
            must belong to this library (its id is the one in LIBRARY_ROOT's marker). Refuses \
            while other sessions use the database (stop mediad first) unless --force. The \
            restore is one transaction: it succeeds whole or leaves the database as it was. It \
            never touches the library's files; what was ingested or tagged after the backup is \
            brought back by `mediaq reindex`, from the originals and their metadata files.

            With --json: {"ok", "backup", "manifest", "dryRun", "assets"}.

            Exit codes: 0 restored (or, with --dry-run, would be); 1 the backup belongs to another \
            library or the restore failed (nothing changed); 2 usage; 65 no backup there; 75 \
            database or library root unavailable, or the database in use.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("A backup folder, or the folder of backups.", valueName: "dir"))
    var from: String

    @Flag(help: "Restore even while other sessions use the database.")
    var force = false

    @Flag(help: "Check the backup and the library; change nothing.")
    var dryRun = false

    struct Report: Encodable {
        let backup: String
        let manifest: LibraryBackup.Manifest
        let dryRun: Bool
        let assets: Int
    }

    func run() async throws {
        let logger = options.makeLogger()
        let (force, dryRun) = (force, dryRun)
        do throws(MediaError) {
            let configuration = try await options.library.load()
            let (folder, manifest) = try LibraryBackup.resolve(absolutePath(from))
            let marker = try LibraryRoot(path: configuration.libraryRoot).readMarker()
            guard manifest.libraryId == marker.libraryId.lowercased else {
                throw MediaError(
                    .backupMismatch,
                    "\(folder) is a backup of library \(manifest.libraryId), but LIBRARY_ROOT \(configuration.libraryRoot) "
                        + "is library \(marker.libraryId.lowercased); nothing was changed")
            }
            // Restoring replaces the database: like `db migrate`, it makes the schema where there is
            // none and brings an older backup's up to date.
            try await withOpenLibrary(configuration, logger: logger, mode: .daemon) { (library, connection) throws(MediaError) in
                if dryRun { return }
                try await LibraryBackup(url: library.databaseURL, logger: logger).restore(folder, on: connection, force: force)
            }
            // Open again: the schema is brought up to date if the backup is older than this mediaq.
            let assets = try await withOpenLibrary(configuration, logger: logger, mode: .daemon) { (_, connection) throws(MediaError) in
                try await MaintenanceRepository(connection: connection, logger: logger).assetCount()
            }
            if options.json {
                JSONOutput.print(OKReport(Report(backup: folder, manifest: manifest, dryRun: dryRun, assets: assets)))
            } else if dryRun {
                print("would restore \(folder) (\(manifest.assets) assets, made \(manifest.createdAt)); nothing was changed")
            } else {
                print(
                    "restored \(folder) (\(manifest.assets) assets, made \(manifest.createdAt)); "
                        + "now run `mediaq reindex` to record what the library holds that is newer than the backup")
            }
        } catch {
            throw fail(error, program: "mediaq restore", json: options.json)
        }
    }
}
