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

    /// The same server, user, database and TLS for a pool (`ConnectionPool`) of at most
    /// `maximumConnections`.
    public func clientConfiguration(maximumConnections: Int) throws(MediaError) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch url.endpoint {
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS
            switch url.tlsMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try tlsConfiguration())
            case .require: tls = .require(try tlsConfiguration())
            }
            configuration = .init(
                host: host, port: port, username: url.user, password: url.password, database: url.database, tls: tls)
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: url.user, password: url.password, database: url.database)
        }
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
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
                        "PostgreSQL at \(endpoint) did not answer within \(DatabaseFailure.format(seconds)) s")
                },
                discardLate: { connection in
                    // Held by the callback until it is closed: one released open is a leak, and
                    // an assertion failure in a debug build.
                    connection.close().whenComplete { _ in _ = connection }
                }
            ) {
                try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            }
        } catch let error as MediaError {
            throw error
        } catch {
            throw translate(error, "cannot connect to PostgreSQL at \(endpoint)")
        }
    }

    /// A driver error met on this connector's server, as the library's error
    /// (`DatabaseFailure.translate`, with the user and time limit for its messages).
    public func translate(_ error: any Error, _ action: String) -> MediaError {
        DatabaseFailure.translate(error, action, context: .init(user: url.user, connectTimeout: connectTimeout))
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
