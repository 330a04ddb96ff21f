import Configuration
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

// Reading the layers (flags, environment, file, defaults) into a `LibraryConfiguration`, with
// an error that names the key, the layer and the value for anything invalid.

extension LibraryConfiguration {
    /// Resolves the configuration from its layers.
    /// - Parameters:
    ///   - flags: values given on the command line, by key; they win over everything.
    ///   - configFile: the `--config` flag, if given.
    ///   - environment: the process environment (injectable for tests).
    ///   - workingDirectory: what relative paths are resolved against.
    public static func load(
        flags: [ConfigurationKey: String] = [:],
        configFile: String? = nil,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil
    ) async throws(MediaError) -> LibraryConfiguration {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let workingDirectory = workingDirectory ?? FileManager.default.currentDirectoryPath
        let explicitFile = configFile ?? environment["MEDIA_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        var filePath: String?
        if let explicitFile {
            filePath = absolute(explicitFile, in: workingDirectory)
        } else if FileManager.default.fileExists(atPath: systemConfigFile) {
            filePath = systemConfigFile
        }

        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags {
            flagValues[AbsoluteConfigKey(ConfigKey(key.rawValue))] = ConfigValue(.string(value), isSecret: key == .databaseURL)
        }
        // Each key's variable is named explicitly (MEDIAD_WORKERS for daemon.workers), not
        // derived from the key, so the environment layer is a table of its own.
        var environmentValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for key in ConfigurationKey.allCases {
            if let value = environment[key.environmentName], !value.isEmpty {
                environmentValues[AbsoluteConfigKey(ConfigKey(key.rawValue))] =
                    ConfigValue(.string(value), isSecret: key == .databaseURL)
            }
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "command line", values: flagValues),
            InMemoryProvider(name: "environment", values: environmentValues),
        ]
        if let filePath {
            guard FileManager.default.isReadableFile(atPath: filePath) else {
                throw MediaError(
                    .invalidConfiguration,
                    "configuration file \(filePath) does not exist or is not readable")
            }
            try refuseStockAssetsFile(filePath)
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(filePath)))
            } catch {
                throw MediaError(
                    .invalidConfiguration,
                    "configuration file \(filePath) is not valid JSON configuration: \(error)")
            }
        }
        let reader = ConfigReader(providers: providers)

        let root: String
        var rootIsDefault = false
        if let configured = try string(reader, .libraryRoot) {
            root = absolute(configured, in: workingDirectory)
        } else if FileManager.default.isWritableFile(atPath: defaultMountedRoot)
            || FileManager.default.fileExists(atPath: defaultMountedRoot + "/" + LibraryRoot.markerName)
        {
            // A library there counts for a reader too (a member of the library's group, who
            // cannot write the root).
            root = defaultMountedRoot
            rootIsDefault = true
        } else {
            root = absolute(developmentRoot, in: workingDirectory)
            rootIsDefault = true
        }

        var databaseURL: DatabaseURL?
        if let text = try string(reader, .databaseURL) {
            databaseURL = try DatabaseURL.parse(text, defaultUser: currentUserName())
        }

        let drop = try string(reader, .dropDirectory).map { absolute($0, in: workingDirectory) }

        var budget = defaultBudgetBytes
        if let bytes = try size(reader, .budgetBytes) {
            guard bytes > 0 else {
                throw MediaError(.invalidConfiguration, "media.budgetBytes (MEDIA_BUDGET_BYTES) must be more than 0")
            }
            budget = bytes
        }
        var pixelLimit = defaultPixelLimit
        if let limit = try count(reader, .pixelLimit) {
            pixelLimit = limit
        }
        var configuration = LibraryConfiguration(
            libraryRoot: root, databaseURL: databaseURL, dropDirectory: drop,
            budgetBytes: budget, pixelLimit: pixelLimit, configFile: filePath)
        configuration.libraryRootIsDefault = rootIsDefault
        configuration.daemon = try daemonSettings(reader)
        if let limit = try count(reader, .databaseMaxConnections) {
            guard maxConnectionsRange.contains(Int(limit)) else {
                throw MediaError(
                    .invalidConfiguration,
                    "database.maxConnections (MEDIA_DB_MAX_CONNECTIONS) is \(limit); use \(maxConnectionsRange.lowerBound) "
                        + "to \(maxConnectionsRange.upperBound)")
            }
            configuration.databaseMaxConnections = Int(limit)
        }
        try gcSettings(reader, into: &configuration)
        if let fileKeywords = try flag(reader, .fileKeywords) { configuration.fileKeywords = fileKeywords }
        try optimizeSettings(reader, into: &configuration)
        if let wordNet = try string(reader, .wordNet) {
            let off = ["off", "false", "no", "0", ""].contains(wordNet.trimmingCharacters(in: .whitespaces).lowercased())
            configuration.wordNetDirectory = off ? nil : absolute(wordNet, in: workingDirectory)
        }
        return configuration
    }

    private static func optimizeSettings(
        _ reader: ConfigReader, into configuration: inout LibraryConfiguration
    ) throws(MediaError) {
        if let text = try string(reader, .optimize) {
            let word = text.trimmingCharacters(in: .whitespaces).lowercased()
            guard let mode = OptimizeMode(rawValue: word == "false" || word == "no" ? "off" : word) else {
                throw MediaError(
                    .invalidConfiguration,
                    "media.optimize (MEDIA_OPTIMIZE) is \"\(text)\"; use off or lossless (lossy re-encoding is only "
                        + "`mediaq optimize --reencode-video`)")
            }
            configuration.optimize = mode
        }
        // A JSON number in the file, a string in the environment.
        let number = try? reader.requiredDouble(forKey: ConfigKey(ConfigurationKey.optimizeMinSaving.rawValue))
        var given = number.map { "\($0)" }
        if given == nil { given = try string(reader, .optimizeMinSaving) }
        if let text = given {
            guard let share = Double(text.trimmingCharacters(in: .whitespaces)), share >= 0, share <= 0.9 else {
                throw MediaError(
                    .invalidConfiguration,
                    "media.optimizeMinSaving (MEDIA_OPTIMIZE_MIN_SAVING) is \"\(text)\"; use a share from 0 to 0.9 (0.02 is 2 %)")
            }
            configuration.optimizeMinSaving = share
        }
        if let seconds = try count(reader, .optimizeTimeoutSeconds) {
            guard optimizeTimeoutRange.contains(seconds) else {
                throw MediaError(
                    .invalidConfiguration,
                    "media.optimizeTimeoutSeconds (MEDIA_OPTIMIZE_TIMEOUT_SECONDS) is \(seconds); use 1 to 86400 seconds")
            }
            configuration.optimizeTimeout = .seconds(seconds)
        }
    }

    /// The pipeline's stock-assets.json given where the library's file belongs (`plan --config`
    /// meant it before `--stock-config`) would be read as a library configuration with no keys:
    /// every default, silently. It is named instead.
    static func refuseStockAssetsFile(_ path: String) throws(MediaError) {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            object["localLibrary"] != nil || object["library"] == nil && object["providers"] != nil
        else { return }
        throw MediaError(
            .invalidConfiguration,
            "configuration file \(path) is the pipeline's stock-assets.json (it has a localLibrary block), not the "
                + "library's configuration; give it to `mediaq plan` or `mediaq search` as --stock-config")
    }

    private static func gcSettings(_ reader: ConfigReader, into configuration: inout LibraryConfiguration) throws(MediaError) {
        if let bytes = try size(reader, .reserveBytes, allowingZero: true) { configuration.reserveBytes = bytes }
        if let percent = try count(reader, .gcLowWaterPercent) {
            guard percent <= 100 else {
                throw MediaError(
                    .invalidConfiguration, "gc.lowWaterPercent (MEDIA_GC_LOW_WATER_PERCENT) is \(percent); at most 100")
            }
            configuration.gcLowWaterPercent = Int(percent)
        }
        if let text = try string(reader, .gcKeepPerProvider) {
            guard let caps = parseKeepCaps(text) else {
                throw MediaError(
                    .invalidConfiguration,
                    "gc.keepPerProvider (MEDIA_GC_KEEP_PER_PROVIDER) is '\(text)'; write provider=count pairs "
                        + "separated by commas, e.g. pexels=500,unsplash=200")
            }
            configuration.gcKeepPerProvider = caps
        }
    }

    /// `pexels=500,unsplash=200` as a dictionary; nil when malformed.
    public static func parseKeepCaps(_ text: String) -> [String: Int]? {
        var caps: [String: Int] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, let count = Int(parts[1].trimmingCharacters(in: .whitespaces)), count >= 0 else {
                return nil
            }
            let provider = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            guard !provider.isEmpty else { return nil }
            caps[provider] = count
        }
        return caps
    }

    private static func daemonSettings(_ reader: ConfigReader) throws(MediaError) -> DaemonSettings {
        var daemon = DaemonSettings()
        if let workers = try count(reader, .workers) {
            guard workers <= 256 else {
                throw MediaError(.invalidConfiguration, "daemon.workers (MEDIAD_WORKERS) is \(workers); at most 256")
            }
            daemon.workers = Int(workers)
        }
        if let grace = try count(reader, .sidecarGraceMs, allowingZero: true) { daemon.sidecarGrace = .milliseconds(grace) }
        if let days = try count(reader, .receiptDays) { daemon.receiptRetention = .seconds(days * 86_400) }
        if let level = try string(reader, .logLevel) {
            guard let parsed = DaemonSettings.LogLevel(rawValue: level.lowercased()) else {
                throw MediaError(
                    .invalidConfiguration,
                    "daemon.logLevel (MEDIAD_LOG_LEVEL) is '\(level)'; use one of "
                        + DaemonSettings.LogLevel.allCases.map(\.rawValue).joined(separator: ", "))
            }
            daemon.logLevel = parsed
        }
        if let seconds = try count(reader, .decodeTimeoutSeconds) { daemon.decodeTimeout = .seconds(seconds) }
        if let bytes = try size(reader, .decoderMemoryBytes) {
            guard bytes >= 256 * 1024 * 1024 else {
                throw MediaError(
                    .invalidConfiguration, "daemon.decoderMemoryBytes (MEDIAD_DECODER_MEMORY_BYTES) must be at least 256MiB")
            }
            daemon.decoderMemoryBytes = bytes
        }
        if let watch = try string(reader, .dropWatch) {
            guard let parsed = DaemonSettings.DropWatch(rawValue: watch.lowercased()) else {
                throw MediaError(
                    .invalidConfiguration,
                    "daemon.dropWatch (MEDIAD_DROP_WATCH) is '\(watch)'; use one of "
                        + DaemonSettings.DropWatch.allCases.map(\.rawValue).joined(separator: ", "))
            }
            daemon.dropWatch = parsed
        }
        if let interval = try count(reader, .dropPollMs) {
            guard (100...600_000).contains(interval) else {
                throw MediaError(
                    .invalidConfiguration, "daemon.dropPollMs (MEDIAD_DROP_POLL_MS) is \(interval); use 100 to 600000")
            }
            daemon.dropPollInterval = .milliseconds(interval)
        }
        if let hours = try count(reader, .learnTagsHours, allowingZero: true) {
            guard DaemonSettings.learnTagsHoursRange.contains(Int(hours)) else {
                throw MediaError(
                    .invalidConfiguration,
                    "daemon.learnTagsHours (MEDIAD_LEARN_TAGS_HOURS) is \(hours); use 0 (never) to "
                        + "\(DaemonSettings.learnTagsHoursRange.upperBound)")
            }
            daemon.learnTagsHours = Int(hours)
        }
        return daemon
    }

    private static func string(_ reader: ConfigReader, _ key: ConfigurationKey) throws(MediaError) -> String? {
        do {
            let value = try reader.requiredString(forKey: ConfigKey(key.rawValue))
            return value.isEmpty ? nil : value
        } catch {
            if isMissing(error) { return nil }
            throw MediaError(
                .invalidConfiguration,
                "\(key.rawValue) (\(key.environmentName)) must be a string: \(error)")
        }
    }

    /// A JSON boolean, or (from the environment) `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
    private static func flag(_ reader: ConfigReader, _ key: ConfigurationKey) throws(MediaError) -> Bool? {
        if let value = try? reader.requiredBool(forKey: ConfigKey(key.rawValue)) { return value }
        guard let text = try string(reader, key) else { return nil }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default:
            throw MediaError(
                .invalidConfiguration, "\(key.rawValue) (\(key.environmentName)) is '\(text)'; use true or false")
        }
    }

    /// A size may be a JSON number of bytes or a string with a unit.
    private static func size(
        _ reader: ConfigReader, _ key: ConfigurationKey, allowingZero: Bool = false
    ) throws(MediaError) -> Int64? {
        if let bytes = try? reader.requiredInt(forKey: ConfigKey(key.rawValue)) {
            return Int64(bytes)
        }
        if allowingZero, let text = try string(reader, key), text.trimmingCharacters(in: .whitespaces) == "0" { return 0 }
        guard let text = try string(reader, key) else { return nil }
        guard let bytes = ByteCount.parse(text) else {
            throw MediaError(
                .invalidConfiguration,
                "\(key.rawValue) (\(key.environmentName)) is '\(text)', which is not a size; "
                    + "write bytes or a number with a unit, e.g. 300GB or 1.5TiB")
        }
        return bytes
    }

    /// A positive (or, with `allowingZero`, non-negative) whole number: a JSON number or a
    /// string of digits.
    private static func count(
        _ reader: ConfigReader, _ key: ConfigurationKey, allowingZero: Bool = false
    ) throws(MediaError) -> Int64? {
        let lowest: Int64 = allowingZero ? 0 : 1
        if let value = try? reader.requiredInt(forKey: ConfigKey(key.rawValue)), Int64(value) >= lowest {
            return Int64(value)
        }
        guard let text = try string(reader, key) else { return nil }
        guard let value = Int64(text.replacingOccurrences(of: "_", with: "")), value >= lowest else {
            throw MediaError(
                .invalidConfiguration,
                "\(key.rawValue) (\(key.environmentName)) is '\(text)', which is not a "
                    + (allowingZero ? "whole number of 0 or more" : "positive whole number"))
        }
        return value
    }

    private static func isMissing(_ error: any Error) -> Bool {
        String(describing: error).hasPrefix("Missing required config value")
    }

    public static func absolute(_ path: String, in directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        return FilePath(joined).lexicallyNormalized().string
    }

    package static func currentUserName() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return ProcessInfo.processInfo.environment["USER"] ?? "postgres"
    }
}
