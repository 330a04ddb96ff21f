public import Foundation
public import Logging
public import PostgresNIO

/// The `library` table's single row: which library this database holds, where its root was
/// last opened, and how many times it moved (the root version). Errors are the driver's; the
/// opener translates them with the connector, which knows whether the server is embedded.
struct LibraryRowRepository: Sendable {
    typealias Row = (id: UUID, root: String, version: Int)

    let connection: PostgresConnection
    let logger: Logger

    func row() async throws -> Row? {
        let rows = try await connection.query("SELECT id, root_path, root_version FROM library", logger: logger)
        for try await (id, root, version) in rows.decode((UUID, String, Int).self) {
            return (id, root, version)
        }
        return nil
    }

    /// The row, or nil when the schema has no library table yet (a database never migrated).
    func rowIfMigrated() async throws -> Row? {
        let rows = try await connection.query("SELECT to_regclass('library') IS NOT NULL", logger: logger)
        var exists = false
        for try await value in rows.decode(Bool.self) { exists = value }
        return exists ? try await row() : nil
    }

    /// Records the library, unless another process recorded one first (the caller reads the
    /// row back and compares ids).
    func create(id: UUID, root: String) async throws {
        try await connection.query(
            """
            INSERT INTO library (id, root_path) VALUES (\(id), \(root))
            ON CONFLICT (is_singleton) DO NOTHING
            """, logger: logger)
    }

    func recordOpened() async throws {
        try await connection.query("UPDATE library SET opened_at = now()", logger: logger)
    }
}
