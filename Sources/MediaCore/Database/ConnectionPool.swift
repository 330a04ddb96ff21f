public import Logging
public import PostgresNIO
public import ServiceLifecycle
import NIOCore
import Synchronization

/// The daemon's database connections: postgres-nio's `PostgresClient`, a pool that is itself a
/// service (run it in the service group, before what uses it, so it drains last: a lease waits
/// for ever while `run` is not running). Its workers lease a connection per drop instead of
/// owning and reconnecting one each.
///
/// A lease waits at most `leaseTimeout`: the pool keeps trying to connect in the background
/// while the server is down (or refuses for want of slots), and a drop must learn that soon, so
/// that it waits with the reason. The reason is then found by one direct connection attempt.
public final class ConnectionPool: Service, Sendable {
    public let client: PostgresClient
    let connector: DatabaseConnector
    public let leaseTimeout: Duration

    public init(connector: DatabaseConnector, maximumConnections: Int, logger: Logger) throws(MediaError) {
        self.connector = connector
        // The pool logs every failed connection attempt at info; during an outage that is a line
        // a second. The daemon says once that drops wait, with the reason: the pool's own lines
        // are kept for warnings and worse.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        self.client = PostgresClient(
            configuration: try connector.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: background)
        self.leaseTimeout = .milliseconds(Int64(connector.connectTimeout * 1000)) + .seconds(1)
    }

    public func run() async {
        await client.run()
    }

    /// Runs `body` with a leased connection; `action` names the work in errors.
    ///
    /// With `limit`, `body` is abandoned after it, or as soon as the server closes the
    /// connection: a query in flight when the server went away was seen never to return
    /// (postgres-nio 1.x), and a stuck caller would hold its work, and a clean stop, for ever.
    /// A connection whose work was abandoned, or failed for a database reason, is closed (not
    /// awaited: the server may not answer), so the pool makes a new one instead of lending it.
    public func withConnection<T: Sendable>(
        _ action: String, within limit: Duration? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(MediaError) -> T {
        try await lease(action) { connection in
            do {
                guard let limit else { return try await body(connection) }
                let seconds = Double(limit.components.seconds)
                return try await withDeadline(
                    seconds: seconds,
                    timeoutError: {
                        MediaError(
                            .databaseTimeout, "\(action): not done within \(Int(seconds)) s; the database may have stopped answering")
                    },
                    abandonWhen: {
                        // Polled, not `closeFuture`: a wait on that could not be cancelled when
                        // the work finishes first, and would pile up per call.
                        while !connection.isClosed {
                            do { try await Task.sleep(for: .milliseconds(250)) } catch { return nil }
                        }
                        return MediaError(.databaseUnavailable, "\(action): the database closed the connection")
                    }
                ) {
                    try await body(connection)
                }
            } catch {
                let failure = DatabaseFailure.translate(error, action)
                if [.databaseUnavailable, .databaseTimeout, .databaseError].contains(failure.code) {
                    // Waited for a moment only: once closed, the pool drops it when it comes back.
                    let closing: EventLoopFuture<Void> = connection.close()
                    _ = try? await withDeadline(
                        seconds: 1, timeoutError: { MediaError(.databaseTimeout, "closing took too long") }
                    ) { try await closing.get() }
                }
                throw error
            }
        }
    }

    /// A connection the server closed may still be lent once, before the pool has seen it
    /// close: such a lease is given back and another taken.
    private func lease<T: Sendable>(
        _ action: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(MediaError) -> T {
        var attempt = 0
        while true {
            do {
                return try await leaseOnce(action, body)
            } catch let error as StaleLease where attempt < 3 {
                _ = error
                attempt += 1
            } catch {
                throw error as? MediaError ?? DatabaseFailure.translate(error, action)
            }
        }
    }

    private struct StaleLease: Error {}

    private func leaseOnce<T: Sendable>(
        _ action: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let leased = LeaseFlag()
        let waited = leaseTimeout
        let outcome: Result<T, any Error> = await withTaskGroup(of: Result<T, any Error>?.self) { group in
            group.addTask {
                do {
                    return .success(
                        try await self.client.withConnection { connection in
                            if connection.isClosed { throw StaleLease() }
                            leased.value.store(true, ordering: .releasing)
                            return try await body(connection)
                        })
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                // Only while no connection is leased: normally one look.
                let end = ContinuousClock.now + waited
                while !leased.value.load(ordering: .acquiring), ContinuousClock.now < end {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return leased.value.load(ordering: .acquiring) ? nil : .failure(LeaseTimedOut())
            }
            var result: Result<T, any Error>?
            for await finished in group {
                guard let finished else { continue }  // the lease came: wait for the work
                result = finished
                group.cancelAll()  // the lease request, when it was the wait that ended
                break
            }
            return result ?? .failure(LeaseTimedOut())
        }
        switch outcome {
        case .success(let value):
            return value
        case .failure(is LeaseTimedOut):
            throw await reasonForNoConnection(action)
        case .failure(let error as StaleLease):
            throw error
        case .failure(let error):
            throw DatabaseFailure.translate(error, action, context: .init(user: connector.url.user))
        }
    }

    private struct LeaseTimedOut: Error {}

    private final class LeaseFlag: Sendable {
        let value = Atomic(false)
    }

    /// Why the pool has no connection to give: the server's own answer to a direct attempt.
    private func reasonForNoConnection(_ action: String) async -> MediaError {
        do {
            let connection = try await connector.connect()
            try? await connection.close()
            return MediaError(
                .databaseTimeout,
                "\(action): no database connection became free within \(leaseTimeout) (every one of the pool's is busy)")
        } catch {
            return MediaError(error.code, "\(action): \(error.message)")
        }
    }
}
