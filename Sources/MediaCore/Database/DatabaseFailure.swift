import Foundation
import NIOCore
public import PostgresNIO

/// The one place where a PostgreSQL driver error becomes a `MediaError`: what the server said
/// (its message and SQLSTATE), or why the connection failed, after `action`, with the code
/// that decides whether a caller retries.
///
/// postgres-nio's own description of its errors is deliberately generic (it hides what may be
/// sensitive); the server's fields and the underlying socket error are read here instead.
public enum DatabaseFailure {
    /// Where the connection went, for the few reasons that need it.
    public struct Context: Sendable {
        public var user: String?
        public var connectTimeout: Double?

        public init(user: String? = nil, connectTimeout: Double? = nil) {
            self.user = user
            self.connectTimeout = connectTimeout
        }
    }

    /// `error` as the library's error. A `MediaError` (thrown inside a transaction, say) passes
    /// through unchanged; a failed transaction is judged by what failed in it.
    public static func translate(_ error: any Error, _ action: String, context: Context = .init()) -> MediaError {
        if let error = error as? MediaError { return error }
        if let transaction = error as? PostgresTransactionError {
            let cause =
                transaction.closureError ?? transaction.beginError ?? transaction.commitError
                ?? transaction.rollbackError
            return cause.map { translate($0, action, context: context) }
                ?? MediaError(.databaseError, "\(action): the transaction failed")
        }
        // A row that does not decode as the code expects is a defect, not an outage: retrying
        // would fail the same way.
        if error is PostgresDecodingError {
            return MediaError(.databaseError, "\(action): a row did not decode as expected (\(String(reflecting: error)))")
        }
        guard let psql = error as? PSQLError else {
            return MediaError(.databaseUnavailable, "\(action): \(error)")
        }
        if let state = psql.serverInfo?[.sqlState] {
            return serverError(state: state, message: psql.serverInfo?[.message] ?? "server error", action, context)
        }
        switch psql.code {
        case .connectionError:
            let reason = psql.underlying.map(Self.reason(of:)) ?? "connection failed"
            if reason == timedOut {
                let seconds = context.connectTimeout.map { " within \(format($0)) s" } ?? ""
                return MediaError(.databaseTimeout, "\(action): no answer\(seconds)")
            }
            return MediaError(.databaseUnavailable, "\(action): \(reason)")
        case .authMechanismRequiresPassword:
            return MediaError(
                .databaseError, "\(action): the server wants a password for user \(context.user ?? "?") and the URL has none")
        case .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
            return MediaError(.databaseUnavailable, "\(action): the server closed the connection")
        case .sslUnsupported:
            return MediaError(.databaseError, "\(action): sslmode=require but the server does not offer TLS")
        default:
            return MediaError(.databaseUnavailable, "\(action): the database connection failed (\(psql.code))")
        }
    }

    /// What the server refused, by SQLSTATE class: the ones that pass with time are retryable.
    private static func serverError(state: String, message: String, _ action: String, _ context: Context) -> MediaError {
        switch state {
        case "28000", "28P01":  // invalid authorization, wrong password
            return MediaError(
                .databaseError, "\(action): authentication failed for user \(context.user ?? "?"): \(message)")
        case "3D000":  // database does not exist
            return MediaError(.databaseError, "\(action): \(message)")
        case "57P01", "57P02", "57P03":  // shut down by an administrator, crash shutdown, starting up
            return MediaError(.databaseUnavailable, "\(action): \(message)")
        case "53300":  // every connection slot is taken (max_connections, or a role's or database's limit)
            return MediaError(
                .databaseUnavailable,
                "\(action): no free connection slot (\(message)); retry later, or raise max_connections "
                    + "(for the embedded cluster: database.maxConnections, MEDIA_DB_MAX_CONNECTIONS)")
        default:
            if state.hasPrefix("08") {  // connection exception
                return MediaError(.databaseUnavailable, "\(action): \(message)")
            }
            return MediaError(.databaseError, "\(action): \(message) (SQLSTATE \(state))")
        }
    }

    static let timedOut = "timed out"

    /// The socket-level reason under a connection error, in words.
    static func reason(of error: any Error) -> String {
        if let io = error as? IOError {
            return String(cString: strerror(io.errnoCode)).lowercased()
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return timedOut
        }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return reason(of: first.error) }
            if let dns = connection.dnsAAAAError ?? connection.dnsAError {
                return "cannot resolve \(connection.host): \(dns)"
            }
        }
        let text = String(describing: error)
        if text.contains("connectTimeout") { return timedOut }
        return text
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension PostgresConnection {
    /// Runs `body` in one transaction (postgres-nio's `withTransaction`: BEGIN, COMMIT, or
    /// ROLLBACK when `body` throws), with every failure as a `MediaError` that names `action`.
    /// `mode` (e.g. `ISOLATION LEVEL REPEATABLE READ, READ ONLY`) is set first thing in it.
    public func transaction<T: Sendable>(
        _ action: String, mode: String? = nil, logger: Logger,
        _ body: (PostgresConnection) async throws -> T
    ) async throws(MediaError) -> T {
        do {
            return try await withTransaction(logger: logger) { connection in
                if let mode {
                    try await connection.query(PostgresQuery(unsafeSQL: "SET TRANSACTION " + mode), logger: logger)
                }
                return try await body(connection)
            }
        } catch {
            throw DatabaseFailure.translate(error, action)
        }
    }
}
