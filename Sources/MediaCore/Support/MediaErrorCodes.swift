/// Every `MediaError.Code`, in one place: the stable names that `--json` output, receipts,
/// rejections and the journal carry, each with its disposition (what a caller does: retry later,
/// reject the input, fix the invocation, or call a person). Never rename or reuse a name.
extension MediaError.Code {
    // Configuration
    public static let invalidConfiguration = Self("invalid_configuration", .usage)

    // Database
    public static let databaseUnavailable = Self("database_unavailable", .retryable)
    public static let databaseTimeout = Self("database_timeout", .retryable)
    public static let databaseError = Self("database_error", .failure)
    public static let embeddedDatabaseFailed = Self("embedded_database_failed", .retryable)
    public static let migrationChanged = Self("migration_changed", .failure)
    public static let migrationFailed = Self("migration_failed", .failure)
    public static let schemaTooNew = Self("schema_too_new", .failure)
    public static let schemaNotCurrent = Self("schema_not_current", .retryable)

    // Library root
    public static let libraryRootMissing = Self("library_root_missing", .retryable)
    public static let libraryRootUnmarked = Self("library_root_unmarked", .retryable)
    public static let libraryRootNotWritable = Self("library_root_not_writable", .retryable)
    public static let libraryRootUnmounted = Self("library_root_unmounted", .retryable)
    public static let libraryRootNotEmpty = Self("library_root_not_empty", .usage)
    public static let libraryMismatch = Self("library_mismatch", .failure)
    public static let libraryMoved = Self("library_moved", .failure)
    public static let libraryMarkerInvalid = Self("library_marker_invalid", .failure)

    // Ingest
    // Rejections: the file itself is wrong; it is refused with nothing left behind.
    public static let emptyFile = Self("empty_file", .badInput)
    public static let notARegularFile = Self("not_regular_file", .badInput)
    public static let unreadable = Self("unreadable", .badInput)
    public static let unknownFormat = Self("unknown_format", .badInput)
    public static let notMedia = Self("not_media", .badInput)
    public static let extensionMismatch = Self("extension_mismatch", .badInput)
    public static let tooManyPixels = Self("too_many_pixels", .badInput)
    public static let undecodable = Self("undecodable", .badInput)
    public static let noVideoStream = Self("no_video_stream", .badInput)
    /// The decoder crashed or hung on the file twice (see `DecodeFailure.Reason.quarantined`).
    public static let decoderQuarantined = Self("decoder_quarantined", .badInput)
    // Not the file's fault: try again later.
    public static let sourceChanged = Self("source_changed", .retryable)
    public static let libraryWriteFailed = Self("library_write_failed", .retryable)
    /// The decoder crashed or hung once on the file: the drop is tried again later.
    public static let decoderCrashed = Self("decoder_crashed", .retryable)
    /// The decoder hung once on the file and was killed: the drop is tried again later.
    public static let decoderHung = Self("decoder_hung", .retryable)

    /// The bytes, or the provider id, are content an operator blocked (`mediaq block`).
    public static let blocked = Self("blocked", .badInput)

    // Sidecar
    public static let badSidecar = Self("bad_sidecar", .badInput)

    // Backup
    /// `mediaq restore --from` names no backup, or one that cannot be read.
    public static let backupInvalid = Self("backup_invalid", .badInput)
    /// The backup belongs to another library (its id is not the one in LIBRARY_ROOT's marker).
    public static let backupMismatch = Self("backup_mismatch", .failure)
    /// Other sessions use the database (mediad, say): a restore waits until they are gone.
    public static let libraryBusy = Self("library_busy", .retryable)

    // Files
    /// A library metadata file (`<kind>/meta/…/<sha>.json`) that cannot be read as one: left
    /// for a person, never overwritten.
    public static let badMetadataFile = Self("bad_metadata_file", .failure)
    /// An output file (`--out`) could not be written; nothing partial was left.
    public static let outputNotWritten = Self("output_not_written", .failure)

    // Plan
    /// A plan script that is not valid: retrying it will not help.
    public static let badScript = Self("bad_script", .badInput)

    // Selection
    /// An id that names no present asset.
    public static let assetNotFound = Self("not_found", .badInput)

    /// `mediaq rm` or `block` of an asset a live pin holds, without --force: retry once the
    /// run's pin expires (`mediaq pins`), or --force.
    public static let assetPinned = Self("pinned", .retryable)

    // Search
    /// WordNet's data files (Debian's wordnet-base) are not where `mediaq tags wordnet` looks.
    public static let wordNetMissing = Self("wordnet_missing", .usage)
    /// A search, plan or export request that cannot be answered as asked.
    public static let invalidRequest = Self("invalid_request", .usage)

    // Quota and GC
    /// An ingest would exceed the budget or eat into the free-space reserve: it waits for GC.
    public static let overBudget = Self("over_budget", .retryable)
    /// A file larger than the whole budget: no collection could make room, so it is refused.
    public static let largerThanBudget = Self("larger_than_budget", .badInput)
    /// The asset with these bytes is being collected: the ingest tries again once it is gone.
    public static let assetBeingCollected = Self("asset_being_collected", .retryable)
    /// `rebase` found the new root does not hold this library, or the database is not where it says.
    public static let rebaseRefused = Self("rebase_refused", .failure)

    // Export
    /// The mode asked for cannot work between these folders (reflink on ext4, a hard link
    /// across filesystems).
    public static let exportModeUnsupported = Self("export_mode_unsupported", .badInput)
    /// Something other than the asset is already at the export's name.
    public static let exportConflict = Self("export_conflict", .badInput)
    /// The destination could not be written (permissions, full disk).
    public static let exportFailed = Self("export_failed", .failure)
    /// An original's bytes are not its recorded SHA-256.
    public static let checksumMismatch = Self("checksum_mismatch", .failure)
    /// An asset's original is not where its row says.
    public static let originalMissing = Self("original_missing", .failure)
}
