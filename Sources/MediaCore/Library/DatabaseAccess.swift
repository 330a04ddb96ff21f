public import Foundation
public import Logging
public import PostgresNIO

/// Reaching the database without opening the library: for commands that only look
/// (`db status`) and must not create a root, a marker or a cluster.
public enum DatabaseAccess {
    /// The URL to use and whether it is the embedded cluster's, starting that cluster when it
    /// exists but is stopped.
    public static func resolve(
        _ configuration: LibraryConfiguration, logger: Logger
    ) async throws(MediaError) -> (url: DatabaseURL, embedded: Bool) {
        if let url = configuration.databaseURL { return (url, false) }
        let cluster = EmbeddedCluster(configuration, logger: logger)
        guard cluster.isInitialized else {
            throw MediaError(
                .databaseUnavailable,
                "no DATABASE_URL is set and the embedded PostgreSQL in \(cluster.directory) has not been created "
                    + "yet; mediad or `mediaq db migrate` creates it")
        }
        try await cluster.ensureRunning()
        return (cluster.url, true)
    }

    public static func connect(
        _ configuration: LibraryConfiguration, logger: Logger
    ) async throws(MediaError) -> (PostgresConnection, DatabaseConnector, embedded: Bool) {
        let (url, embedded) = try await resolve(configuration, logger: logger)
        let connector = DatabaseConnector(url: url, logger: logger)
        return (try await connector.connect(), connector, embedded)
    }

    /// The library row, if the schema has one yet.
    public static func libraryRow(
        connection: PostgresConnection, logger: Logger
    ) async throws -> (id: UUID, root: String, version: Int)? {
        try await LibraryRowRepository(connection: connection, logger: logger).rowIfMigrated()
    }
}
