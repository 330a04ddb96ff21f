import Foundation
public import Logging
import NIOCore
import NIOSSL
public import PostgresNIO

/// Opens connections to the library's PostgreSQL server, with a hard deadline and errors that say
/// where it tried and why it failed.
public struct DatabaseConnector: Sendable {
    public let url: DatabaseURL
    public let logger: Logger

    /// How long connecting (TCP or socket, TLS, authentication) may take unless the URL's
    /// `connect_timeout` says otherwise.
    public static let defaultConnectTimeout: Double = 4

    public init(url: DatabaseURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    /// Where the server is, for messages.
    public var endpointDescription: String {
        switch url.endpoint {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unixSocket(let path): path
        }
    }

    public var connectTimeout: Double { url.connectTimeoutSeconds ?? Self.defaultConnectTimeout }

    public func connectionConfiguration() throws(MediaError) -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch url.endpoint {
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: url.user, password: url.password,
                database: url.database, tls: try tls())
        case .unixSocket(let path):
            configuration = .init(
                unixSocketPath: path, username: url.user, password: url.password, database: url.database)
        }
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
        return configuration
    }

    /// One connection, or a `MediaError` within `connectTimeout` (plus a small margin).
    public func connect() async throws(MediaError) -> PostgresConnection {
        let configuration = try connectionConfiguration()
        let logger = logger
        let endpoint = endpointDescription
        let seconds = connectTimeout
        do {
            return try await withDeadline(
                seconds: seconds + 0.5,
                timeoutError: {
                    MediaError(
                        .databaseTimeout,
                        "PostgreSQL at \(endpoint) did not answer within \(Self.format(seconds)) s")
                }
            ) {
                try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            }
        } catch let error as MediaError {
            throw error
        } catch {
            throw describe(error, action: "cannot connect to PostgreSQL at \(endpoint)")
        }
    }

    /// Turns a driver error into a sentence with the server's own reason.
    public func describe(_ error: any Error, action: String) -> MediaError {
        guard let psql = error as? PSQLError else {
            return MediaError(.databaseUnavailable, "\(action): \(error)")
        }
        if let state = psql.serverInfo?[.sqlState] {
            let message = psql.serverInfo?[.message] ?? "server error"
            switch state {
            case "28000", "28P01":  // invalid authorization, wrong password
                return MediaError(.databaseError, "\(action): authentication failed for user \(url.user): \(message)")
            case "3D000":  // database does not exist
                return MediaError(.databaseError, "\(action): \(message)")
            case "57P03":  // starting up or shutting down
                return MediaError(.databaseUnavailable, "\(action): \(message)")
            case "53300":  // every connection slot is taken (max_connections, or a role's or database's limit)
                return MediaError(
                    .databaseUnavailable,
                    "\(action): no free connection slot (\(message)); retry later, or raise max_connections "
                        + "(for the embedded cluster: database.maxConnections, MEDIA_DB_MAX_CONNECTIONS)")
            default:
                return MediaError(.databaseError, "\(action): \(message) (SQLSTATE \(state))")
            }
        }
        switch psql.code {
        case .connectionError:
            let reason = psql.underlying.map(Self.reason(of:)) ?? "connection failed"
            if reason.contains("timed out") || reason.contains("connectTimeout") {
                return MediaError(.databaseTimeout, "\(action): no answer within \(Self.format(connectTimeout)) s")
            }
            return MediaError(.databaseUnavailable, "\(action): \(reason)")
        case .authMechanismRequiresPassword:
            return MediaError(.databaseError, "\(action): the server wants a password for user \(url.user) and the URL has none")
        case .serverClosedConnection, .uncleanShutdown:
            return MediaError(.databaseUnavailable, "\(action): the server closed the connection")
        case .sslUnsupported:
            return MediaError(.databaseError, "\(action): sslmode=require but the server does not offer TLS")
        default:
            return MediaError(.databaseError, "\(action): \(String(reflecting: psql))")
        }
    }

    private static func reason(of error: any Error) -> String {
        if let io = error as? IOError {
            return String(cString: strerror(io.errnoCode)).lowercased()
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return "timed out"
        }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return reason(of: first.error) }
            if let dns = connection.dnsAAAAError ?? connection.dnsAError {
                return "cannot resolve \(connection.host): \(dns)"
            }
        }
        let text = String(describing: error)
        if text.contains("connectTimeout") { return "timed out" }
        return text
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }

    private func tls() throws(MediaError) -> PostgresConnection.Configuration.TLS {
        switch url.tlsMode {
        case .disable: return .disable
        case .prefer: return .prefer(try sslContext())
        case .require: return .require(try sslContext())
        }
    }

    /// As libpq's `prefer` and `require`: encrypted, but the certificate is not verified.
    private func tlsConfiguration() throws(MediaError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }

    private func sslContext() throws(MediaError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: tlsConfiguration())
        } catch {
            throw MediaError(.invalidConfiguration, "cannot set up TLS for PostgreSQL: \(error)")
        }
    }
}

extension PostgresConnection {
    /// Runs every statement of a SQL script, one at a time, in order.
    public func runScript(_ script: String, logger: Logger) async throws {
        for statement in SQLScript.statements(in: script) {
            try await query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }
}
