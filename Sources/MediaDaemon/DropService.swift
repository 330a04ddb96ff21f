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

    // MARK: - Workers

    private func work(_ index: Int) async {
        var connection: PostgresConnection?
        defer { if let connection { Task { try? await connection.close() } } }
        while let item = await queue.take(worker: index) {
            let settings = self.settings
            if item.whenQuiet, let age = Self.timeSinceModified(item.path), age < settings.quietPeriod {
                // Still being written, or written a moment ago: look again when it has been quiet.
                await queue.retry(item, at: .now + (settings.quietPeriod - age), countsAsAttempt: false)
                continue
            }
            do throws(MediaError) {
                try confirmLibrary()
                if connection == nil {
                    connection = try await connector.connect()
                }
                guard let live = connection else { continue }
                let deadline = settings.deadline(forBytes: Self.size(of: item.path))
                await queue.expectBack(worker: index, by: .now + deadline + .seconds(5))
                do throws(MediaError) {
                    try await handle(item, on: live, within: deadline)
                } catch {
                    if error.code == .databaseUnavailable || error.code == .databaseTimeout || error.code == .databaseError {
                        // Not awaited: closing a connection whose server vanished may not return.
                        Task { try? await live.close() }
                        connection = nil
                    }
                    throw error
                }
                await endFault()
            } catch {
                await retry(item, after: error)
            }
            onStatus(await queue.totals)
        }
    }

    /// `handle`, abandoned after `limit` or when the server closes the connection: a query on a
    /// connection whose server went away was seen never to return (postgres-nio 1.x), and a
    /// stuck worker would hold its drop, and a clean stop, forever.
    private func handle(_ item: DropQueue.Item, on connection: PostgresConnection, within limit: Duration) async throws(MediaError) {
        let seconds = Double(limit.components.seconds)
        do {
            try await withDeadline(
                seconds: seconds,
                timeoutError: {
                    MediaError(.databaseTimeout, "\(item.path) was not done within \(Int(seconds)) s; the database may have stopped answering")
                },
                abandonWhen: {
                    // The server closed the connection (stopped, restarted, crashed): a query in
                    // flight on it may never be answered, so the drop is retried at once.
                    // Polled, not `closeFuture`: a wait on that could not be cancelled when the
                    // drop finishes first, and would pile up per drop.
                    while !connection.isClosed {
                        do { try await Task.sleep(for: .milliseconds(250)) } catch { return nil }
                    }
                    return MediaError(.databaseUnavailable, "the database closed the connection while \(item.path) was handled")
                }
            ) {
                try await self.handle(item, on: connection)
            }
        } catch let error as MediaError {
            throw error
        } catch {
            throw MediaError(.databaseTimeout, "\(item.path): \(error)")
        }
    }

    static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    private func handle(_ item: DropQueue.Item, on connection: PostgresConnection) async throws(MediaError) {
        let processor = self.processor
        if DropProcessor.isSidecar(item.path) {
            let media = String(item.path.dropLast(Sidecar.suffix.count))
            let applied = try await processor.applyLateSidecar(item.path, on: connection)
            if !applied, await queue.isHeld(media) {
                // Its media is being stored right now (within its deadline): look again once
                // that is done, however long it takes.
                await queue.retry(item, at: .now + .milliseconds(100), countsAsAttempt: false)
                return
            }
            // Applied; or its media has not come yet, and will read it when it does.
            await queue.finish(item.path, outcome: nil)
        } else if FileManager.default.fileExists(atPath: item.path) {
            try await checkSpace(item.path, connection)
            let outcome = try await processor.process(mediaPath: item.path, on: connection)
            await queue.finish(item.path, outcome: outcome)
        } else {
            await queue.finish(item.path, outcome: nil)  // gone: handled by an earlier event
        }
    }

    static func timeSinceModified(_ path: String) -> Duration? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let modified = attributes[.modificationDate] as? Date
        else { return nil }
        return .milliseconds(Int64(max(0, Date().timeIntervalSince(modified)) * 1000))
    }

    /// Failures that concern the whole library rather than one file: every drop waits.
    static func isLibraryWide(_ code: MediaError.Code) -> Bool {
        [.databaseUnavailable, .databaseTimeout, .databaseError, .embeddedDatabaseFailed, .schemaNotCurrent,
         .libraryRootMissing, .libraryRootUnmarked, .libraryRootNotWritable, .libraryRootUnmounted,
         .libraryMismatch, .libraryWriteFailed, .overBudget].contains(code)
    }

    private func retry(_ item: DropQueue.Item, after error: MediaError) async {
        let maximum = settings.maximumBackoff
        if Self.isLibraryWide(error.code) {
            // The drop stays where it is; all work pauses and one worker probes after the pause.
            let (pause, started) = await queue.beginFault(error.message, maximum: maximum)
            if started {
                logger.warning("drops wait", metadata: [
                    "event": "waiting", "code": "\(error.code.name)", "reason": "\(error.message)", "retryIn": "\(pause)"])
            } else {
                logger.debug("still waiting", metadata: ["file": "\(item.path)", "reason": "\(error.message)"])
            }
            await queue.retry(item, at: .now + pause, countsAsAttempt: false)
        } else {
            let delay = min(maximum, .seconds(1) * (1 << min(item.attempts, 6)))
            let event = error.code != .decoderCrashed ? "retrying" : error.message.contains(" hung ") ? "decoderHung" : "decoderCrashed"
            logger.warning("drop waits", metadata: [
                "event": "\(event)", "file": "\(item.path)", "code": "\(error.code.name)", "reason": "\(error.message)",
                "retryIn": "\(delay)"])
            await queue.retry(item, at: .now + delay)
        }
        onStatus(await queue.totals)
    }

    private func endFault() async {
        if let ended = await queue.endFault() {
            logger.notice("drops resume", metadata: ["event": "resumed", "waitedFor": "\(ended)"])
        }
    }
}

/// Drops waiting to be handled, each with the moment it becomes due. One worker at a time
/// holds a drop; a drop reported again while queued or held is not queued twice.
actor DropQueue {
    struct Item: Sendable {
        let path: String
        var due: ContinuousClock.Instant
        var attempts: Int
        /// Reported only by its creation: taken once it has not changed for a while.
        var whenQuiet = false
    }

    private var waiting: [String: Item] = [:]
    private var beats: [Int: ContinuousClock.Instant] = [:]
    private var held: Set<String> = []
    private var closed = false
    private(set) var totals = DropService.Totals()

    func isWaiting(_ path: String) -> Bool { waiting[path] != nil }

    func isHeld(_ path: String) -> Bool { held.contains(path) }

    func schedule(_ path: String, at due: ContinuousClock.Instant) {
        if held.contains(path) { return }
        if var item = waiting[path] {
            item.due = min(item.due, due)
            item.whenQuiet = false  // a close or rename says the file is complete
            waiting[path] = item
        } else {
            waiting[path] = Item(path: path, due: due, attempts: 0)
        }
        totals.queued = waiting.count + held.count
    }

    /// Queues a file that only appeared; a close or rename event for it overrides the wait.
    func scheduleWhenQuiet(_ path: String, at due: ContinuousClock.Instant) {
        guard waiting[path] == nil, !held.contains(path) else { return }
        waiting[path] = Item(path: path, due: due, attempts: 0, whenQuiet: true)
        totals.queued = waiting.count + held.count
    }

    func retry(_ item: Item, at due: ContinuousClock.Instant, countsAsAttempt: Bool = true) {
        held.remove(item.path)
        var again = item
        again.due = due
        if countsAsAttempt { again.attempts += 1 }
        waiting[item.path] = again
        totals.queued = waiting.count + held.count
    }

    func finish(_ path: String, outcome: DropProcessor.Outcome?) {
        held.remove(path)
        switch outcome {
        case .stored(let receipt): receipt.status == "duplicate" ? (totals.duplicates += 1) : (totals.ingested += 1)
        case .rejected: totals.rejected += 1
        case nil: break
        }
        totals.queued = waiting.count + held.count
    }

    private var faultStreak = 0
    private var faultStarted: ContinuousClock.Instant?
    private var pausedUntil: ContinuousClock.Instant?

    /// A library-wide fault: pauses every worker for a growing while (1 s, 2 s, … up to
    /// `maximum`). Returns the pause and whether this fault is new.
    func beginFault(_ reason: String, maximum: Duration) -> (Duration, Bool) {
        let now = ContinuousClock.now
        // Other workers failing within the same pause do not lengthen the next one.
        if let pausedUntil, now < pausedUntil { return (pausedUntil - now, false) }
        let started = faultStarted == nil
        if started { faultStarted = .now }
        let pause = min(maximum, .seconds(1) * (1 << min(faultStreak, 6)))
        faultStreak += 1
        pausedUntil = .now + pause
        totals.waitingReason = reason
        return (pause, started)
    }

    /// A drop went through: any fault is over. Returns how long it lasted, if there was one.
    func endFault() -> Duration? {
        faultStreak = 0
        pausedUntil = nil
        totals.waitingReason = nil
        guard let started = faultStarted else { return nil }
        faultStarted = nil
        return .now - started
    }

    func close() { closed = true }

    /// Every waiting drop is due now and any pause ends (a probe will tell whether the fault is over).
    func wake() {
        pausedUntil = nil
        let now = ContinuousClock.now
        for path in Array(waiting.keys) {
            if var item = waiting[path] {
                item.due = min(item.due, now)
                waiting[path] = item
            }
        }
    }

    /// The longest time any worker has been away from `take`.
    /// When each busy worker must be back: its drop's deadline.
    private var dueBack: [Int: ContinuousClock.Instant] = [:]

    func expectBack(worker: Int, by due: ContinuousClock.Instant) { dueBack[worker] = due }

    /// Whether every worker is idle and came for work within `idleLimit`, or is busy within
    /// its drop's deadline (a big file may take minutes; a hung one is given up at its deadline).
    func allWorkersOnTime(workers: Int, idleLimit: Duration) -> Bool {
        let now = ContinuousClock.now
        return (0..<workers).allSatisfy { worker in
            if let due = dueBack[worker] { return now <= due }
            return now - (beats[worker] ?? now) <= idleLimit
        }
    }

    /// The next due drop, waiting for one; nil once closed. Each call is the worker's heartbeat.
    func take(worker: Int) async -> Item? {
        while !closed {
            let now = ContinuousClock.now
            beats[worker] = now
            dueBack[worker] = nil
            if let pausedUntil, now < pausedUntil {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            if let next = waiting.values.filter({ $0.due <= now }).min(by: { $0.due < $1.due }) {
                waiting[next.path] = nil
                // A dictionary keeps its largest capacity: let a burst's go once it is worked off.
                if waiting.isEmpty { waiting = [:] }
                held.insert(next.path)
                return next
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
