public import Foundation

/// One search result: the asset, where it is, where it came from, and its score with the parts.
public struct ScoredAsset: Sendable, Encodable, Equatable {
    public let id: Int64
    public let kind: MediaFormat.Kind
    public let sha256: String
    /// Relative to LIBRARY_ROOT.
    public let path: String
    public let absolutePath: String
    public let thumbPath: String?
    public let absoluteThumbPath: String?
    public let width: Int
    public let height: Int
    public let durationMs: Int64?
    /// Every tag of the asset, sorted.
    public let tags: [String]
    /// The provider of the asset's first recorded source (or of the source the search was
    /// filtered by), and that source's URL.
    public let provider: String?
    public let sourceUrl: String?
    public let lastUsedAt: Date?
    public let createdAt: Date
    public let score: Double
    public let scoreParts: Scoring.Parts
    /// Each query tag the asset matched: through which of its tags, exactly or by which
    /// relation, in query order.
    public internal(set) var matchedVia: [MatchedVia] = []

    enum CodingKeys: String, CodingKey {
        case id, kind, sha256, path, absolutePath, thumbPath, absoluteThumbPath, width, height, durationMs, tags
        case provider, sourceUrl, lastUsedAt, createdAt, score, scoreParts, matchedVia
    }

    /// Every key always, `null` when absent: the pipeline reads a fixed shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(path, forKey: .path)
        try container.encode(absolutePath, forKey: .absolutePath)
        try container.encode(thumbPath, forKey: .thumbPath)
        try container.encode(absoluteThumbPath, forKey: .absoluteThumbPath)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(tags, forKey: .tags)
        try container.encode(provider, forKey: .provider)
        try container.encode(sourceUrl, forKey: .sourceUrl)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(score, forKey: .score)
        try container.encode(scoreParts, forKey: .scoreParts)
        try container.encode(matchedVia, forKey: .matchedVia)
    }
}
