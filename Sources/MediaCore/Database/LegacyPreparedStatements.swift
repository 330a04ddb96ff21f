public import PostgresNIO
import NIOCore
import Synchronization

// Prepared statements through postgres-nio API on its removal list (`PostgresData`,
// `PreparedQuery`, `PostgresConnection.prepare(query:)`, `_decodeRaw`; see its
// Docs.docc/deprecated.md), kept in this one file. Why not `PostgresPreparedStatement`: it
// needs its SQL as a static string, and search's SQL takes several shapes by request. When the
// driver's next major release removes these, this file is what changes.

/// SQL text and its parameters, numbered as they are bound, for a query whose parts depend on
/// the request (each part's parameters bound once, however often the part is used). The values
/// are kept both ways: as bindings for a one-off query, and as `PostgresData` for a prepared
/// statement (`PreparedStatements`).
struct SQLText {
    var sql = ""
    var binds = PostgresBindings()
    var values: [PostgresData] = []

    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        var buffer = ByteBuffer()
        value.encode(into: &buffer, context: .default)
        values.append(PostgresData(type: value.psqlType, formatCode: value.psqlFormat, value: buffer))
        return "$\(binds.count)"
    }

    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        guard let value else {
            binds.appendNull()
            values.append(PostgresData(type: .null))
            return "$\(binds.count)"
        }
        return bind(value)
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// The statements a connection has prepared, by their SQL. Search's SQL takes a few shapes (by
/// which steps and filters a request needs), and planning one cost 2–3 ms, more than running
/// it: a connection that searches many times (`mediaq plan`, the benchmark) prepares each shape
/// once and lets PostgreSQL cache its plan. Tied to one connection; one search at a time.
public final class PreparedStatements: Sendable {
    let connection: PostgresConnection
    private let prepared = Mutex<[String: PreparedQuery]>([:])

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    func rows(_ text: SQLText) async throws -> [PostgresRow] {
        let statement: PreparedQuery
        if let known = prepared.withLock({ $0[text.sql] }) {
            statement = known
        } else {
            statement = try await connection.prepare(query: text.sql).get()
            prepared.withLock { $0[text.sql] = statement }
        }
        return try await statement.execute(text.values).get()
    }
}

extension PostgresCell {
    /// The value read as binary, which is what the driver always asks the server for: its
    /// prepared-statement path labels the columns with the format the statement's description
    /// gave (text), and `decode` would then misread them.
    func binary<Value: PostgresDecodable>(_: Value.Type) throws -> Value {
        var buffer = bytes
        return try Value._decodeRaw(from: &buffer, type: dataType, format: .binary, context: .default)
    }
}
