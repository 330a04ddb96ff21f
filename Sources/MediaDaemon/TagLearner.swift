import Foundation
public import Logging
public import MediaCore
import PostgresNIO
public import ServiceLifecycle

/// Keeps the relations between tags current in the background: WordNet's, loaded once at
/// start from `wordNet` when its files are there and that data is not loaded yet (`mediaq tags
/// wordnet`); and those learned from the library (`mediaq tags learn`, with the default
/// thresholds) at start when the last learn, whoever ran it, is older than `interval`, then each
/// time it gets that old again (never with a zero `interval`).
///
/// Drops come first: a learn waits until no drop is queued (at most `idleWaitLimit`, so a busy
/// library still learns); it connects on its own, not through the drops' pool, only while it
/// reads or learns (the daemon's connection count has one for it), and its learn is one
/// statement on one core of the database, a few seconds at 100,000 assets.
public struct TagLearner: Service {
    let connector: DatabaseConnector
    let interval: Duration
    /// WordNet's data folder (`search.wordnet`); nil: not loaded by the daemon.
    let wordNet: String?
    let settings: CooccurrenceSettings
    /// True when no drop is waiting.
    let idle: @Sendable () async -> Bool
    let logger: Logger

    /// A learn still waiting for the drops after this long goes ahead.
    static let idleWaitLimit: Duration = .seconds(600)
    /// A failed learn (or read of the last one) is tried again after this, or `interval` if shorter.
    static let retryAfter: Duration = .seconds(3600)
    /// The longest one learn may take before it is abandoned (the database stopped answering).
    static let runLimit: Duration = .seconds(900)

    public init(
        connector: DatabaseConnector, interval: Duration, wordNet: String? = nil,
        settings: CooccurrenceSettings = CooccurrenceSettings(), idle: @escaping @Sendable () async -> Bool, logger: Logger
    ) {
        self.connector = connector
        self.interval = interval
        self.wordNet = wordNet
        self.settings = settings
        self.idle = idle
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            if let wordNet {
                await waitForIdleDrops()
                if Task.isCancelled { return }
                await loadWordNet(from: wordNet)
            }
            // Learning off: stay until the daemon stops (a service that returns stops the group).
            while interval <= .zero && !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(3600)) } catch { return }
            }
            while !Task.isCancelled {
                let wait: Duration
                do throws(MediaError) {
                    wait = try await untilDue()
                } catch {
                    failed(error)
                    wait = min(Self.retryAfter, interval)
                }
                if wait > .zero {
                    do { try await Task.sleep(for: wait) } catch { return }
                    // Someone (`mediaq tags learn`) may have learned meanwhile: ask again.
                    continue
                }
                await waitForIdleDrops()
                if Task.isCancelled { return }
                if !(await learn()) {
                    do { try await Task.sleep(for: min(Self.retryAfter, interval)) } catch { return }
                }
            }
        }
    }

    /// How long until the last learn is `interval` old: zero when it is, or there was none.
    func untilDue() async throws(MediaError) -> Duration {
        let (logger, interval) = (logger, interval)
        let age = try await withConnection("reading when tags were last learned", within: .seconds(60)) {
            connection in
            try await TagRelationRepository(connection: connection, logger: logger).secondsSinceLibraryLearned()
        }
        guard let age else { return .zero }
        let left = Double(interval.components.seconds) - age
        return left > 0 ? .milliseconds(Int64(left * 1000)) : .zero
    }

    private func waitForIdleDrops() async {
        let started = ContinuousClock.now
        while !(await idle()), ContinuousClock.now - started < Self.idleWaitLimit {
            do { try await Task.sleep(for: .seconds(5)) } catch { return }
        }
    }

    /// One learn, logged; false when it failed.
    private func learn() async -> Bool {
        let (logger, settings) = (logger, settings)
        let started = ContinuousClock.now
        do {
            let learned = try await withConnection("learning related tags", within: Self.runLimit) { connection in
                try await TagRelationRepository(connection: connection, logger: logger).learnFromLibrary(settings)
            }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            logger.event(
                .tagsLearned, "learned related tags from the library",
                metadata: [
                    "relations": "\(learned.relations)", "tags": "\(learned.tags)", "assets": "\(learned.assets)",
                    "changed": "\(learned.changed)", "seconds": "\(String(format: "%.2f", seconds))",
                ])
            return true
        } catch {
            failed(error)
            return false
        }
    }

    /// Loads WordNet unless the same data is loaded (then it reads nothing); says nothing when
    /// the files are not there, since WordNet is optional.
    private func loadWordNet(from directory: String) async {
        let logger = logger
        let started = ContinuousClock.now
        do {
            let loaded = try await withConnection("loading WordNet's relations", within: Self.runLimit) { connection in
                try await TagRelationRepository(connection: connection, logger: logger).loadWordNetIfPresent(directory: directory)
            }
            guard let loaded else {
                logger.debug("no WordNet data", metadata: ["directory": "\(directory)"])
                return
            }
            guard loaded.changed else { return }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            logger.event(
                .wordNetLoaded, "loaded WordNet's relations between tags",
                metadata: [
                    "relations": "\(loaded.relations)", "version": "\(loaded.version)",
                    "seconds": "\(String(format: "%.2f", seconds))",
                ])
        } catch {
            failed(error, "loading WordNet's relations failed; `mediaq tags wordnet` loads them, or the next start")
        }
    }

    /// Runs `body` on a connection of its own, closed afterwards; abandoned after `limit`.
    private func withConnection<T: Sendable>(
        _ action: String, within limit: Duration, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(MediaError) -> T {
        let connection = try await connector.connect()
        let seconds = Double(limit.components.seconds)
        do {
            let value = try await withDeadline(
                seconds: seconds,
                timeoutError: {
                    MediaError(.databaseTimeout, "\(action): not done within \(Int(seconds)) s; the database may have stopped answering")
                }
            ) { try await body(connection) }
            await Self.close(connection)
            return value
        } catch {
            await Self.close(connection)
            throw (error as? MediaError) ?? connector.translate(error, action)
        }
    }

    /// Waits a moment at most: the server may not answer.
    private static func close(_ connection: PostgresConnection) async {
        _ = try? await withDeadline(seconds: 1, timeoutError: { MediaError(.databaseTimeout, "closing took too long") }) {
            try await connection.close()
        }
    }

    private func failed(_ error: MediaError, _ work: String = "learning related tags failed; tried again later") {
        logger.event(.tagsLearnFailed, "\(work)", metadata: ["reason": "\(error.message)"])
    }
}
