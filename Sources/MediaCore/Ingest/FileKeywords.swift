/// Keywords written into a file by its photographer or agency (IPTC, XMP, EXIF; read by the
/// decoder, see MediaCodecs' `EmbeddedKeywords`) become the asset's tags at ingest, normalised
/// as every tag is. The provenance that brought the file records which tags they were
/// (`file_keywords`, migration 0008), so a person can tell them from the sidecar's.
public enum FileKeywords {
    /// At most this many keywords are read from a file, and at most this many tags are kept
    /// from them: a keyword may be a list (`beach; sea`) that normalising splits.
    public static let maximumCount = 64

    /// The tags a file's keywords give, normalised and capped; nil when none.
    public static func tags(from keywords: [String]?) -> [String]? {
        let tags = Array(TagNormalizer.normalize(keywords ?? []).prefix(maximumCount))
        return tags.isEmpty ? nil : tags
    }

    /// The request's tags, then the file's that are not among them.
    static func merged(_ tags: [String], with fileTags: [String]?) -> [String] {
        var seen = Set(tags)
        return tags + (fileTags ?? []).filter { seen.insert($0).inserted }
    }
}
