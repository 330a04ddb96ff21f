public import Foundation

/// The `localLibrary` block of the pipeline's `config/stock-assets.json`: whether gather looks
/// in the library first, how many local matches make a media type "covered", how many to take,
/// and the recency boost of the ranking.
///
/// | key                           | type            | default | rule |
/// |-------------------------------|-----------------|---------|------|
/// | `localLibrary.enabled`        | boolean         | `true`  | `false`: plan searches nothing and lists everything as missing |
/// | `localLibrary.minMatches.videos` | whole number | `1`     | 1 to 100 |
/// | `localLibrary.minMatches.images` | whole number | `3`     | 1 to 100 |
/// | `localLibrary.limit.videos`   | whole number    | `3`     | 1 to 100, at least `minMatches.videos` |
/// | `localLibrary.limit.images`   | whole number    | `5`     | 1 to 100, at least `minMatches.images` |
/// | `localLibrary.preferRecencyBoost` | number      | `0.1`   | 0 to 1: favours assets not used recently |
/// | `localLibrary.minTagShare`    | number          | `0.5`   | 0 to 1: a pick carries at least this share of the segment's tags (and at least one) |
/// | `localLibrary.minScore`       | number or null  | `null`  | 0 or more: a pick scores at least this |
/// | `localLibrary.pinHours`       | number          | `24`    | 0.01 to 8760: how long `--pin RUN` holds assets from GC |
/// | `localLibrary.relatedTags`    | boolean         | `true`  | when exact matches fall short, search again with related tags (`false`, or `plan --exact`: never) |
///
/// The rest of the file is the pipeline's and is not read. A missing key takes its default; a
/// key inside `localLibrary` that is not one of these is an error, so a typo is not silently
/// ignored. Every error names the file and the key.
public struct LocalLibrarySettings: Sendable, Equatable {
    public struct PerKind: Sendable, Equatable, Encodable {
        public var videos: Int
        public var images: Int

        public init(videos: Int, images: Int) {
            self.videos = videos
            self.images = images
        }

        public subscript(kind: MediaFormat.Kind) -> Int {
            kind == .video ? videos : images
        }
    }

    public var enabled = true
    public var minMatches = PerKind(videos: 1, images: 3)
    public var limit = PerKind(videos: 3, images: 5)
    public var preferRecencyBoost = Scoring.defaultRecencyBoost
    /// The quality floor: only picks above it count toward `minMatches`.
    public var minTagShare = 0.5
    public var minScore: Double?
    /// How long a pin (`plan`/`use`/`known`/`export --pin RUN`) holds its assets.
    public var pinHours = 24.0
    /// The fallback through related tags when exact matches do not clear the floor.
    public var relatedTags = true
    /// The file the settings came from; `nil` for the defaults.
    public var file: String?

    public init() {}

    /// Where the pipeline keeps the file, relative to its working directory.
    public static let defaultFile = "config/stock-assets.json"
    static let keys = ["enabled", "minMatches", "limit", "preferRecencyBoost", "minTagShare", "minScore", "pinHours", "relatedTags"]
    /// `pinHours`' range: at least 36 s, at most a year.
    public static let pinHoursRange = 0.01...8760.0
    static let countRange = 1...100

    /// The settings from `explicitFile` (which must exist), else from `config/stock-assets.json`
    /// in `workingDirectory` when that exists, else the defaults.
    public static func load(explicitFile: String?, workingDirectory: String) throws(MediaError) -> LocalLibrarySettings {
        let path: String
        if let explicitFile {
            path = LibraryConfiguration.absolute(explicitFile, in: workingDirectory)
        } else {
            path = LibraryConfiguration.absolute(defaultFile, in: workingDirectory)
            guard FileManager.default.fileExists(atPath: path) else { return LocalLibrarySettings() }
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw MediaError(.invalidConfiguration, "configuration file \(path) cannot be read: \(error.localizedDescription)")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws(MediaError) -> LocalLibrarySettings {
        func bad(_ text: String) -> MediaError { MediaError(.invalidConfiguration, "\(file): \(text)") }
        let document: JSONValue
        do {
            document = try JSONValue.parse(data)
        } catch {
            throw bad("not valid JSON")
        }
        guard case .object(let top) = document else { throw bad("must be a JSON object") }
        var settings = LocalLibrarySettings()
        settings.file = file
        guard let block = top["localLibrary"] else { return settings }
        guard case .object(let fields) = block else { throw bad("localLibrary must be an object, not \(block.described)") }
        for key in fields.keys.sorted() where !keys.contains(key) {
            throw bad("localLibrary.\(key) is not a setting; the settings are \(keys.joined(separator: ", "))")
        }
        if let value = fields["enabled"] {
            guard case .bool(let enabled) = value else {
                throw bad("localLibrary.enabled must be true or false, not \(value.described)")
            }
            settings.enabled = enabled
        }
        if let value = fields["minMatches"] {
            settings.minMatches = try perKind(value, "localLibrary.minMatches", defaults: settings.minMatches, bad)
        }
        if let value = fields["limit"] {
            settings.limit = try perKind(value, "localLibrary.limit", defaults: settings.limit, bad)
        }
        if let value = fields["preferRecencyBoost"] {
            guard case .number(let boost) = value, (0...1).contains(boost) else {
                throw bad("localLibrary.preferRecencyBoost must be a number from 0 to 1, not \(value.described)")
            }
            settings.preferRecencyBoost = boost
        }
        if let value = fields["minTagShare"] {
            guard case .number(let share) = value, (0...1).contains(share) else {
                throw bad("localLibrary.minTagShare must be a number from 0 to 1, not \(value.described)")
            }
            settings.minTagShare = share
        }
        if let value = fields["minScore"], value != .null {
            guard case .number(let score) = value, score >= 0, score.isFinite else {
                throw bad("localLibrary.minScore must be a number, 0 or more, or null, not \(value.described)")
            }
            settings.minScore = score
        }
        if let value = fields["relatedTags"] {
            guard case .bool(let related) = value else {
                throw bad("localLibrary.relatedTags must be true or false, not \(value.described)")
            }
            settings.relatedTags = related
        }
        if let value = fields["pinHours"] {
            guard case .number(let hours) = value, pinHoursRange.contains(hours) else {
                throw bad("localLibrary.pinHours must be a number of hours from 0.01 to 8760, not \(value.described)")
            }
            settings.pinHours = hours
        }
        for (kind, name) in [(MediaFormat.Kind.video, "videos"), (.image, "images")]
        where settings.limit[kind] < settings.minMatches[kind] {
            throw bad(
                "localLibrary.limit.\(name) (\(settings.limit[kind])) must be at least localLibrary.minMatches.\(name) "
                    + "(\(settings.minMatches[kind])): a covered media type takes at least minMatches assets")
        }
        return settings
    }

    /// The pin lifetime: `--pin-hours` when given, else `pinHours`.
    public func pinLifetime(hours override: Double?) -> Duration {
        .milliseconds(Int64(((override ?? pinHours) * 3_600_000).rounded()))
    }

    private static func perKind(
        _ value: JSONValue, _ key: String, defaults: PerKind, _ bad: (String) -> MediaError
    ) throws(MediaError) -> PerKind {
        guard case .object(let fields) = value else {
            throw bad("\(key) must be an object such as {\"videos\": 1, \"images\": 3}, not \(value.described)")
        }
        for name in fields.keys.sorted() where name != "videos" && name != "images" {
            throw bad("\(key).\(name) is not a media type; use videos and images")
        }
        var result = defaults
        for (name, path) in [("videos", \PerKind.videos), ("images", \PerKind.images)] {
            guard let field = fields[name] else { continue }
            guard let count = field.integer, countRange.contains(count) else {
                throw bad(
                    "\(key).\(name) must be a whole number from \(countRange.lowerBound) to \(countRange.upperBound), "
                        + "not \(field.described)")
            }
            result[keyPath: path] = count
        }
        return result
    }
}
