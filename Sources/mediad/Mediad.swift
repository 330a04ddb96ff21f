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

@main
struct Mediad: AsyncParsableCommand {
    static func main() async {
        // The daemon starts its decoder workers from its own executable (see DecoderPool).
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == DecoderCommandLine.flag {
            if arguments.contains(DecoderCommandLine.versionsFlag) { DecoderServer.printVersions() }
            DecoderServer.serve(
                memoryLimit: DecoderCommandLine.memoryLimit(in: Array(arguments)),
                lowPriority: arguments.contains(DecoderCommandLine.lowPriorityFlag))
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

            In the background it learns related tags from the tags the library's assets carry \
            together (as `mediaq tags learn` does): at start when the last learn is older than \
            --learn-tags-hours, then every that many hours, once no drop is waiting.

            Exit codes: 0 stopped cleanly; 1 other failure; 2 usage or configuration error; \
            75 temporary failure (database or library root unavailable: systemd's Restart= retries).
            """,
        version: MediaLibraryVersion.current)

    @OptionGroup var library: LibraryOptions

    @Option(
        help: ArgumentHelp(
            "Lowest level logged: trace, debug, info, notice, warning, error, critical (default info).", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("How long a media file waits for its sidecar (default 2000).", valueName: "ms"))
    var sidecarGraceMs: String?

    @Option(help: ArgumentHelp("Drops handled at once (default: the number of cores).", valueName: "n"))
    var workers: String?

    @Option(help: ArgumentHelp("Receipts older than this many days are removed (default 7).", valueName: "days"))
    var receiptDays: String?

    @Option(
        help: ArgumentHelp(
            "Longest a decoder may take on one file before it is killed (default 60).", valueName: "seconds"))
    var decodeTimeoutSeconds: String?

    @Option(help: ArgumentHelp("Address-space limit of each decoder worker (default 4GiB).", valueName: "size"))
    var decoderMemory: String?

    @Option(
        help: ArgumentHelp(
            "How the drop folder is watched: auto (inotify, or polling on NFS, SMB/CIFS or FUSE), inotify or poll.",
            valueName: "mode"))
    var dropWatch: String?

    @Option(help: ArgumentHelp("Between two scans of a polled drop folder (default 2000).", valueName: "ms"))
    var dropPollMs: String?

    @Option(
        help: ArgumentHelp(
            "Hours between two learns of related tags from the library; 0 never (default 24).", valueName: "hours"))
    var learnTagsHours: String?

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
        flags[.dropWatch] = dropWatch
        flags[.dropPollMs] = dropPollMs
        flags[.learnTagsHours] = learnTagsHours
        return flags
    }

    func run() async throws {
        let levelControl = LogLevelControl(.info)
        let logger = Logger(label: "mediad") { label in
            MediaLogHandler(label: label, levelControl: levelControl, timestamps: true)
        }
        let notifier = SystemdNotifier()
        do {
            let configuration = try await library.load(extraFlags: daemonFlags)
            levelControl.level = Logger.Level(configuration.daemon.logLevel)
            notifier.status("opening the library at \(configuration.libraryRoot)")
            let (opened, connection) = try await LibraryOpener(configuration: configuration, logger: logger).open()
            // Metadata files an upgrade or a crash left behind: the writer starts with them.
            let pending = try? await MetadataRepository(connection: connection, logger: logger).pendingCount()
            try? await connection.close()
            logger.event(
                .libraryOpened,
                "library open",
                metadata: [
                    "id": "\(opened.libraryId.lowercased)", "root": "\(opened.root.path)",
                    "database": "\(opened.usesEmbeddedDatabase ? "embedded" : opened.databaseURL.description)",
                    "migrationsApplied": "\(opened.appliedMigrations.count)",
                ])
            let services = try await makeServices(
                configuration: configuration, library: opened, metadataBehind: (pending ?? 1) > 0, notifier: notifier,
                levelControl: levelControl, logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            logger.event(.stopped, "stopped")
        } catch let error as MediaError {
            logger.event(.failed, "\(error.message)", metadata: ["code": "\(error.code.name)"])
            notifier.status("failed: \(error.message)")
            throw error.exitCode
        }
    }
}
