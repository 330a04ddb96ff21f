public import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// A library that passed its checks: root present and ours, database reachable, schema current.
public struct OpenLibrary: Sendable {
    public let configuration: LibraryConfiguration
    public let root: LibraryRoot
    public let libraryId: UUID
    public let rootVersion: Int
    /// The URL actually used: the configured one or the embedded cluster's.
    public let databaseURL: DatabaseURL
    public let usesEmbeddedDatabase: Bool
    /// Migrations this open applied.
    public let appliedMigrations: [Migration]
}

/// What an open may do to the library, by who is opening it.
public struct OpenMode: Sendable, Equatable {
    public enum Schema: Sendable, Equatable {
        /// Apply pending migrations (`mediad`, `mediaq db migrate`).
        case migrate
        /// Make the schema in a database that has none; otherwise as `requireCurrent`
        /// (`seed` and `reindex`, which build a library's database).
        case createWhenAbsent
        /// Refuse a schema that differs from this program's: older (pending migrations) is
        /// "retry later", since the daemon applies them when it is upgraded; newer is "upgrade".
        case requireCurrent
    }

    /// May make the root, its marker and the embedded cluster when there are none.
    public var createsLibrary: Bool
    public var schema: Schema
    /// Writes under the root (ingest, GC, doctor): the root must be writable, interrupted
    /// ingests are recovered, the library row records the open. A reader needs none of it and
    /// works with read access alone (a member of the library's group).
    public var writesFiles: Bool

    /// `mediad` and `mediaq db migrate`.
    public static let daemon = OpenMode(createsLibrary: true, schema: .migrate, writesFiles: true)
    /// `seed` and `reindex`.
    public static let creator = OpenMode(createsLibrary: true, schema: .createWhenAbsent, writesFiles: true)
    /// Commands that write files into an existing library (ingest, GC, doctor, forget, backup).
    public static let maintenance = OpenMode(createsLibrary: false, schema: .requireCurrent, writesFiles: true)
    /// Commands that read the library and write only rows (search, plan, use, unpin, known,
    /// show, stats, export).
    public static let reader = OpenMode(createsLibrary: false, schema: .requireCurrent, writesFiles: false)
}

/// Opens the library the configuration names, in the order that never writes where it should not:
/// root first (an unmounted drive is noticed before anything is created), then the database,
/// then the schema, then the library row that ties the two together.
public struct LibraryOpener: Sendable {
    public let configuration: LibraryConfiguration
    public let logger: Logger
    public let migrations: [Migration]
    public let mountTable: MountTable
    public let mode: OpenMode

    public init(
        configuration: LibraryConfiguration, logger: Logger, mode: OpenMode = .daemon,
        migrations: [Migration] = Migration.bundled, mountTable: MountTable = .current()
    ) {
        self.configuration = configuration
        self.logger = logger
        self.mode = mode
        self.migrations = migrations
        self.mountTable = mountTable
    }

    /// Opens the library and returns it with a connection the caller owns (and closes).
    public func open() async throws(MediaError) -> (OpenLibrary, PostgresConnection) {
        let root = LibraryRoot(path: configuration.libraryRoot)
        var state = try checkRoot(root)
        if !mode.createsLibrary { try requireExisting(root, state: state) }

        let url: DatabaseURL
        let embedded = configuration.databaseURL == nil
        if let configured = configuration.databaseURL {
            url = configured
        } else if !mode.createsLibrary {
            // Only the cluster's owner (or root) starts it; anyone else finds it running or
            // is told who starts it.
            url = try await EmbeddedCluster(configuration, logger: logger).urlWhenReachable()
        } else {
            // The embedded cluster lives inside the root, so a new library's marker is written
            // before the cluster: a crash in between leaves a marked, empty library, not a
            // root that looks foreign.
            if state == .missing || state == .emptyUnmarked {
                try root.create()
                _ = try root.createMarkerIfAbsent(.init(libraryId: UUID()))
                state = try root.inspect()
            }
            let cluster = EmbeddedCluster(
                libraryRoot: root.path, logger: logger, maxConnections: configuration.embeddedMaxConnections)
            try await cluster.ensureRunning()
            url = cluster.url
        }

        let connector = DatabaseConnector(url: url, logger: logger)
        let connection = try await connector.connect()
        do {
            let applied = try await settleSchema(on: connection, connector: connector)
            if embedded && mode.schema != .requireCurrent {
                try await EmbeddedCluster(configuration, logger: logger).grantClientAccess(on: connection)
            }
            let (id, version) = try await bindLibrary(root: root, state: state, connection: connection, connector: connector)
            if mode.writesFiles { _ = try await IngestRecovery(root: root.path, logger: logger).run(on: connection) }
            let library = OpenLibrary(
                configuration: configuration, root: root, libraryId: id, rootVersion: version,
                databaseURL: url, usesEmbeddedDatabase: embedded, appliedMigrations: applied)
            return (library, connection)
        } catch let error as MediaError {
            try? await connection.close()
            throw error
        } catch {
            try? await connection.close()
            throw MediaError(.databaseError, "cannot open the library: \(error)")
        }
    }

    /// Refuses a root that is not a library's or cannot be written, before anything touches it.
    func checkRoot(_ root: LibraryRoot) throws(MediaError) -> LibraryRoot.State {
        let state = try root.inspect()
        switch state {
        case .missing, .emptyUnmarked:
            if let mountPoint = mountTable.unmountedMountPoint(containing: root.path) {
                throw MediaError(
                    .libraryRootUnmounted,
                    "LIBRARY_ROOT \(root.path) is under \(mountPoint), which /etc/fstab declares but is not "
                        + "mounted; mount it and try again")
            }
        case .notADirectory:
            throw MediaError(.libraryRootMissing, "LIBRARY_ROOT \(root.path) is not a directory")
        case .unmarkedWithContent(let entries):
            throw MediaError(
                .libraryRootNotEmpty,
                "LIBRARY_ROOT \(root.path) holds files (\(entries.joined(separator: ", "))) but no library "
                    + "marker (\(LibraryRoot.markerName)); point LIBRARY_ROOT at an empty or new folder, "
                    + "or at the library's real location")
        case .marked:
            break
        }
        if mode.writesFiles, state != .missing, let problem = root.writeProblem() {
            throw MediaError(.libraryRootNotWritable, "LIBRARY_ROOT \(root.path) is not writable: \(problem)")
        }
        return state
    }

    /// A command that does not make libraries refuses a root that holds none: an empty second
    /// library (say, `./cache/library` under gather's working directory) would answer "nothing
    /// here" and send the pipeline online for what the real library holds.
    func requireExisting(_ root: LibraryRoot, state: LibraryRoot.State) throws(MediaError) {
        let origin =
            configuration.libraryRootIsDefault
            ? " (the default: no --library-root, LIBRARY_ROOT or library.root in \(configuration.configFile ?? LibraryConfiguration.systemConfigFile) names one)"
            : ""
        switch state {
        case .missing:
            throw MediaError(
                .libraryRootMissing,
                "LIBRARY_ROOT \(root.path)\(origin) does not exist; is its drive mounted? A new library is made by "
                    + "mediad, `mediaq db migrate` or `mediaq seed`")
        case .emptyUnmarked:
            throw MediaError(
                .libraryRootUnmarked,
                "LIBRARY_ROOT \(root.path)\(origin) is an empty folder without the library's marker "
                    + "(\(LibraryRoot.markerName)); is its drive mounted? A new library is made by mediad, "
                    + "`mediaq db migrate` or `mediaq seed`")
        default:
            break
        }
    }

    /// Applies, creates or checks the schema as the mode says; returns the migrations applied.
    func settleSchema(on connection: PostgresConnection, connector: DatabaseConnector) async throws(MediaError) -> [Migration] {
        let runner = MigrationRunner(migrations: migrations, logger: logger)
        do {
            switch mode.schema {
            case .migrate:
                return try await runner.migrate(on: connection)
            case .createWhenAbsent, .requireCurrent:
                let status = try await runner.status(on: connection)
                if mode.schema == .createWhenAbsent && status.entries.allSatisfy({ $0.state == .pending }) {
                    return try await runner.migrate(on: connection)
                }
                if let problem = status.blockingProblems.first { throw problem }
                let pending = status.pending
                if !pending.isEmpty {
                    let names = pending.map { Migration.fileName(version: $0.version, name: $0.name) }
                    throw MediaError(
                        .schemaNotCurrent,
                        "the library's database lacks migration(s) \(names.joined(separator: ", ")) that this program "
                            + "needs; only mediad and `mediaq db migrate` apply them: "
                            + "upgrade and restart mediad first (docs/operations.md), then retry")
                }
                return []
            }
        } catch let error as MediaError {
            throw error
        } catch {
            throw connector.translate(error, "cannot bring the database schema up to date")
        }
    }

    /// Matches the database's library row to the root's marker, creating either on first use.
    private func bindLibrary(
        root: LibraryRoot, state: LibraryRoot.State, connection: PostgresConnection, connector: DatabaseConnector
    ) async throws(MediaError) -> (UUID, Int) {
        let libraryRows = LibraryRowRepository(connection: connection, logger: logger)
        let recorded: LibraryRowRepository.Row?
        do {
            recorded = try await libraryRows.row()
        } catch {
            throw connector.translate(error, "cannot read the library row")
        }
        let canonicalRoot = Self.canonical(root.path)
        // Look again: another process may have created the library since the first look.
        let state = (try? root.inspect()) ?? state

        guard let recorded else {
            guard mode.createsLibrary else {
                throw MediaError(
                    .schemaNotCurrent,
                    "the database at \(databaseDescription) holds no library yet; mediad or `mediaq db migrate` makes it")
            }
            // First open with this database: adopt the root's marker, or make one.
            let marker: LibraryRoot.LibraryMarker
            switch state {
            case .marked(let existing):
                marker = existing
            default:
                try root.create()
                marker = try root.createMarkerIfAbsent(.init(libraryId: UUID()))
            }
            do {
                try await libraryRows.create(id: marker.libraryId, root: canonicalRoot)
                guard let row = try await libraryRows.row() else {
                    throw MediaError(.databaseError, "the library row vanished right after it was written")
                }
                guard row.id == marker.libraryId else {
                    throw mismatch(root: root, markerId: marker.libraryId, databaseId: row.id)
                }
                logger.event(
                    .libraryCreated,
                    "library created", metadata: ["id": "\(row.id.lowercased)", "root": "\(canonicalRoot)"], level: .info)
                return (row.id, row.version)
            } catch let error as MediaError {
                throw error
            } catch {
                throw connector.translate(error, "cannot record the library")
            }
        }

        switch state {
        case .missing:
            throw MediaError(
                .libraryRootMissing,
                "LIBRARY_ROOT \(root.path) does not exist, but the database holds library \(recorded.id.lowercased) "
                    + "last opened at \(recorded.root); is its drive mounted?")
        case .emptyUnmarked, .unmarkedWithContent, .notADirectory:
            throw MediaError(
                .libraryRootUnmarked,
                "LIBRARY_ROOT \(root.path) has no library marker (\(LibraryRoot.markerName)), but the database "
                    + "holds library \(recorded.id.lowercased); is its drive mounted? Nothing was written there")
        case .marked(let marker):
            guard marker.libraryId == recorded.id else {
                throw mismatch(root: root, markerId: marker.libraryId, databaseId: recorded.id)
            }
            guard recorded.root == canonicalRoot else {
                throw MediaError(
                    .libraryMoved,
                    "the library was last opened at \(recorded.root), not \(canonicalRoot); if it moved, run "
                        + "`mediaq rebase --from \(recorded.root) --to \(canonicalRoot)`")
            }
        }
        if mode.writesFiles {
            do {
                try await libraryRows.recordOpened()
            } catch {
                throw connector.translate(error, "cannot update the library row")
            }
        }
        return (recorded.id, recorded.version)
    }

    private func mismatch(root: LibraryRoot, markerId: UUID, databaseId: UUID) -> MediaError {
        MediaError(
            .libraryMismatch,
            "LIBRARY_ROOT \(root.path) holds library \(markerId.lowercased), but the database holds library \(databaseId.lowercased); "
                + "check LIBRARY_ROOT and DATABASE_URL point at the same library")
    }

    /// The root with symlinks resolved, as it is recorded.
    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
