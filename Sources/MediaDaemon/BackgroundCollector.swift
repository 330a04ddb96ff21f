import Foundation
public import Logging
public import MediaCore
import PostgresNIO
public import ServiceLifecycle
import Synchronization

/// The daemon's GC: started by the quota gate when a drop does not fit, it collects down to
/// the requested size in the background, and says so on `collections` (the drop service then
/// tries the waiting drops). Requests while it runs are merged into the next run (the lowest
/// target wins). A service: it stops taking requests on graceful shutdown.
public final class BackgroundCollector: Service, Sendable {
    let database: ConnectionPool
    let root: String
    let keepPerProvider: [String: Int]
    let logger: Logger
    private let requested = Mutex<Int64?>(nil)
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation
    /// Runs that removed something, for STATUS= and tests.
    private let runs = Mutex(0)
    /// One element after each run: there may be room now.
    public let collections: AsyncStream<Void>
    private let collected: AsyncStream<Void>.Continuation

    /// The longest one run may take before it is abandoned (the database stopped answering).
    static let runLimit: Duration = .seconds(900)

    public init(database: ConnectionPool, root: String, keepPerProvider: [String: Int], logger: Logger) {
        self.database = database
        self.root = root
        self.keepPerProvider = keepPerProvider
        self.logger = logger
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (collections, collected) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a collection down to `target` bytes; returns at once.
    public func request(target: Int64) {
        requested.withLock { $0 = min($0 ?? target, target) }
        signal.yield()
    }

    /// Serves requests until graceful shutdown (a run in progress finishes first).
    public func run() async {
        for await _ in signals.cancelOnGracefulShutdown() {
            guard
                let target = requested.withLock({ value -> Int64? in
                    defer { value = nil }
                    return value
                })
            else { continue }
            await collect(down: target)
            collected.yield()
        }
        collected.finish()
    }

    private func collect(down target: Int64) async {
        let policy = GCPolicy(targetBytes: target, keepPerProvider: keepPerProvider)
        let (root, logger) = (root, logger)
        logger.event(.gcStarted, "GC started", metadata: ["target": "\(target)"])
        do {
            let report = try await database.withConnection("GC", within: Self.runLimit) { connection in
                try await GarbageCollector(connection: connection, root: root, logger: logger).collect(policy: policy, dryRun: false)
            }
            if !report.reachedTarget {
                logger.event(
                    .gcShort,
                    "GC could not reach its target: pins and keep caps hold the rest",
                    metadata: [
                        "size": "\(report.endBytes)", "target": "\(target)",
                        "pinned": "\(report.skippedPinned)", "kept": "\(report.skippedKept)",
                    ])
            }
            if report.assets > 0 { runs.withLock { $0 += 1 } }
        } catch {
            logger.event(
                .gcFailed,
                "GC failed; it runs again on the next request",
                metadata: [
                    "reason": "\(error.message)"
                ])
        }
    }
}
