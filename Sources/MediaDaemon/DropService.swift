import Foundation
public import Logging
public import MediaCore
public import PostgresNIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's work loop: files reported by the watcher (and found by scans) become drops that
/// wait for their sidecar a short grace period, then a worker hands them to the DropProcessor.
/// A drop that cannot be handled now (database down, library unwritable, file still changing)
/// stays in the drop folder and is tried again with a growing delay.
public final class DropService: Sendable {
    public struct Settings: Sendable {
        /// How long a media file without a sidecar waits for one.
        public var sidecarGrace: Duration = .seconds(2)
        public var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
        /// Longest wait between tries of a drop that failed for a retryable reason.
        public var maximumBackoff: Duration = .seconds(60)
        /// A file that only appeared (linked in, no close event) is taken once it has not been
        /// modified for this long.
        public var quietPeriod: Duration = .seconds(3)
        /// Receipts older than this are removed (checked at start and hourly).
        public var receiptRetention: Duration = .seconds(7 * 86_400)
        /// The decoders' time limit: a drop's own deadline allows for a probe and two thumbnail tries.
        public var decodeTimeout: Duration = .seconds(60)

        /// Longest one drop may take before its worker gives up on it (the database stopped
        /// answering mid-ingest) and retries it: the decoders' limits, a copy at 20 MB/s, and
        /// two minutes for the database.
        func deadline(forBytes bytes: Int64) -> Duration {
            decodeTimeout * 3 + .seconds(120) + .milliseconds(bytes / 20_000)
        }

        public init() {}
    }

    /// Counts for STATUS= and logs.
    public struct Totals: Sendable, Equatable {
        public var queued = 0
        public var ingested = 0
        public var duplicates = 0
        public var rejected = 0
        public var waitingReason: String?
    }

    let watcher: DropWatcher
    let connector: DatabaseConnector
    let logger: Logger
    let queue = DropQueue()
    let onStatus: @Sendable (Totals) -> Void
    /// Checked before each drop: the library root still holds the library and can be written.
    let confirmLibrary: @Sendable () throws(MediaError) -> Void
    /// Checked before each media file is ingested, with its path: the quota. Throws
    /// `over_budget` (library-wide: every drop waits) when the file does not fit now.
    let checkSpace: @Sendable (String, PostgresConnection) async throws(MediaError) -> Void
    /// Fixed for the life of the service.
    let workerCount: Int
    private let current: Mutex<(settings: Settings, processor: DropProcessor)>

    var settings: Settings { current.withLock { $0.settings } }
    var processor: DropProcessor { current.withLock { $0.processor } }

    public init(
        watcher: DropWatcher, processor: DropProcessor, connector: DatabaseConnector, settings: Settings = .init(),
        logger: Logger, confirmLibrary: @escaping @Sendable () throws(MediaError) -> Void = {},
        checkSpace: @escaping @Sendable (String, PostgresConnection) async throws(MediaError) -> Void = { _, _ in },
        onStatus: @escaping @Sendable (Totals) -> Void = { _ in }
    ) {
        self.watcher = watcher
        self.connector = connector
        self.workerCount = settings.workers
        self.current = Mutex((settings, processor))
        self.logger = logger
        self.confirmLibrary = confirmLibrary
        self.checkSpace = checkSpace
        self.onStatus = onStatus
    }

    /// Applies reloaded settings (all but the worker count) and a processor built from the
    /// reloaded configuration; drops already being handled finish with the old ones.
    public func reconfigure(_ settings: Settings, processor: DropProcessor) {
        current.withLock { $0 = (settings, processor) }
    }

    /// Queues whatever is already in the drop folder (left from before the start, or missed in an
    /// overflow). The watch is installed before this runs, so nothing falls between.
    public func scan() async {
        for path in DropWatcher.existingFiles(under: watcher.directory) {
            await enqueue(path, scanned: true)
        }
    }

    /// Runs until the task is cancelled or the watcher stops: reads events, runs the workers.
    public func run() async {
        watcher.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.readEvents() }
            group.addTask { await self.pruneReceiptsPeriodically() }
            for index in 0..<workerCount {
                group.addTask { await self.work(index) }
            }
            await group.next()  // the event stream ended: stop the workers too
            await queue.close()
            group.cancelAll()  // the pruner sleeps; the workers finish their drop and see the close
            await group.waitForAll()
        }
    }

    public func stop() {
        watcher.stop()
    }

    public func totals() async -> Totals { await queue.totals }

    /// Ends a pause at once (GC has freed space): waiting drops are tried now, not at the end
    /// of their back-off.
    public func resumeNow() async {
        await queue.wake()
        onStatus(await queue.totals)
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
                logger.warning("inotify queue overflowed; rescanning the drop folder", metadata: ["event": "rescanned"])
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
        onStatus(await queue.totals)
    }

    // MARK: - Receipts

    private func pruneReceiptsPeriodically() async {
        while !Task.isCancelled {
            let removed = Self.pruneReceipts(in: watcher.directory, olderThan: settings.receiptRetention)
            if removed > 0 { logger.info("pruned old receipts", metadata: ["event": "receiptsPruned", "count": "\(removed)"]) }
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
