public import Foundation
public import Logging
public import MediaCore
import PostgresNIO
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's work loop: files reported by the watcher (and found by scans) become drops that
/// wait for their sidecar a short grace period, then a worker hands them to the DropProcessor.
/// A drop that cannot be handled now (database down, library unwritable, over budget, file
/// still changing) stays in the drop folder and is tried again with a growing delay.
///
/// A service: on graceful shutdown the watch ends, the workers finish the drops they hold, and
/// what abandoned drops left (temporary copies, intents) is removed before `run` returns.
public final class DropService: Service, Sendable {
    /// Counts for STATUS= and logs.
    public struct Totals: Sendable, Equatable {
        public var queued = 0
        public var ingested = 0
        public var duplicates = 0
        public var rejected = 0
        public var waitingReason: String?
    }

    let watcher: any DropEventSource
    let database: ConnectionPool
    let root: LibraryRoot
    let libraryId: UUID
    let quota: QuotaGate?
    let logger: Logger
    let queue = DropQueue()
    /// Fixed for the life of the service.
    let workerCount: Int
    private let current: Mutex<(settings: DaemonSettings, processor: DropProcessor)>
    /// The counts after every change, for STATUS=.
    public var statusUpdates: AsyncStream<Totals> { queue.updates }

    var settings: DaemonSettings { current.withLock { $0.settings } }
    public var processor: DropProcessor { current.withLock { $0.processor } }

    /// - Parameters:
    ///   - root, libraryId: checked before each drop: the root still holds this library and
    ///     can be written (an unmounted drive's bare mount point is never written into).
    ///   - quota: checked before each media file is ingested; none: no budget.
    public init(
        watcher: any DropEventSource, processor: DropProcessor, database: ConnectionPool, root: LibraryRoot,
        libraryId: UUID, quota: QuotaGate?, settings: DaemonSettings, logger: Logger
    ) {
        self.watcher = watcher
        self.database = database
        self.root = root
        self.libraryId = libraryId
        self.quota = quota
        self.workerCount = settings.workers
        self.current = Mutex((settings, processor))
        self.logger = logger
    }

    /// Applies reloaded settings (all but the worker count) and a processor built from the
    /// reloaded configuration; drops already being handled finish with the old ones.
    public func reconfigure(_ settings: DaemonSettings, processor: DropProcessor) {
        current.withLock { $0 = (settings, processor) }
    }

    /// Queues whatever is already in the drop folder (left from before the start, or missed in an
    /// overflow). The watch is installed before this runs, so nothing falls between.
    public func scan() async {
        for path in DropWatcher.existingFiles(under: watcher.directory) {
            await enqueue(path, scanned: true)
        }
    }

    /// Reads events and runs the workers until graceful shutdown or the end of the watch.
    public func run() async {
        await withGracefulShutdownHandler {
            await runUntilTheWatchEnds()
        } onGracefulShutdown: {
            self.watcher.stop()
        }
        await removeLeftovers()
        await queue.endUpdates()
    }

    private func runUntilTheWatchEnds() async {
        watcher.start()
        await withTaskGroup(of: Void.self) { helpers in
            helpers.addTask { await self.pruneReceiptsPeriodically() }
            if let collections = quota?.collector.collections {
                // GC made room: the waiting drops are tried now, not at the end of their back-off.
                helpers.addTask { for await _ in collections { await self.resumeNow() } }
            }
            // The workers are never cancelled: a drop in progress runs to its end (or its
            // deadline), so that what it wrote is recorded before the leftovers are judged.
            await withTaskGroup(of: Void.self) { workers in
                for index in 0..<workerCount {
                    workers.addTask { await self.work(index) }
                }
                await readEvents()  // until the watch ends
                await queue.close()
                await workers.waitForAll()
            }
            helpers.cancelAll()  // the pruner sleeps for an hour
        }
    }

    /// A drop given up on mid-way (its database connection died under it) may have left a
    /// temporary copy and an intent; once the workers have ended they are removed here, not
    /// left for the next start.
    private func removeLeftovers() async {
        let root = root.path
        let logger = logger
        do {
            let report = try await database.withConnection("cannot remove what abandoned drops left") { connection in
                try await IngestRecovery(root: root, logger: logger).run(on: connection, ownWorkIsOver: true)
            }
            if !report.removedTemporaries.isEmpty || !report.removedFiles.isEmpty {
                logger.event(
                    .recovered,
                    "removed what abandoned drops left",
                    metadata: [
                        "temporaries": "\(report.removedTemporaries.count)",
                        "files": "\(report.removedFiles.count)",
                    ])
            }
        } catch {
            logger.warning("leftovers stay for the next start", metadata: ["reason": "\(error.message)"])
        }
    }

    public func totals() async -> Totals { await queue.totals }

    /// Ends a pause at once: waiting drops are tried now, not at the end of their back-off.
    public func resumeNow() async {
        await queue.wake()
    }

    /// Whether every worker came back for work within `limit`: a worker stuck in a drop (a
    /// decoder that hangs) makes this false, and the watchdog ping stops.
    public func workersResponsive(within limit: Duration) async -> Bool {
        await queue.allWorkersOnTime(workers: workerCount, idleLimit: limit)
    }

    // MARK: - Events

    private func readEvents() async {
        for await event in watcher.events {
            logger.debug("drop folder event", metadata: ["inotify": "\(event)"])
            switch event {
            case .fileReady(let path): await enqueue(path, scanned: false)
            case .fileCreated(let path): await queue.scheduleWhenQuiet(path, at: .now + settings.quietPeriod)
            case .overflow:
                logger.event(.rescanned, "inotify queue overflowed; rescanning the drop folder")
                await scan()
            }
        }
    }

    private func enqueue(_ path: String, scanned: Bool) async {
        if DropProcessor.isSidecar(path) {
            let media = String(path.dropLast(Sidecar.suffix.count))
            if await queue.isWaiting(media) {
                await queue.schedule(media, at: .now)  // its sidecar is here: no need to wait longer
            } else {
                await queue.schedule(path, at: .now)  // maybe a late sidecar of a stored drop
            }
            return
        }
        let hasSidecar = FileManager.default.fileExists(atPath: DropProcessor.sidecarPath(for: path))
        await queue.schedule(path, at: hasSidecar || scanned ? .now : .now + settings.sidecarGrace)
    }

    // MARK: - Receipts

    private func pruneReceiptsPeriodically() async {
        while !Task.isCancelled {
            let removed = Self.pruneReceipts(in: watcher.directory, olderThan: settings.receiptRetention)
            if removed > 0 { logger.event(.receiptsPruned, "pruned old receipts", metadata: ["count": "\(removed)"]) }
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    /// Removes receipts last modified longer ago than `age`; returns how many.
    public static func pruneReceipts(in dropDirectory: String, olderThan age: Duration) -> Int {
        let folder = dropDirectory + "/" + DropProcessor.receiptsFolder
        let cutoff = Date().addingTimeInterval(-Double(age.components.seconds))
        var removed = 0
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return 0 }
        // Receipts, and the temporary files of receipts a crash interrupted.
        for case let relative as String in walker where relative.hasSuffix(".json") || relative.contains(".json.tmp-") {
            let path = folder + "/" + relative
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                modified < cutoff
            else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }
}
