public import ArgumentParser
import Foundation
public import Logging
import MediaCodecs
import MediaCommandSupport
import MediaCore
import MediaDaemon
import PostgresNIO
import ServiceLifecycle
import SystemdSupport
import UnixSignals

extension Logger.Level: @retroactive ExpressibleByArgument {}

@main
struct Mediad: AsyncParsableCommand {
    static func main() async { await mainWithDocumentedExitCodes() }

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
            cleanly (STOPPING=1, in-flight drops finish, exit 0).

            Exit codes: 0 stopped cleanly; 1 other failure; 2 usage or configuration error; \
            75 temporary failure (database or library root unavailable: systemd's Restart= retries).
            """,
        version: MediaLibraryVersion.current)

    @OptionGroup var library: LibraryOptions

    @Option(help: "Lowest level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: ArgumentHelp("How long a media file waits for its sidecar, in milliseconds.", valueName: "ms"))
    var sidecarGraceMs: Int = 2000

    @Option(help: ArgumentHelp("Drops handled at once (default: the number of cores).", valueName: "n"))
    var workers: Int?

    @Option(help: ArgumentHelp("Receipts older than this many days are removed.", valueName: "days"))
    var receiptDays: Int = 7

    func validate() throws {
        if sidecarGraceMs < 0 { throw ValidationError("--sidecar-grace-ms must be 0 or more") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if receiptDays < 1 { throw ValidationError("--receipt-days must be at least 1") }
    }

    func run() async throws {
        let level = logLevel
        let logger = Logger(label: "mediad") { label in
            StandardErrorLogHandler(label: label, level: level, timestamps: true)
        }
        let notifier = SystemdNotifier()
        let reporter = StatusReporter(notifier: notifier)
        defer { reporter.stop() }
        do {
            let configuration = try await library.load()
            notifier.status("opening the library at \(configuration.libraryRoot)")
            let (opened, connection) = try await LibraryOpener(configuration: configuration, logger: logger).open()
            try? await connection.close()
            logger.info(
                "library open",
                metadata: [
                    "id": "\(opened.libraryId.lowercased)", "root": "\(opened.root.path)",
                    "database": "\(opened.usesEmbeddedDatabase ? "embedded" : opened.databaseURL.description)",
                    "migrationsApplied": "\(opened.appliedMigrations.count)",
                ])
            let service = try makeDropService(configuration: configuration, library: opened, reporter: reporter, logger: logger)
            // The watch is installed; now what was dropped while we were down joins the queue.
            await service.scan()
            let daemon = DaemonService(library: opened, drops: service, notifier: notifier, logger: logger)
            let group = ServiceGroup(
                services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
            logger.info("stopped")
        } catch let error as MediaError {
            logger.error("\(error.message)", metadata: ["code": "\(error.code.name)"])
            notifier.status("failed: \(error.message)")
            throw error.exitCode
        }
    }

    private func makeDropService(
        configuration: LibraryConfiguration, library: OpenLibrary, reporter: StatusReporter, logger: Logger
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
        let ingestor = Ingestor(
            root: library.root.path, decoder: NativeMediaDecoder(), logger: logger, pixelLimit: configuration.pixelLimit)
        var settings = DropService.Settings()
        settings.sidecarGrace = .milliseconds(sidecarGraceMs)
        if let workers { settings.workers = workers }
        settings.receiptRetention = .seconds(receiptDays * 86_400)
        return DropService(
            watcher: watcher, processor: DropProcessor(dropDirectory: drop, ingestor: ingestor, logger: logger),
            connector: DatabaseConnector(url: library.databaseURL, logger: logger), settings: settings, logger: logger
        ) { totals in
            var status = "queue \(totals.queued); ingested \(totals.ingested), duplicates \(totals.duplicates), rejected \(totals.rejected)"
            if let reason = totals.waitingReason { status += "; waiting: \(reason)" }
            reporter.update(status)
        }
    }
}

/// Runs the drop service until SIGTERM/SIGINT, then lets in-flight drops finish.
struct DaemonService: Service {
    let library: OpenLibrary
    let drops: DropService
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        // Everything is open and checked, the watch is installed and the backlog queued: ready.
        let backlog = await drops.totals().queued
        notifier.ready(status: "watching; queue \(backlog)")
        logger.info("ready", metadata: ["root": "\(library.root.path)", "queued": "\(backlog)"])
        let notifier = notifier
        let drops = drops
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await drops.run() }
                if let interval = Self.watchdogInterval() {
                    group.addTask { await Self.keepWatchdogFed(every: interval / 2, drops: drops, notifier: notifier) }
                }
                await group.next()  // the drop service ended: stop feeding the watchdog
                group.cancelAll()
            }
        } onGracefulShutdown: {
            notifier.stopping(status: "stopping: finishing in-flight drops")
            drops.stop()
        }
        logger.info("stopping")
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
