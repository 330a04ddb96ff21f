import Foundation

/// `media.optimize`: whether stored originals are rewritten smaller in the background.
public enum OptimizeMode: String, Sendable, Equatable, CaseIterable {
    case off, lossless
}

/// The settings every part of the library reads, resolved once at start.
///
/// Each value is looked up, first match wins, in: a command-line flag, the environment, the
/// configuration file, the built-in default.
///
/// | key (file)          | environment          | flag              | type  | default |
/// |---------------------|----------------------|-------------------|-------|---------|
/// | `library.root`      | `LIBRARY_ROOT`       | `--library-root`  | path  | `/media/videos` when it holds a library or is writable, else `./cache/library` |
/// | `database.url`      | `DATABASE_URL`       | `--database-url`  | URL   | none: the embedded cluster in `<library.root>/.db` |
/// | `database.maxConnections` | `MEDIA_DB_MAX_CONNECTIONS` | `--db-max-connections` | count 5–10000 | `daemon.workers` + 4 (`mediad`) + 40 (`mediaq` processes at once): the embedded cluster's `max_connections`, applied when it starts |
/// | `media.dropDir`     | `MEDIA_DROP_DIR`     | `--drop-dir`      | path  | `<library.root>/drop` |
/// | `media.budgetBytes` | `MEDIA_BUDGET_BYTES` | `--budget`        | size  | `300GB` |
/// | `media.pixelLimit`  | `MEDIA_PIXEL_LIMIT`  | `--pixel-limit`   | count | `100000000` (100 megapixels) |
/// | `media.reserveBytes` | `MEDIA_RESERVE_BYTES` | `--reserve`     | size  | `1GB`: free space always left on the library's filesystem |
/// | `gc.lowWaterPercent` | `MEDIA_GC_LOW_WATER_PERCENT` | `--gc-low-water` | percent 1–100 | `90`: GC frees down to this share of the budget |
/// | `gc.keepPerProvider` | `MEDIA_GC_KEEP_PER_PROVIDER` | `--gc-keep` | `provider=N,…` | none: GC keeps the N most recently used assets of each named provider |
/// | `ingest.fileKeywords` | `MEDIA_INGEST_FILE_KEYWORDS` | none | boolean | `true`: the keywords written into an image (IPTC, XMP, EXIF) become its tags |
/// | `media.optimize`    | `MEDIA_OPTIMIZE`     | none              | `off`, `lossless` | `off`: with `lossless`, `mediad` rewrites stored originals smaller in the background, same pixels and frames (docs/optimize.md) |
/// | `media.optimizeMinSaving` | `MEDIA_OPTIMIZE_MIN_SAVING` | none | share 0–0.9 | `0.02`: an optimised original is kept only when it saves at least this share of its bytes |
/// | `media.optimizeTimeoutSeconds` | `MEDIA_OPTIMIZE_TIMEOUT_SECONDS` | none | seconds 1–86400 | `600`: longest one optimisation may take before its worker is killed and the original left as it was |
/// | `search.wordnet`    | `MEDIA_WORDNET`      | none              | path or `off` | `/usr/share/wordnet`: WordNet's data, loaded into the database by `mediad` at start and `mediaq db migrate` when present and not loaded yet |
/// | `daemon.workers`    | `MEDIAD_WORKERS`     | `--workers`       | count | the number of cores |
/// | `daemon.sidecarGraceMs` | `MEDIAD_SIDECAR_GRACE_MS` | `--sidecar-grace-ms` | ms ≥ 0 | `2000` |
/// | `daemon.receiptDays` | `MEDIAD_RECEIPT_DAYS` | `--receipt-days` | count | `7` |
/// | `daemon.logLevel`   | `MEDIAD_LOG_LEVEL`   | `--log-level`     | level | `info` |
/// | `daemon.decodeTimeoutSeconds` | `MEDIAD_DECODE_TIMEOUT_SECONDS` | `--decode-timeout-seconds` | count | `60` |
/// | `daemon.decoderMemoryBytes` | `MEDIAD_DECODER_MEMORY_BYTES` | `--decoder-memory` | size | `4GiB` |
/// | `daemon.dropWatch` | `MEDIAD_DROP_WATCH` | `--drop-watch` | `auto`, `inotify`, `poll` | `auto` |
/// | `daemon.dropPollMs` | `MEDIAD_DROP_POLL_MS` | `--drop-poll-ms` | ms 100–600000 | `2000` |
/// | `daemon.learnTagsHours` | `MEDIAD_LEARN_TAGS_HOURS` | `--learn-tags-hours` | hours 0–8760 | `24`: related tags learned from the library again when the last learn is older; `0` never |
///
/// `mediad` reads the file and its environment again on SIGHUP; `DaemonSettings` says which
/// settings take effect without a restart.
///
/// The file is JSON (see `config/media-library.example.json`), found at `--config`, else
/// `MEDIA_CONFIG`, else `/etc/media-library/config.json` when that exists. A file that is named
/// explicitly must exist. Relative paths are resolved against the working directory.
/// Sizes take a unit (`300GB`, `1.5TiB`, `512MiB`) or are plain bytes.
public struct LibraryConfiguration: Sendable, Equatable {
    /// Absolute, normalised path of LIBRARY_ROOT.
    public var libraryRoot: String
    /// `nil` selects the embedded cluster.
    public var databaseURL: DatabaseURL?
    public var dropDirectory: String
    public var budgetBytes: Int64
    /// The largest image, in pixels (width × height), that ingest accepts; checked from the header.
    public var pixelLimit: Int64
    /// Free space always left on the library's filesystem; an ingest that would eat into it waits.
    public var reserveBytes: Int64 = defaultReserveBytes
    /// GC frees down to this share (percent) of the budget.
    public var gcLowWaterPercent: Int = defaultLowWaterPercent
    /// GC keeps at least this many of each provider's assets (the most recently used).
    public var gcKeepPerProvider: [String: Int] = [:]
    /// Whether ingest (and a reindex of an original without a metadata file) adds the keywords
    /// written into an image file to its tags.
    public var fileKeywords = true
    /// Where WordNet's data files are, for the relations between tags that search falls back
    /// on; nil (`off`) never loads them on its own (`mediaq tags wordnet` still does).
    public var wordNetDirectory: String? = defaultWordNetDirectory
    /// Whether `mediad` optimises stored originals in the background (`mediaq optimize` runs
    /// whatever this says).
    public var optimize: OptimizeMode = .off
    /// An optimised original replaces the stored one only when it saves at least this share.
    public var optimizeMinSaving: Double = defaultOptimizeMinSaving
    public static let defaultOptimizeMinSaving = 0.02
    /// The longest one optimisation (a copy made and compared) may take; the worker is then
    /// killed and the asset reported failed, its original untouched.
    public var optimizeTimeout: Duration = defaultOptimizeTimeout
    public static let defaultOptimizeTimeout: Duration = .seconds(600)
    public static let optimizeTimeoutRange: ClosedRange<Int64> = 1...86_400
    /// Debian's `wordnet-base`.
    public static let defaultWordNetDirectory = "/usr/share/wordnet"
    /// The embedded cluster's `max_connections`, when configured; see `embeddedMaxConnections`.
    public var databaseMaxConnections: Int?
    /// The configuration file that was read, if any.
    public var configFile: String?
    /// No flag, variable or file named the root: it is the built-in default, which an error
    /// about a missing library says (a command run from the wrong place must not make one).
    public var libraryRootIsDefault = false

    /// The connections the embedded cluster admits: as configured, else enough for `mediad`
    /// (one per drop worker, its collector, its tag learner, its optimiser and one for opening and recovery) and
    /// `concurrentCommands` `mediaq` processes at once (each holds one). A command that finds
    /// every slot taken exits 75; `mediad` waits as for any outage.
    public var embeddedMaxConnections: Int {
        databaseMaxConnections ?? Self.defaultMaxConnections(workers: daemon.workers)
    }

    /// The connections of `mediad`'s pool: one per drop worker and one for the background GC.
    public static func daemonPoolConnections(workers: Int) -> Int { workers + 1 }
    /// The connections `mediad` holds at most: its pool's, one while it opens the library, one
    /// while it learns related tags and one while it optimises originals (`media.optimize`),
    /// each its own, so that background work never takes a drop's.
    public static func daemonConnections(workers: Int) -> Int { daemonPoolConnections(workers: workers) + 3 }
    /// The embedded cluster's connection limit unless one is configured.
    public static func defaultMaxConnections(workers: Int) -> Int { daemonConnections(workers: workers) + concurrentCommands }
    /// The `mediaq` processes the embedded cluster's default connection limit leaves room for.
    public static let concurrentCommands = 40
    /// PostgreSQL keeps 3 slots for superusers and wants more than that.
    public static let maxConnectionsRange = 5...10_000

    /// The library size GC frees down to.
    public var lowWaterBytes: Int64 { budgetBytes / 100 * Int64(gcLowWaterPercent) }
    /// What only `mediad` reads.
    public var daemon = DaemonSettings()

    public static let defaultBudgetBytes: Int64 = 300_000_000_000
    public static let defaultPixelLimit: Int64 = 100_000_000
    public static let defaultReserveBytes: Int64 = 1_000_000_000
    public static let defaultLowWaterPercent = 90
    public static let defaultMountedRoot = "/media/videos"
    public static let developmentRoot = "cache/library"
    public static let systemConfigFile = "/etc/media-library/config.json"

    public init(
        libraryRoot: String, databaseURL: DatabaseURL?, dropDirectory: String? = nil,
        budgetBytes: Int64 = defaultBudgetBytes, pixelLimit: Int64 = defaultPixelLimit, configFile: String? = nil
    ) {
        self.libraryRoot = libraryRoot
        self.databaseURL = databaseURL
        self.dropDirectory = dropDirectory ?? libraryRoot + "/drop"
        self.budgetBytes = budgetBytes
        self.pixelLimit = pixelLimit
        self.configFile = configFile
    }
}
