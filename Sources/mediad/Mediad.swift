import ArgumentParser
import Foundation
import Logging
import MediaCodecs
import MediaCommandSupport
import MediaCore
import MediaDaemon
import MediaIsolation
import PostgresNIO
import ServiceLifecycle
import SystemdSupport

#if canImport(Glibc)
import Glibc
#endif
import UnixSignals

extension Logger.Level {
    init(_ level: DaemonSettings.LogLevel) {
        self = Logger.Level(rawValue: level.rawValue) ?? .info
    }
}

@main
struct Mediad: AsyncParsableCommand {
    static func main() async {
        // The daemon starts its decoder workers from its own executable (see IsolatedMediaDecoder).
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == DecoderWorkerCommand.flag {
            if arguments.contains(DecoderWorkerCommand.versionsFlag) { DecoderWorker.printVersions() }
            DecoderWorker.serve(memoryLimit: DecoderWorkerCommand.memoryLimit(in: Array(arguments)))
        }
        await mainWithDocumentedExitCodes()
    }

    static let configuration = CommandConfiguration(
        commandName: "mediad",
        abstract: "The media library daemon: ingests what gather drops into the drop folder.",
        discussion: """
            On start it checks LIBRARY_ROOT, opens the database (the embedded cluster in \
            <library-root>/.db when DATABASE_URL is unset), applies pending migrations, watches \
            the drop folder (MEDIA_DROP_DIR, default <library-root>/drop), queues what is already \
            there and tells systemd READY=1. Each drop (a media file and its NAME.EXT.json \
            sidecar) is ingested and gets a receipt in <drop>/.receipts, or moves to \
            <drop>/.rejected with its reason (docs/drop-contract.md). SIGTERM or SIGINT stops it \
            cleanly (STOPPING=1, in-flight drops finish, exit 0). SIGHUP reads the configuration \
            again (docs/configuration.md says which settings apply without a restart).

            Images and videos are decoded in worker processes with a time and memory limit: a file \
            that crashes or hangs a decoder twice is quarantined in <drop>/.rejected.

            Exit codes: 0 stopped cleanly; 1 other failure; 2 usage or configuration error; \
            75 temporary failure (database or library root unavailable: systemd's Restart= retries).
            """,
        version: MediaLibraryVersion.current)

    @OptionGroup var library: LibraryOptions

    @Option(help: ArgumentHelp(
        "Lowest level logged: trace, debug, info, notice, warning, error, critical (default info).", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("How long a media file waits for its sidecar (default 2000).", valueName: "ms"))
    var sidecarGraceMs: String?

    @Option(help: ArgumentHelp("Drops handled at once (default: the number of cores).", valueName: "n"))
    var workers: String?

    @Option(help: ArgumentHelp("Receipts older than this many days are removed (default 7).", valueName: "days"))
    var receiptDays: String?

    @Option(help: ArgumentHelp(
        "Longest a decoder may take on one file before it is killed (default 60).", valueName: "seconds"))
    var decodeTimeoutSeconds: String?

    @Option(help: ArgumentHelp("Address-space limit of each decoder worker (default 4GiB).", valueName: "size"))
    var decoderMemory: String?

    /// The command-line values of the daemon's own settings; they win over the environment and
    /// the file, at start and at every reload.
    var daemonFlags: [ConfigurationKey: String] {
        var flags: [ConfigurationKey: String] = [:]
        flags[.logLevel] = logLevel
        flags[.sidecarGraceMs] = sidecarGraceMs
        flags[.workers] = workers
        flags[.receiptDays] = receiptDays
        flags[.decodeTimeoutSeconds] = decodeTimeoutSeconds
        flags[.decoderMemoryBytes] = decoderMemory
        return flags
    }

    func run() async throws {
        let levelControl = LogLevelControl(.info)
        let logger = Logger(label: "mediad") { label in
            MediaLogHandler(label: label, levelControl: levelControl, timestamps: true)
        }
        let notifier = SystemdNotifier()
        let reporter = StatusReporter(notifier: notifier)
        defer { reporter.stop() }
        do {
            let configuration = try await library.load(extraFlags: daemonFlags)
            levelControl.level = Logger.Level(configuration.daemon.logLevel)
            notifier.status("opening the library at \(configuration.libraryRoot)")
            let (opened, connection) = try await LibraryOpener(configuration: configuration, logger: logger).open()
            try? await connection.close()
            logger.info(
                "library open",
                metadata: [
                    "event": "libraryOpened", "id": "\(opened.libraryId.lowercased)", "root": "\(opened.root.path)",
                    "database": "\(opened.usesEmbeddedDatabase ? "embedded" : opened.databaseURL.description)",
                    "migrationsApplied": "\(opened.appliedMigrations.count)",
                ])
            var decoderSettings = IsolatedMediaDecoder.Settings(
                // /proc/self/exe: the same executable even if the file was replaced by an upgrade.
                command: DecoderWorkerCommand.arguments(
                    executable: "/proc/self/exe", memoryLimit: configuration.daemon.decoderMemoryBytes))
            decoderSettings.timeout = configuration.daemon.decodeTimeout
            decoderSettings.keptIdle = configuration.daemon.workers
            let decoder = IsolatedMediaDecoder(settings: decoderSettings)
            defer { decoder.shutdown() }
            let collector = BackgroundCollector(
                connector: DatabaseConnector(url: opened.databaseURL, logger: logger), root: opened.root.path,
                keepPerProvider: configuration.gcKeepPerProvider, logger: logger)
            let service = try makeDropService(
                configuration: configuration, library: opened, decoder: decoder, collector: collector, reporter: reporter,
                logger: logger)
            // The watch is installed; now what was dropped while we were down joins the queue.
            await service.scan()
            let reloader = ConfigurationReloader(
                options: self, running: configuration, drops: service, decoder: decoder, levelControl: levelControl,
                logger: logger)
            let daemon = DaemonService(
                library: opened, drops: service, collector: collector, reloader: reloader, notifier: notifier, logger: logger)
            let group = ServiceGroup(
                services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
            await Self.removeLeftovers(of: opened, logger: logger)
            logger.info("stopped", metadata: ["event": "stopped"])
        } catch let error as MediaError {
            logger.error("\(error.message)", metadata: ["event": "failed", "code": "\(error.code.name)"])
            notifier.status("failed: \(error.message)")
            throw error.exitCode
        }
    }

    private func makeDropService(
        configuration: LibraryConfiguration, library: OpenLibrary, decoder: IsolatedMediaDecoder,
        collector: BackgroundCollector, reporter: StatusReporter, logger: Logger
    ) throws(MediaError) -> DropService {
        let drop = configuration.dropDirectory
        do {
            try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        } catch {
            throw MediaError(.libraryRootNotWritable, "cannot create the drop folder \(drop): \(error.localizedDescription)")
        }
        let watcher: DropWatcher
        do {
            watcher = try DropWatcher(directory: drop)
        } catch {
            throw MediaError(.libraryRootNotWritable, "cannot watch the drop folder \(drop): \(error.description)")
        }
        let root = library.root
        let libraryId = library.libraryId
        let budget = StorageBudget(configuration)
        return DropService(
            watcher: watcher,
            processor: Self.processor(configuration: configuration, library: library, decoder: decoder, logger: logger),
            connector: DatabaseConnector(url: library.databaseURL, logger: logger),
            settings: Self.serviceSettings(configuration.daemon), logger: logger,
            confirmLibrary: { () throws(MediaError) in try root.confirm(libraryId: libraryId) },
            checkSpace: { (path, connection) throws(MediaError) in
                // The quota: the drop waits (over_budget pauses every drop) while GC makes room.
                var info = stat()
                let incoming = stat(path, &info) == 0 ? Int64(info.st_size) : 0
                let used = try await StorageBudget.usedBytes(on: connection, logger: logger)
                let free = StorageBudget.freeBytes(atPath: root.path)
                if let reason = budget.shortfall(incoming: incoming, used: used, free: free) {
                    collector.request(target: budget.collectionTarget(incoming: incoming, used: used, free: free))
                    throw MediaError(.overBudget, reason)
                }
            }
        ) { totals in
            var status = "queue \(totals.queued); ingested \(totals.ingested), duplicates \(totals.duplicates), rejected \(totals.rejected)"
            if let reason = totals.waitingReason { status += "; waiting: \(reason)" }
            reporter.update(status, mustShow: totals.waitingReason != nil)
        }
    }

    static func processor(
        configuration: LibraryConfiguration, library: OpenLibrary, decoder: IsolatedMediaDecoder, logger: Logger
    ) -> DropProcessor {
        let ingestor = Ingestor(root: library.root.path, decoder: decoder, logger: logger, pixelLimit: configuration.pixelLimit)
        return DropProcessor(dropDirectory: configuration.dropDirectory, ingestor: ingestor, logger: logger)
    }

    /// A drop given up on mid-way (its database connection died under it) may have left a
    /// temporary copy and an intent; once the workers have ended they are removed here, not
    /// left for the next start.
    static func removeLeftovers(of library: OpenLibrary, logger: Logger) async {
        do {
            let connection = try await DatabaseConnector(url: library.databaseURL, logger: logger).connect()
            defer { Task { try? await connection.close() } }
            let report = try await IngestRecovery(root: library.root.path, logger: logger).run(on: connection, ownWorkIsOver: true)
            if !report.removedTemporaries.isEmpty || !report.removedFiles.isEmpty {
                logger.notice("removed what abandoned drops left", metadata: [
                    "event": "recovered", "temporaries": "\(report.removedTemporaries.count)",
                    "files": "\(report.removedFiles.count)"])
            }
        } catch {
            logger.warning("leftovers stay for the next start", metadata: ["reason": "\(error.message)"])
        }
    }

    static func serviceSettings(_ daemon: DaemonSettings) -> DropService.Settings {
        var settings = DropService.Settings()
        settings.sidecarGrace = daemon.sidecarGrace
        settings.workers = daemon.workers
        settings.receiptRetention = daemon.receiptRetention
        settings.decodeTimeout = daemon.decodeTimeout
        return settings
    }
}

/// Reads the configuration again on SIGHUP and applies what can change while running.
struct ConfigurationReloader: Sendable {
    let options: Mediad
    let running: LibraryConfiguration
    let drops: DropService
    let decoder: IsolatedMediaDecoder
    let levelControl: LogLevelControl
    let logger: Logger

    func reload() async {
        let fresh: LibraryConfiguration
        do {
            fresh = try await options.library.load(extraFlags: options.daemonFlags)
        } catch {
            logger.error("configuration not reloaded; the running one stays", metadata: [
                "event": "reloadFailed", "reason": "\(error.message)"])
            return
        }
        levelControl.level = Logger.Level(fresh.daemon.logLevel)
        decoder.setTimeout(fresh.daemon.decodeTimeout)
        var settings = Mediad.serviceSettings(fresh.daemon)
        settings.workers = running.daemon.workers
        // The processor keeps the library and drop folder it started with; only limits change.
        let processor = DropProcessor(
            dropDirectory: running.dropDirectory,
            ingestor: Ingestor(root: running.libraryRoot, decoder: decoder, logger: logger, pixelLimit: fresh.pixelLimit),
            logger: logger)
        drops.reconfigure(settings, processor: processor)
        let pending = DaemonSettings.restartNeeded(from: running, to: fresh)
        var metadata: Logger.Metadata = [
            "event": "reloaded", "logLevel": "\(fresh.daemon.logLevel.rawValue)",
            "sidecarGraceMs": "\(fresh.daemon.sidecarGrace.components.seconds * 1000 + fresh.daemon.sidecarGrace.components.attoseconds / 1_000_000_000_000_000)",
            "decodeTimeout": "\(fresh.daemon.decodeTimeout)", "pixelLimit": "\(fresh.pixelLimit)",
        ]
        if !pending.isEmpty { metadata["needsRestart"] = "\(pending.joined(separator: ","))" }
        logger.notice("configuration reloaded", metadata: metadata)
    }
}

/// Runs the drop service until SIGTERM/SIGINT, then lets in-flight drops finish.
struct DaemonService: Service {
    let library: OpenLibrary
    let drops: DropService
    let collector: BackgroundCollector
    let reloader: ConfigurationReloader
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        // Everything is open and checked, the watch is installed and the backlog queued: ready.
        let backlog = await drops.totals().queued
        notifier.ready(status: "watching; queue \(backlog)")
        logger.info("ready", metadata: ["event": "ready", "root": "\(library.root.path)", "queued": "\(backlog)"])
        let notifier = notifier
        let drops = drops
        let reloader = reloader
        let collector = collector
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await drops.run() }
                group.addTask { await collector.run { await drops.resumeNow() } }
                group.addTask {
                    for await _ in hangups {
                        notifier.notify([("RELOADING", "1")])
                        await reloader.reload()
                        notifier.notify([("READY", "1")])
                    }
                }
                if let interval = Self.watchdogInterval() {
                    group.addTask { await Self.keepWatchdogFed(every: interval / 2, drops: drops, notifier: notifier) }
                }
                await group.next()  // the drop service ended: stop feeding the watchdog and collecting
                collector.stop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            notifier.stopping(status: "stopping: finishing in-flight drops")
            drops.stop()
        }
        logger.info("stopping", metadata: ["event": "stopping"])
    }

    /// systemd's WATCHDOG_USEC, when it is meant for this process.
    static func watchdogInterval() -> Duration? {
        let environment = ProcessInfo.processInfo.environment
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], pid != String(getpid()) { return nil }
        return .microseconds(microseconds)
    }

    /// WATCHDOG=1 at half the interval, but only while every worker keeps coming back for work:
    /// a daemon stuck in a drop misses it and systemd restarts it.
    static func keepWatchdogFed(every period: Duration, drops: DropService, notifier: SystemdNotifier) async {
        while !Task.isCancelled {
            if await drops.workersResponsive(within: period * 2) {
                notifier.notify([("WATCHDOG", "1")])
            }
            try? await Task.sleep(for: period)
        }
    }
}
