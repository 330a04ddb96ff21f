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

/// Opens the library the configuration names, in the order that never writes where it should not:
/// root first (an unmounted drive is noticed before anything is created), then the database,
/// then the schema, then the library row that ties the two together.
public struct LibraryOpener: Sendable {
    public let configuration: LibraryConfiguration
    public let logger: Logger
    public let migrations: [Migration]
    public let mountTable: MountTable

    public init(
        configuration: LibraryConfiguration, logger: Logger,
        migrations: [Migration] = Migration.bundled, mountTable: MountTable = .current()
    ) {
        self.configuration = configuration
        self.logger = logger
        self.migrations = migrations
        self.mountTable = mountTable
    }

    /// Opens the library and returns it with a connection the caller owns (and closes).
    public func open() async throws(MediaError) -> (OpenLibrary, PostgresConnection) {
        let root = LibraryRoot(path: configuration.libraryRoot)
        var state = try checkRoot(root)

        let url: DatabaseURL
        let embedded = configuration.databaseURL == nil
        if let configured = configuration.databaseURL {
            url = configured
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
            let applied: [Migration]
            do {
                applied = try await MigrationRunner(migrations: migrations, logger: logger).migrate(on: connection)
            } catch let error as MediaError {
                throw error
            } catch {
                throw connector.translate(error, "cannot bring the database schema up to date")
            }
            let (id, version) = try await bindLibrary(root: root, state: state, connection: connection, connector: connector)
            _ = try await IngestRecovery(root: root.path, logger: logger).run(on: connection)
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
        if state != .missing, let problem = root.writeProblem() {
            throw MediaError(.libraryRootNotWritable, "LIBRARY_ROOT \(root.path) is not writable: \(problem)")
        }
        return state
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
        do {
            try await libraryRows.recordOpened()
        } catch {
            throw connector.translate(error, "cannot update the library row")
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
