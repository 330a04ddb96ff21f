import Foundation
public import Logging
public import MediaCore
import PostgresNIO
public import ServiceLifecycle

/// Optimises stored originals in the background when `media.optimize = lossless`: the assets
/// never tried, oldest first, one at a time (`OriginalOptimization`), each outcome logged and
/// recorded so none is tried forever.
///
/// Drops come first: before each original it waits while a drop is queued, so a drop's receipt
/// never waits for it (an optimisation already running finishes: one file, in a decoder worker
/// process of its own). It connects on its own, not through the drops' pool, only while it has
/// work (the daemon's connection count has one for it), and rests when nothing is left,
/// looking again every `restInterval` for what was ingested since.
public struct BackgroundOptimizer: Service {
    let connector: DatabaseConnector
    let optimization: OriginalOptimization
    /// True when no drop is waiting.
    let idle: @Sendable () async -> Bool
    /// A count that grows with every asset ingested: a change ends a rest early, so that new
    /// originals are optimised soon after their drop, not a whole rest later.
    let ingestedCount: @Sendable () async -> Int
    let logger: Logger
    /// How long it rests when every asset was tried, or after a failure of the database.
    let restInterval: Duration
    /// How often it asks again whether drops are still queued.
    let idlePoll: Duration

    public init(
        connector: DatabaseConnector, optimization: OriginalOptimization, idle: @escaping @Sendable () async -> Bool,
        ingestedCount: @escaping @Sendable () async -> Int = { 0 }, restInterval: Duration = .seconds(60),
        idlePoll: Duration = .milliseconds(500), logger: Logger
    ) {
        self.connector = connector
        self.optimization = optimization
        self.idle = idle
        self.ingestedCount = ingestedCount
        self.restInterval = restInterval
        self.idlePoll = idlePoll
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let worked: Bool
                do throws(MediaError) {
                    worked = try await workThroughUntried()
                } catch {
                    logger.event(
                        .optimizeFailed, "background optimisation paused; tried again later",
                        metadata: ["reason": "\(error.message)"])
                    worked = false
                }
                if !worked { await rest() }
            }
        }
    }

    /// Optimises untried originals until none is left; false when there was none.
    private func workThroughUntried() async throws(MediaError) -> Bool {
        await waitForIdleDrops()
        if Task.isCancelled { return false }
        let connection = try await connector.connect()
        do throws(MediaError) {
            let worked = try await workThroughUntried(on: connection)
            try? await connection.close()
            return worked
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private func workThroughUntried(on connection: PostgresConnection) async throws(MediaError) -> Bool {
        // A database failure after a rename left that original's intent: finish it now (no
        // optimisation of ours is in progress), not at the next start.
        _ = try await IngestRecovery(root: optimization.store.root, logger: logger)
            .finishReplacementsBetweenOwnOptimisations(on: connection)
        let repository = OptimizationRepository(connection: connection, logger: logger)
        var after: Int64 = 0
        var any = false
        while !Task.isCancelled {
            let batch = try await repository.candidates(optimization.selection, after: after, limit: 20)
            guard !batch.isEmpty else { return any }
            for candidate in batch {
                // Yield to drops: none starts while one is queued.
                await waitForIdleDrops()
                if Task.isCancelled { return any }
                after = candidate.id
                _ = try await optimization.optimize(candidate, on: connection)
                any = true
            }
        }
        return any
    }

    /// Sleeps `restInterval`, or until something new was ingested.
    private func rest() async {
        let mark = await ingestedCount()
        let until = ContinuousClock.now + restInterval
        while ContinuousClock.now < until, !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            if await ingestedCount() != mark { return }
        }
    }

    private func waitForIdleDrops() async {
        while !(await idle()) {
            do { try await Task.sleep(for: idlePoll) } catch { return }
        }
    }
}
