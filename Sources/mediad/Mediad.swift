public import ArgumentParser
public import Logging
import MediaCommandSupport
import MediaCore
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
        abstract: "The media library daemon: keeps the library open and reports to systemd.",
        discussion: """
            On start it checks LIBRARY_ROOT, opens the database (the embedded cluster in \
            <library-root>/.db when DATABASE_URL is unset), applies pending migrations and tells \
            systemd READY=1. SIGTERM or SIGINT stops it cleanly (STOPPING=1, exit 0).

            Exit codes: 0 stopped cleanly; 1 other failure; 2 usage or configuration error; \
            75 temporary failure (database or library root unavailable: systemd's Restart= retries).
            """,
        version: MediaLibraryVersion.current)

    @OptionGroup var library: LibraryOptions

    @Option(help: "Lowest level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let level = logLevel
        let logger = Logger(label: "mediad") { label in
            StandardErrorLogHandler(label: label, level: level, timestamps: true)
        }
        let notifier = SystemdNotifier()
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
            let service = DaemonService(library: opened, notifier: notifier, logger: logger)
            let group = ServiceGroup(
                services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            try await group.run()
            logger.info("stopped")
        } catch let error as MediaError {
            logger.error("\(error.message)", metadata: ["code": "\(error.code.name)"])
            notifier.status("failed: \(error.message)")
            throw error.exitCode
        }
    }
}

/// The daemon's main loop. At this stage it holds the library open until asked to stop; the
/// drop-folder watcher joins it later.
struct DaemonService: Service {
    let library: OpenLibrary
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        // Everything the daemon needs is open and checked: only now is it ready.
        notifier.ready(status: "library \(library.root.path) open, schema current")
        logger.info("ready")
        try? await gracefulShutdown()
        notifier.stopping(status: "stopping")
        logger.info("stopping")
    }
}
