import Foundation
import Logging
import MediaCodecs
import MediaCommandSupport
import MediaCore
import MediaDaemon
import MediaIsolation
import ServiceLifecycle
import SystemdSupport

// The daemon's parts, made from the configuration and connected: the wiring `run` starts.
extension Mediad {
    /// The daemon's services, in the order they start; a graceful shutdown ends them in reverse:
    /// readiness (STOPPING=1), watchdog, reloads, the drops (in-flight ones finish), the
    /// collector, the optimiser, the tag learner, the status line, the decoders, and last the database pool
    /// they all lease from.
    /// Everything the barrier before READY=1 needs (the library open and migrated, the root
    /// checked, the watch installed, the backlog queued) is done before the group starts.
    func makeServices(
        configuration: LibraryConfiguration, library opened: OpenLibrary, metadataBehind: Bool, notifier: SystemdNotifier,
        levelControl: LogLevelControl, logger: Logger
    ) async throws(MediaError) -> [any Service] {
        var decoderSettings = DecoderPool.Settings(
            // /proc/self/exe: the same executable even if the file was replaced by an upgrade.
            command: DecoderCommandLine.arguments(
                executable: "/proc/self/exe", memoryLimit: configuration.daemon.decoderMemoryBytes))
        decoderSettings.timeout = configuration.daemon.decodeTimeout
        decoderSettings.keptIdle = configuration.daemon.workers
        let decoder = DecoderPool(settings: decoderSettings)
        let database = try ConnectionPool(
            connector: DatabaseConnector(url: opened.databaseURL, logger: logger),
            maximumConnections: LibraryConfiguration.daemonPoolConnections(workers: configuration.daemon.workers),
            logger: logger)
        let backlog = MetadataBacklog(behind: metadataBehind)
        let collector = BackgroundCollector(
            database: database, root: opened.root.path, keepPerProvider: configuration.gcKeepPerProvider, logger: logger)
        let drops = DropService(
            watcher: try Self.watch(configuration.dropDirectory, settings: configuration.daemon, logger: logger),
            processor: Self.processor(
                dropDirectory: configuration.dropDirectory, library: opened, pixelLimit: configuration.pixelLimit,
                fileKeywords: configuration.fileKeywords, budget: StorageBudget(configuration), decoder: decoder, backlog: backlog,
                logger: logger),
            database: database, root: opened.root, libraryId: opened.libraryId,
            quota: QuotaGate(
                budget: StorageBudget(configuration), root: opened.root.path, collector: collector, logger: logger),
            settings: configuration.daemon, logger: logger)
        // The watch is installed; now what was dropped while we were down joins the queue.
        await drops.scan()
        let reloader = ConfigurationReloader(
            options: self, running: configuration, library: opened, drops: drops, decoder: decoder,
            levelControl: levelControl, logger: logger)
        var services: [any Service] = [
            database, DecoderPoolService(decoder: decoder),
            StatusService(drops: drops, reporter: StatusReporter(notifier: notifier)),
        ]
        if configuration.daemon.learnTagsHours > 0 || configuration.wordNetDirectory != nil {
            services.append(
                TagLearner(
                    connector: DatabaseConnector(url: opened.databaseURL, logger: logger),
                    interval: .seconds(configuration.daemon.learnTagsHours * 3600), wordNet: configuration.wordNetDirectory,
                    idle: { await drops.totals().queued == 0 }, logger: logger))
        }
        if configuration.optimize == .lossless {
            // Workers of its own, at the lowest CPU priority: an optimisation in progress takes
            // neither a drop's worker nor the cores the drops and the pipeline need.
            var optimizerSettings = DecoderPool.Settings(
                command: DecoderCommandLine.arguments(
                    executable: "/proc/self/exe", memoryLimit: configuration.daemon.decoderMemoryBytes, lowPriority: true))
            optimizerSettings.keptIdle = 1
            optimizerSettings.optimizeTimeout = configuration.optimizeTimeout
            let optimizer = DecoderPool(settings: optimizerSettings)
            services.append(DecoderPoolService(decoder: optimizer))
            services.append(
                BackgroundOptimizer(
                    connector: DatabaseConnector(url: opened.databaseURL, logger: logger),
                    optimization: OriginalOptimization(
                        root: opened.root.path, optimizer: optimizer, request: .lossless,
                        minimumSaving: configuration.optimizeMinSaving, logger: logger),
                    idle: { await drops.totals().queued == 0 }, ingestedCount: { await drops.totals().ingested },
                    logger: logger))
        }
        services += [
            collector, MetadataWriter(database: database, root: opened.root.path, backlog: backlog, logger: logger), drops,
            ReloadService(reloader: reloader, notifier: notifier),
        ]
        if let interval = WatchdogService.interval(in: ProcessInfo.processInfo.environment) {
            services.append(WatchdogService(interval: interval, drops: drops, notifier: notifier))
        }
        services.append(ReadinessService(drops: drops, notifier: notifier, root: opened.root.path, logger: logger))
        return services
    }

    /// The drop folder, made if missing, watched: with inotify, or by polling where inotify
    /// misses other machines' writes (`daemon.dropWatch`).
    static func watch(_ drop: String, settings: DaemonSettings, logger: Logger) throws(MediaError) -> any DropEventSource {
        do {
            try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        } catch {
            throw MediaError(.libraryRootNotWritable, "cannot create the drop folder \(drop): \(error.localizedDescription)")
        }
        let network = DropFolderFilesystem.networkKind(of: drop)
        let polls = settings.dropWatch == .poll || (settings.dropWatch == .auto && network != nil)
        do throws(DropWatchError) {
            if polls {
                let milliseconds =
                    settings.dropPollInterval.components.seconds * 1000
                    + settings.dropPollInterval.components.attoseconds / 1_000_000_000_000_000
                let reason = settings.dropWatch == .poll ? "daemon.dropWatch is poll" : "it is on \(network ?? "a network filesystem")"
                logger.event(
                    .dropFolderWatched, "polling the drop folder: \(reason)",
                    metadata: ["dropDir": "\(drop)", "intervalMs": "\(milliseconds)"], level: .notice)
                return try DropPoller(directory: drop, interval: settings.dropPollInterval, settle: settings.quietPeriod)
            }
            if let network {
                logger.event(
                    .dropFolderWatched,
                    "watching the drop folder with inotify although it is on \(network): other machines' writes are not seen (daemon.dropWatch = inotify)",
                    metadata: ["dropDir": "\(drop)"], level: .warning)
            }
            return try DropWatcher(directory: drop)
        } catch {
            throw MediaError(.libraryRootNotWritable, "cannot watch the drop folder \(drop): \(error.description)")
        }
    }

    static func processor(
        dropDirectory: String, library: OpenLibrary, pixelLimit: Int64, fileKeywords: Bool, budget: StorageBudget,
        decoder: DecoderPool, backlog: MetadataBacklog, logger: Logger
    ) -> DropProcessor {
        var ingestor = Ingestor(root: library.root.path, decoder: decoder, logger: logger, pixelLimit: pixelLimit)
        ingestor.readsFileKeywords = fileKeywords
        ingestor.metadataBacklog = backlog
        ingestor.budget = budget
        return DropProcessor(dropDirectory: dropDirectory, ingestor: ingestor, logger: logger)
    }
}
