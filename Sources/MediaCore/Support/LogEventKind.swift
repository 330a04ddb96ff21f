public import Logging

/// The kinds of event the daemon and the commands log, each with a fixed journal `MESSAGE_ID`.
///
/// A log call names its kind, which lands in the metadata key `event`:
///
/// ```swift
/// logger.event(.ingested, "stored", metadata: ["file": "\(path)", "id": "\(id)"])
/// ```
///
/// In the journal the entry then carries `MESSAGE_ID=<id>` (and `MEDIA_EVENT=<kind>`), so
/// `journalctl -u mediad MESSAGE_ID=…` finds every event of a kind whatever its wording.
///
/// The ids are part of the operations interface (docs/operations.md lists them, and a test
/// checks that list against this one): never change or reuse one. A new kind gets a new id
/// from `systemd-id128 new` (or `journalctl --new-id128`).
public enum LogEventKind: String, CaseIterable, Sendable {
    // The daemon's life.
    /// Everything is open and watched; systemd was told READY=1.
    case ready
    /// SIGTERM or SIGINT: in-flight drops finish, nothing new starts.
    case stopping
    /// The daemon ended cleanly.
    case stopped
    /// The daemon ends on an error (the reason and exit code are in the entry).
    case failed
    /// SIGHUP: the configuration was read again and applied.
    case reloaded
    /// SIGHUP: the new configuration was refused; the previous one stays in force.
    case reloadFailed

    // The library.
    /// The library root is checked and its database open and migrated.
    case libraryOpened
    /// A new library (its identity row) was made.
    case libraryCreated
    /// One schema migration was applied.
    case migrationApplied
    /// The embedded PostgreSQL cluster was created or started.
    case databaseStarted

    // Drops.
    /// A drop became a new asset.
    case ingested
    /// A drop's content is in the library already; its details were merged.
    case duplicate
    /// A drop was refused (moved to `.rejected` with its reason).
    case rejected
    /// A file that crashed or hung a decoder repeatedly was set aside.
    case quarantined
    /// A sidecar that came after its media was applied to the stored asset.
    case sidecarApplied
    /// A sidecar was unreadable or malformed and moved to `.rejected`.
    case sidecarRefused
    /// Old receipts were removed.
    case receiptsPruned
    /// The drop folder was scanned again (inotify queue overflow).
    case rescanned
    /// How the drop folder is watched, when that is not plain inotify (polling on a network
    /// filesystem, or inotify on one because the configuration says so).
    case dropFolderWatched
    /// An ingest interrupted by a crash was completed or rolled back.
    case recovered

    // Maintenance.
    /// The daemon's GC started a run towards a target size.
    case gcStarted
    /// GC removed assets (counts and bytes in the entry).
    case collected
    /// GC stopped above its target: pins and keep caps hold the rest.
    case gcShort
    /// A GC run failed; it runs again on the next request.
    case gcFailed
    /// The library's recorded root moved (`mediaq rebase`).
    case rebased
    /// Metadata files left behind (an upgrade, a crash after a commit) were written.
    case metadataWritten
    /// Metadata files could not be written; the rows keep their marks and are tried again.
    case metadataFailed
    /// An asset's original is gone from the disk: it is marked lost and offered no more.
    case assetLost
    /// An operator removed an asset (`mediaq rm`), or removed and blocked it (`mediaq block`).
    case assetRemoved
    /// Related tags were learned from the library (counts and seconds in the entry).
    case tagsLearned
    /// Learning related tags failed; the daemon tries again later.
    case tagsLearnFailed
    /// `mediad` loaded WordNet's relations between tags (at start, when present and not loaded).
    case wordNetLoaded
    /// An original was rewritten smaller, or tried and left (`mediaq optimize`, `media.optimize`).
    case optimized
    /// Optimising an original failed; it is left as it was and not tried again in the background.
    case optimizeFailed

    // Faults.
    /// A retryable fault: the database or the library root is unavailable; drops stay in
    /// place and are retried.
    case waiting
    /// The fault behind `waiting` cleared; work goes on.
    case resumed
    /// A drop could not be handled for a reason of its own (the file still changing, say) and
    /// is tried again later.
    case retrying
    /// A decoder crashed on a file.
    case decoderCrashed
    /// A decoder exceeded its time or memory limit on a file.
    case decoderHung
    /// A thumbnail could not be made (the asset is stored without it, or retried).
    case thumbnailFailed

    /// The journal `MESSAGE_ID`: 128 bits, 32 lowercase hexadecimal digits. Fixed forever.
    public var messageID: String {
        switch self {
        case .ready: "8e1dfa8721e2441bbf89ae472edef365"
        case .stopping: "bf56de1a1f5b44a2ae421423542cbf08"
        case .stopped: "3b2880d7cb1b4a4a8956e7409c1d2bc9"
        case .failed: "04240fb0db6f4f0ba0e645578935ddd1"
        case .reloaded: "811eeb0fe3ab4a20a081b69562b0825e"
        case .reloadFailed: "52b72fcc838a40f499df3f4e78c82f8d"
        case .libraryOpened: "fcffe66ec0524724afac12ba4b21da41"
        case .libraryCreated: "edf4128b56584b95aee44be6ec9d2382"
        case .migrationApplied: "23387b3cf3a54a1ca36c9f30c7794993"
        case .databaseStarted: "4344fddf5a2049eebf645e3bf0fc3447"
        case .ingested: "742b8ac378ea4c27994111e3d08705a7"
        case .duplicate: "0889b8e051ac45bb97aeae610a545b63"
        case .rejected: "c755d582e37743a78037ff5a0be6068f"
        case .quarantined: "7a7fbfe2b187448eaccc5c09a043e322"
        case .sidecarApplied: "aca48e161e014d24977060a816762347"
        case .sidecarRefused: "0970fcc296b045b99198afcaffeab5b5"
        case .receiptsPruned: "2509c2100c394aa9bad43acb6838db06"
        case .rescanned: "96c7383b91cc4ea28d00ec24968a6a4c"
        case .dropFolderWatched: "5a5d284ef0af462eb89555806194bcea"
        case .recovered: "ecd925f2384c430896b4863bd7849d8c"
        case .waiting: "7e3e233974df4be1889f464d8f1d5e8c"
        case .resumed: "92225fcd23fb4f899ec73e3a45aca5cf"
        case .retrying: "511add1b073c4ee38d5599f4a3a3244b"
        case .decoderCrashed: "82ab740ab4e24f1eab6f2c81de789911"
        case .decoderHung: "9e6691d39a9d43b8be4f5ac92a55523f"
        case .thumbnailFailed: "a36b45af85ae4bc9bab06e5de0d1e530"
        case .gcStarted: "c4d18522adae497ab0eb6135301e2101"
        case .collected: "25bb9d24c8aa4ff89edf1489538dfa5c"
        case .gcShort: "1c7a67e4f09d400cb3af7ee9938ea86b"
        case .gcFailed: "46dc582bdf4a4992a8a64b537bf9b5a5"
        case .rebased: "d2b115c92dd8438cadaa91ed1e1d86d7"
        case .metadataWritten: "8ec9ac2cc1f344a4a822bfa3f3eea665"
        case .metadataFailed: "42400942188b4b95a08d8cf4c2b3fc19"
        case .assetLost: "713cb85d2f144aa382dd88ab91850593"
        case .assetRemoved: "a76c8ec5f14e41a3b97d9d32cf328d93"
        case .tagsLearned: "dc197ae98e7e4258856439e18d18c9bc"
        case .tagsLearnFailed: "078c714c8b0c43a28472f1d4dc6d9cfa"
        case .wordNetLoaded: "77c8885520a54e11a6f984bd991e2e83"
        case .optimized: "aa76edfc3b684b8da2ad76f9aedaf261"
        case .optimizeFailed: "96b08a863fe143afb96907db6c2a781f"
        }
    }

    /// The level `Logger.event(_:_:metadata:)` logs this kind at unless told otherwise.
    public var defaultLevel: Logger.Level {
        switch self {
        case .ready, .stopping, .stopped, .libraryOpened, .migrationApplied, .ingested, .duplicate,
            .sidecarApplied, .receiptsPruned, .gcStarted, .metadataWritten, .assetRemoved, .tagsLearned,
            .wordNetLoaded, .optimized:
            .info
        case .reloaded, .libraryCreated, .databaseStarted, .recovered, .resumed, .collected, .rebased, .dropFolderWatched:
            .notice
        case .reloadFailed, .rejected, .quarantined, .sidecarRefused, .rescanned, .waiting, .thumbnailFailed, .retrying,
            .gcShort, .gcFailed, .metadataFailed, .assetLost, .tagsLearnFailed, .optimizeFailed:
            .warning
        case .failed, .decoderCrashed, .decoderHung:
            .error
        }
    }

    /// The metadata key that names an entry's kind.
    public static let metadataKey = "event"
}

extension Logger {
    /// Logs an event of `kind`: `metadata` plus `event=<kind>`, at `level` or the kind's
    /// default level.
    public func event(
        _ kind: LogEventKind,
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        level: Logger.Level? = nil,
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        let level = level ?? kind.defaultLevel
        guard logLevel <= level else { return }
        var merged = metadata() ?? [:]
        merged[LogEventKind.metadataKey] = .string(kind.rawValue)
        log(level: level, message(), metadata: merged, file: file, function: function, line: line)
    }
}
