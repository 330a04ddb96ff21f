public import Foundation

/// One search: which assets qualify and how they are ranked (see `Scoring`).
public struct SearchRequest: Sendable, Equatable {
    public var kind: MediaFormat.Kind
    public var tags: QueryTags
    public var minWidth: Int
    public var minHeight: Int
    /// Videos only: at least this long.
    public var minDurationMs: Int64?
    /// Desired displayed aspect, width / height.
    public var aspect: Double?
    /// Only assets with a source from this provider (lowercase).
    public var provider: String?
    public var limit: Int
    public var recencyBoost: Double
    /// Assets that may not be returned (already picked in the same plan).
    public var excluding: Set<Int64>
    /// The moment days since last use are counted to.
    public var asOf: Date
    /// Exact tags only, or the fallback through related tags (`RelatedTags`).
    public var matching: TagMatching

    public static let defaultLimit = 20
    public static let maximumLimit = 1000
    /// Most query tags a search takes.
    public static let maximumTags = 32

    public init(
        kind: MediaFormat.Kind, tags: QueryTags, minWidth: Int = 0, minHeight: Int = 0, minDurationMs: Int64? = nil,
        aspect: Double? = nil, provider: String? = nil, limit: Int = defaultLimit,
        recencyBoost: Double = Scoring.defaultRecencyBoost, excluding: Set<Int64> = [], asOf: Date = Date(),
        matching: TagMatching = .exact
    ) {
        self.kind = kind
        self.tags = tags
        self.minWidth = minWidth
        self.minHeight = minHeight
        self.minDurationMs = minDurationMs
        self.aspect = aspect
        self.provider = provider
        self.limit = limit
        self.recencyBoost = recencyBoost
        self.excluding = excluding
        self.asOf = asOf
        self.matching = matching
    }

    /// Seconds as given to `--min-duration` or in a script, as whole milliseconds (rounded up,
    /// so a 4.0005 s segment is not filled by a 4.000 s clip).
    public static func milliseconds(seconds: Double) -> Int64 {
        // Through whole microseconds first: 1.1 × 1000 is 1100.0000000000002 in binary.
        let microseconds = (seconds * 1_000_000).rounded()
        return Int64((microseconds / 1000).rounded(.up))
    }

    /// Refuses what the SQL cannot answer sensibly, naming the option.
    public func validate() throws(MediaError) {
        func bad(_ text: String) -> MediaError { MediaError(.invalidRequest, text) }
        if tags.isEmpty { throw bad("give at least one tag (--tags); tags that normalise to nothing do not count") }
        // The SQL counts matched tags as bits of a 64-bit mask.
        if tags.count > Self.maximumTags { throw bad("give at most \(Self.maximumTags) tags") }
        if minWidth < 0 || minHeight < 0 { throw bad("--min-width and --min-height must be 0 or more") }
        if let minDurationMs, minDurationMs < 0 { throw bad("--min-duration must be 0 or more") }
        if minDurationMs != nil && kind != .video { throw bad("--min-duration applies to videos only") }
        if let aspect, !(aspect.isFinite && aspect > 0) { throw bad("--aspect must be a positive ratio such as 9:16") }
        if !(1...Self.maximumLimit).contains(limit) { throw bad("--limit must be between 1 and \(Self.maximumLimit)") }
        if !(recencyBoost.isFinite && (0...1).contains(recencyBoost)) {
            throw bad("the recency boost must be a number from 0 to 1")
        }
    }
}

/// How query tags match stored tags.
public enum TagMatching: String, Sendable, Equatable, Codable {
    /// A query tag's forms, diacritics folded.
    case exact
    /// Those, and the tags related to them (synonyms, broader and narrower words, the
    /// library's co-occurrences, operator aliases), each counting less than an exact match.
    case related
}

/// Aspect ratios as people write them: `9:16`, `16/9` or a decimal such as `0.5625`.
public enum AspectRatio {
    public static func parse(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for separator in [":", "/", "x"] where trimmed.contains(separator) {
            let parts = trimmed.split(separator: Character(separator), omittingEmptySubsequences: false)
            guard parts.count == 2, let width = Double(parts[0].trimmingCharacters(in: .whitespaces)),
                let height = Double(parts[1].trimmingCharacters(in: .whitespaces)),
                width.isFinite, height.isFinite, width > 0, height > 0
            else { return nil }
            return width / height
        }
        guard let value = Double(trimmed), value.isFinite, value > 0 else { return nil }
        return value
    }
}
