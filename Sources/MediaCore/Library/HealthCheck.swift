import Foundation
public import Logging
import PostgresNIO

/// `mediaq db check`: can the library be used right now? Reads only: it never creates a root,
/// a marker, a cluster or a table, and never applies migrations. It may start an embedded
/// cluster that already exists, as any command would.
public struct HealthCheck: Sendable {
    public struct Result: Sendable, Codable, Equatable {
        public let name: String
        public let ok: Bool
        public let message: String
        /// The error code when not ok.
        public let code: String?
    }

    public let configuration: LibraryConfiguration
    public let logger: Logger
    public let migrations: [Migration]
    public let mountTable: MountTable
    /// The whole check answers within this many seconds, even when a server never answers.
    public let timeLimit: Double

    public init(
        configuration: LibraryConfiguration, logger: Logger, migrations: [Migration] = Migration.bundled,
        mountTable: MountTable = .current(), timeLimit: Double = 4.5
    ) {
        self.configuration = configuration
        self.logger = logger
        self.migrations = migrations
        self.mountTable = mountTable
        self.timeLimit = timeLimit
    }

    public func run() async -> [Result] {
        var results: [Result] = []
        let root = LibraryRoot(path: configuration.libraryRoot)
        let rootResult = checkRoot(root)
        results.append(rootResult.result)

        let started = ContinuousClock.now
        let remaining = timeLimit - 0.3
        let database: [Result]
        do {
            let check = self
            database = try await withDeadline(
                seconds: remaining,
                timeoutError: {
                    MediaError(.databaseTimeout, "the database check did not finish within \(Int(check.timeLimit.rounded())) s")
                }
            ) {
                await check.checkDatabase(root: root, rootMarker: rootResult.marker, rootUsable: rootResult.result.ok)
            }
        } catch let error as MediaError {
            database = [Result(name: "database", ok: false, message: error.message, code: error.code.name)]
        } catch {
            database = [Result(name: "database", ok: false, message: "\(error)", code: MediaError.Code.databaseError.name)]
        }
        results += database
        logger.debug("db check finished", metadata: ["elapsed": "\(ContinuousClock.now - started)"])
        return results
    }

    private func checkRoot(_ root: LibraryRoot) -> (result: Result, marker: LibraryRoot.LibraryMarker?) {
        func problem(_ error: MediaError) -> (Result, LibraryRoot.LibraryMarker?) {
            (Result(name: "library root", ok: false, message: error.message, code: error.code.name), nil)
        }
        let state: LibraryRoot.State
        do {
            state = try root.inspect()
        } catch {
            return problem(error)
        }
        switch state {
        case .missing:
            var message = "LIBRARY_ROOT \(root.path) does not exist"
            if let mountPoint = mountTable.unmountedMountPoint(containing: root.path) {
                message += "; \(mountPoint) is declared in /etc/fstab but not mounted"
            }
            return problem(MediaError(.libraryRootMissing, message))
        case .notADirectory:
            return problem(MediaError(.libraryRootMissing, "LIBRARY_ROOT \(root.path) is not a directory"))
        case .emptyUnmarked, .unmarkedWithContent:
            var message = "LIBRARY_ROOT \(root.path) has no library marker (\(LibraryRoot.markerName))"
            if let mountPoint = mountTable.unmountedMountPoint(containing: root.path) {
                message += "; \(mountPoint) is declared in /etc/fstab but not mounted"
            } else {
                message += ": is its drive mounted? (a new library gets one when mediad or mediaq first opens it)"
            }
            return problem(MediaError(.libraryRootUnmarked, message))
        case .marked(let marker):
            if let why = root.writeProblem() {
                return problem(MediaError(.libraryRootNotWritable, "LIBRARY_ROOT \(root.path) is not writable: \(why)"))
            }
            return (
                Result(
                    name: "library root", ok: true,
                    message: "LIBRARY_ROOT \(root.path) is present, marked (library \(marker.libraryId.lowercased)) and writable",
                    code: nil),
                marker
            )
        }
    }

    private func checkDatabase(
        root: LibraryRoot, rootMarker: LibraryRoot.LibraryMarker?, rootUsable: Bool
    ) async -> [Result] {
        func failure(_ name: String, _ error: MediaError) -> Result {
            Result(name: name, ok: false, message: error.message, code: error.code.name)
        }
        var url: DatabaseURL
        if let configured = configuration.databaseURL {
            url = configured
        } else {
            let cluster = EmbeddedCluster(
                libraryRoot: root.path, logger: logger, maxConnections: configuration.embeddedMaxConnections)
            // A root with a problem may still hold a working cluster (a read-only remount, a
            // lost marker): report on it too, so every problem shows in one run.
            guard cluster.isInitialized else {
                let why =
                    rootUsable
                    ? "the embedded PostgreSQL in \(cluster.directory) has not been created yet; mediad or any mediaq command creates it"
                    : "no DATABASE_URL is set and the embedded PostgreSQL would live in \(cluster.directory), which does not exist"
                return [failure("database", MediaError(.databaseUnavailable, why))]
            }
            do {
                try await cluster.ensureRunning(timeout: 2)
            } catch {
                return [failure("database", error)]
            }
            url = cluster.url
        }
        url.connectTimeoutSeconds = min(url.connectTimeoutSeconds ?? 3, 3)
        let connector = DatabaseConnector(url: url, logger: logger)
        let connection: PostgresConnection
        do {
            connection = try await connector.connect()
        } catch {
            return [failure("database", error)]
        }
        defer { Task { try? await connection.close() } }
        var results = [
            Result(name: "database", ok: true, message: "PostgreSQL at \(connector.endpointDescription) answers", code: nil)
        ]

        do {
            let status = try await MigrationRunner(migrations: migrations, logger: logger).status(on: connection)
            if let problem = status.blockingProblems.first {
                results.append(failure("schema", problem))
            } else if !status.isCurrent {
                let names = status.pending.map { Migration.fileName(version: $0.version, name: $0.name) }
                results.append(
                    failure(
                        "schema",
                        MediaError(
                            .schemaNotCurrent,
                            "the schema is not current: \(names.count) migration(s) pending (\(names.joined(separator: ", "))); "
                                + "mediad (when it starts) or `mediaq db migrate` applies them; other commands refuse until then")))
            } else {
                results.append(
                    Result(
                        name: "schema", ok: true,
                        message: "schema current (\(status.entries.count) migration(s) applied)", code: nil))
            }
            if status.entries.contains(where: { $0.version == 1 && $0.state == .applied }),
                let row = try await LibraryRowRepository(connection: connection, logger: logger).row()
            {
                if let rootMarker, rootMarker.libraryId != row.id {
                    results.append(
                        failure(
                            "library",
                            MediaError(
                                .libraryMismatch,
                                "LIBRARY_ROOT holds library \(rootMarker.libraryId.lowercased), but the database holds library \(row.id.lowercased)"
                            )))
                } else if rootMarker != nil, row.root != LibraryOpener.canonical(root.path) {
                    results.append(
                        failure(
                            "library",
                            MediaError(
                                .libraryMoved,
                                "the library was last opened at \(row.root), not \(root.path); run `mediaq rebase`")))
                }
            }
        } catch {
            results.append(failure("schema", connector.translate(error, "cannot read the schema's state")))
        }
        return results
    }
}
