#if canImport(Glibc)
import Glibc
#endif

/// The settings only `mediad` reads (keys `daemon.*`, see `LibraryConfiguration`).
///
/// On SIGHUP the daemon loads the configuration again; `reloadable` lists what changes at once.
/// The library root, the database, the drop folder, the worker count and the decoders' memory
/// limit are fixed for the life of the process: a change to them is logged as needing a restart.
public struct DaemonSettings: Sendable, Equatable {
    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    /// How the drop folder is watched.
    public enum DropWatch: String, Sendable, CaseIterable {
        /// inotify, or polling when the folder is on a network or FUSE filesystem, where
        /// inotify sees only this machine's writes.
        case auto
        case inotify
        case poll
    }

    /// Drops handled at once.
    public var workers: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// How long a media file waits for its sidecar.
    public var sidecarGrace: Duration = .seconds(2)
    /// Receipts older than this are removed.
    public var receiptRetention: Duration = .seconds(7 * 86_400)
    public var logLevel: LogLevel = .info
    /// Longest a decoder worker may take on one probe or thumbnail before it is killed.
    public var decodeTimeout: Duration = .seconds(60)
    /// The address-space limit of each decoder worker process.
    public var decoderMemoryBytes: Int64 = 4 * 1024 * 1024 * 1024
    public var dropWatch: DropWatch = .auto
    /// Between two scans of a polled drop folder; a file is taken once two scans agree on it.
    public var dropPollInterval: Duration = .seconds(2)
    /// Hours between two learns of related tags from the library (`mediaq tags learn`); 0: never.
    public var learnTagsHours = 24
    public static let learnTagsHoursRange = 0...8_760

    // Not configurable: the drop queue's timing.
    /// Longest wait between tries of a drop that failed for a retryable reason.
    public var maximumBackoff: Duration = .seconds(60)
    /// A file that only appeared (linked in, no close event) is taken once it has not been
    /// modified for this long.
    public var quietPeriod: Duration = .seconds(3)

    /// Longest one drop may take before its worker gives up on it (the database stopped
    /// answering mid-ingest) and retries it: the decoders' limits (a probe and two thumbnail
    /// tries), a copy at 20 MB/s, and two minutes for the database.
    public func deadline(forBytes bytes: Int64) -> Duration {
        decodeTimeout * 3 + .seconds(120) + .milliseconds(bytes / 20_000)
    }

    public init() {}

    /// The names of the settings that differ and need a restart to take effect.
    public static func restartNeeded(from old: LibraryConfiguration, to new: LibraryConfiguration) -> [String] {
        var changed: [String] = []
        if old.libraryRoot != new.libraryRoot { changed.append(ConfigurationKey.libraryRoot.rawValue) }
        if old.databaseURL != new.databaseURL { changed.append(ConfigurationKey.databaseURL.rawValue) }
        if old.dropDirectory != new.dropDirectory { changed.append(ConfigurationKey.dropDirectory.rawValue) }
        if old.daemon.workers != new.daemon.workers { changed.append(ConfigurationKey.workers.rawValue) }
        if old.daemon.dropWatch != new.daemon.dropWatch { changed.append(ConfigurationKey.dropWatch.rawValue) }
        if old.daemon.dropPollInterval != new.daemon.dropPollInterval { changed.append(ConfigurationKey.dropPollMs.rawValue) }
        if old.daemon.learnTagsHours != new.daemon.learnTagsHours { changed.append(ConfigurationKey.learnTagsHours.rawValue) }
        if old.daemon.decoderMemoryBytes != new.daemon.decoderMemoryBytes {
            changed.append(ConfigurationKey.decoderMemoryBytes.rawValue)
        }
        // The quota is read once, by the daemon's space check and its collector.
        if old.budgetBytes != new.budgetBytes { changed.append(ConfigurationKey.budgetBytes.rawValue) }
        if old.reserveBytes != new.reserveBytes { changed.append(ConfigurationKey.reserveBytes.rawValue) }
        if old.gcLowWaterPercent != new.gcLowWaterPercent { changed.append(ConfigurationKey.gcLowWaterPercent.rawValue) }
        if old.gcKeepPerProvider != new.gcKeepPerProvider { changed.append(ConfigurationKey.gcKeepPerProvider.rawValue) }
        // The background optimiser is started, or not, with the daemon.
        if old.optimize != new.optimize { changed.append(ConfigurationKey.optimize.rawValue) }
        if old.optimizeMinSaving != new.optimizeMinSaving { changed.append(ConfigurationKey.optimizeMinSaving.rawValue) }
        if old.optimizeTimeout != new.optimizeTimeout { changed.append(ConfigurationKey.optimizeTimeoutSeconds.rawValue) }
        return changed
    }
}
