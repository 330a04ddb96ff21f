public import ArgumentParser
public import MediaCore

/// The options both executables take to find the library. Each overrides the environment and
/// the configuration file; none has a default here, so the layers below it still apply.
public struct LibraryOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "JSON configuration file (default: $MEDIA_CONFIG, else /etc/media-library/config.json when present).",
            valueName: "file"))
    public var configFile: String?

    @Option(help: ArgumentHelp("Library root (overrides LIBRARY_ROOT).", valueName: "path"))
    public var libraryRoot: String?

    @Option(
        help: ArgumentHelp(
            "PostgreSQL URL (overrides DATABASE_URL); without one, the embedded cluster in <library-root>/.db.",
            valueName: "url"))
    public var databaseURL: String?

    @Option(
        name: .customLong("db-max-connections"),
        help: ArgumentHelp(
            "Connections the embedded PostgreSQL admits, applied when it starts (overrides MEDIA_DB_MAX_CONNECTIONS; default: mediad's workers + 42).",
            valueName: "count"))
    public var dbMaxConnections: String?

    @Option(help: ArgumentHelp("Drop directory (overrides MEDIA_DROP_DIR).", valueName: "path"))
    public var dropDir: String?

    @Option(help: ArgumentHelp("Storage budget, e.g. 300GB (overrides MEDIA_BUDGET_BYTES).", valueName: "size"))
    public var budget: String?

    @Option(
        help: ArgumentHelp(
            "Largest image accepted, in pixels (overrides MEDIA_PIXEL_LIMIT; default 100000000).", valueName: "count"))
    public var pixelLimit: String?

    @Option(
        help: ArgumentHelp(
            "Free space always left on the library's filesystem (overrides MEDIA_RESERVE_BYTES; default 1GB).",
            valueName: "size"))
    public var reserve: String?

    @Option(
        name: .customLong("gc-low-water"),
        help: ArgumentHelp(
            "GC frees down to this percent of the budget (overrides MEDIA_GC_LOW_WATER_PERCENT; default 90).",
            valueName: "percent"))
    public var gcLowWater: String?

    @Option(
        name: .customLong("gc-keep"),
        help: ArgumentHelp(
            "GC keeps this many most recently used assets per provider, e.g. pexels=500,unsplash=200 (overrides MEDIA_GC_KEEP_PER_PROVIDER).",
            valueName: "caps"))
    public var gcKeep: String?

    public init() {}

    /// The configuration from its layers; `extraFlags` are a program's own flags (mediad's).
    public func load(extraFlags: [ConfigurationKey: String] = [:]) async throws(MediaError) -> LibraryConfiguration {
        var flags = extraFlags
        flags[.libraryRoot] = libraryRoot
        flags[.databaseURL] = databaseURL
        flags[.databaseMaxConnections] = dbMaxConnections
        flags[.dropDirectory] = dropDir
        flags[.budgetBytes] = budget
        flags[.pixelLimit] = pixelLimit
        flags[.reserveBytes] = reserve
        flags[.gcLowWaterPercent] = gcLowWater
        flags[.gcKeepPerProvider] = gcKeep
        return try await LibraryConfiguration.load(flags: flags, configFile: configFile)
    }
}
