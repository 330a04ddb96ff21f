/// The keys of `LibraryConfiguration`, spelled as the configuration file spells them.
public enum ConfigurationKey: String, Sendable, CaseIterable {
    case libraryRoot = "library.root"
    case databaseURL = "database.url"
    case databaseMaxConnections = "database.maxConnections"
    case dropDirectory = "media.dropDir"
    case budgetBytes = "media.budgetBytes"
    case pixelLimit = "media.pixelLimit"
    case reserveBytes = "media.reserveBytes"
    case gcLowWaterPercent = "gc.lowWaterPercent"
    case gcKeepPerProvider = "gc.keepPerProvider"
    case fileKeywords = "ingest.fileKeywords"
    case wordNet = "search.wordnet"
    case workers = "daemon.workers"
    case sidecarGraceMs = "daemon.sidecarGraceMs"
    case receiptDays = "daemon.receiptDays"
    case logLevel = "daemon.logLevel"
    case decodeTimeoutSeconds = "daemon.decodeTimeoutSeconds"
    case decoderMemoryBytes = "daemon.decoderMemoryBytes"
    case dropWatch = "daemon.dropWatch"
    case dropPollMs = "daemon.dropPollMs"
    case learnTagsHours = "daemon.learnTagsHours"

    /// The environment variable the key maps to.
    public var environmentName: String {
        switch self {
        case .libraryRoot: "LIBRARY_ROOT"
        case .databaseURL: "DATABASE_URL"
        case .databaseMaxConnections: "MEDIA_DB_MAX_CONNECTIONS"
        case .dropDirectory: "MEDIA_DROP_DIR"
        case .budgetBytes: "MEDIA_BUDGET_BYTES"
        case .pixelLimit: "MEDIA_PIXEL_LIMIT"
        case .reserveBytes: "MEDIA_RESERVE_BYTES"
        case .gcLowWaterPercent: "MEDIA_GC_LOW_WATER_PERCENT"
        case .gcKeepPerProvider: "MEDIA_GC_KEEP_PER_PROVIDER"
        case .fileKeywords: "MEDIA_INGEST_FILE_KEYWORDS"
        case .wordNet: "MEDIA_WORDNET"
        case .workers: "MEDIAD_WORKERS"
        case .sidecarGraceMs: "MEDIAD_SIDECAR_GRACE_MS"
        case .receiptDays: "MEDIAD_RECEIPT_DAYS"
        case .logLevel: "MEDIAD_LOG_LEVEL"
        case .decodeTimeoutSeconds: "MEDIAD_DECODE_TIMEOUT_SECONDS"
        case .decoderMemoryBytes: "MEDIAD_DECODER_MEMORY_BYTES"
        case .dropWatch: "MEDIAD_DROP_WATCH"
        case .dropPollMs: "MEDIAD_DROP_POLL_MS"
        case .learnTagsHours: "MEDIAD_LEARN_TAGS_HOURS"
        }
    }
}
