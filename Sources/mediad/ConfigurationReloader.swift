import Logging
import MediaCommandSupport
import MediaCore
import MediaDaemon
import MediaIsolation

/// Applies a reloaded configuration: what can change while running changes at once, the rest
/// is logged as needing a restart, and a configuration that does not load leaves the running
/// one in place.
struct ConfigurationReloader: Sendable {
    let options: Mediad
    let running: LibraryConfiguration
    let library: OpenLibrary
    let drops: DropService
    let decoder: DecoderPool
    let levelControl: LogLevelControl
    let logger: Logger

    func reload() async {
        let fresh: LibraryConfiguration
        do {
            fresh = try await options.library.load(extraFlags: options.daemonFlags)
        } catch {
            logger.event(
                .reloadFailed,
                "configuration not reloaded; the running one stays",
                metadata: [
                    "reason": "\(error.message)"
                ], level: .error)
            return
        }
        levelControl.level = Logger.Level(fresh.daemon.logLevel)
        decoder.setTimeout(fresh.daemon.decodeTimeout)
        var settings = fresh.daemon
        settings.workers = running.daemon.workers
        // The processor keeps the library and drop folder it started with; only limits change.
        drops.reconfigure(
            settings,
            processor: Mediad.processor(
                dropDirectory: running.dropDirectory, library: library, pixelLimit: fresh.pixelLimit,
                fileKeywords: fresh.fileKeywords, budget: StorageBudget(fresh), decoder: decoder,
                backlog: drops.processor.ingestor.metadataBacklog ?? MetadataBacklog(), logger: logger))
        let pending = DaemonSettings.restartNeeded(from: running, to: fresh)
        var metadata: Logger.Metadata = [
            "logLevel": "\(fresh.daemon.logLevel.rawValue)",
            "sidecarGraceMs":
                "\(fresh.daemon.sidecarGrace.components.seconds * 1000 + fresh.daemon.sidecarGrace.components.attoseconds / 1_000_000_000_000_000)",
            "decodeTimeout": "\(fresh.daemon.decodeTimeout)", "pixelLimit": "\(fresh.pixelLimit)",
            "fileKeywords": "\(fresh.fileKeywords)",
        ]
        if !pending.isEmpty { metadata["needsRestart"] = "\(pending.joined(separator: ","))" }
        logger.event(.reloaded, "configuration reloaded", metadata: metadata)
    }
}

extension Logger.Level {
    init(_ level: DaemonSettings.LogLevel) {
        self = Logger.Level(rawValue: level.rawValue) ?? .info
    }
}
