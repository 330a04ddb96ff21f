public import Foundation
public import Hummingbird
public import Logging
public import MediaCore
import NIOCore
import PostgresNIO
public import ServiceLifecycle

/// `mediaq serve`'s state: the library it opened, the pool its requests lease connections from,
/// and who may do what. Routes read through the core's repositories; this type holds no SQL.
public struct LibraryServer: Sendable {
    public let library: OpenLibrary
    public let pool: ConnectionPool
    public let access: AccessPolicy
    public let logger: Logger
    /// Where the drop folder's receipts and rejections are (the stats page lists the recent ones).
    public let dropFolder: String
    /// How long a result page's search may take before the request fails (`database_timeout`).
    public let queryLimit: Duration

    public init(
        library: OpenLibrary, pool: ConnectionPool, access: AccessPolicy, logger: Logger, queryLimit: Duration = .seconds(10)
    ) {
        self.library = library
        self.pool = pool
        self.access = access
        self.logger = logger
        self.dropFolder = library.configuration.dropDirectory
        self.queryLimit = queryLimit
    }

    public var root: String { library.root.path }

    /// Every route: pages, files, curation, the JSON API.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: AccessMiddleware(access: access))
        addPages(to: router)
        addFiles(to: router)
        addCuration(to: router)
        addAPI(to: router)
        return router
    }

    /// The application, listening where `host` and `port` say.
    /// `services` run beside it (in tests, the pool); `onListening` is told the address bound
    /// (with port 0, the one the system chose).
    public func application(
        host: String, port: Int, services: [any Service] = [],
        onListening: @escaping @Sendable (_ address: String, _ port: Int?) async -> Void = { _, _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "mediaq"),
            services: services,
            onServerRunning: { channel in await onListening(channel.localAddress.map { "\($0)" } ?? host, channel.localAddress?.port) },
            logger: logger)
    }

    /// Runs `body` on a leased connection; failures are `MediaError`s.
    func withConnection<T: Sendable>(
        _ action: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(MediaError) -> T {
        try await pool.withConnection(action, within: queryLimit, body)
    }
}

/// A `MediaError` as an HTTP status: bad input 400, unknown asset 404, pinned 409, the database
/// or root unavailable 503 (retry later), anything else 500.
func httpStatus(for error: MediaError) -> HTTPResponse.Status {
    switch error.code {
    case .assetNotFound: return .notFound
    case .assetPinned: return .conflict
    // The database refused the role (a reader's media_client may not curate): not a fault here.
    case .databaseError where error.message.contains("SQLSTATE 42501"): return .forbidden
    default: break
    }
    switch error.code.disposition {
    case .badInput, .usage: return .badRequest
    case .retryable: return .serviceUnavailable
    default: return .internalServerError
    }
}

extension MediaError {
    /// Any error as the `MediaError` a page reports (the core throws only those; anything else
    /// is a bug, a 500).
    static func from(_ error: any Error) -> MediaError {
        error as? MediaError ?? MediaError(.databaseError, String(reflecting: error))
    }
}
