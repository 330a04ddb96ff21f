public import MediaCore

/// The grid's query string, checked: what `/` and `/api/search` were asked.
public struct GridQuery: Sendable, Equatable {
    public static let pageSize = 60
    /// Search pages reach as deep as search's limit.
    public static let maximumPage = SearchRequest.maximumLimit / pageSize

    public var tags: String?
    public var kind: MediaFormat.Kind?
    public var provider: String?
    public var minWidth = 0
    public var minHeight = 0
    public var minDurationSeconds: Double?
    public var aspect: String?
    public var listing: BrowseRequest.Listing = .offered
    public var exact = false
    /// Browsing: the keyset (ids below this one).
    public var before: Int64?
    /// Searching: the page, 1 to `maximumPage`.
    public var page = 1

    /// Reads the fields; a value that is not what its field takes is a `MediaError`
    /// (`invalid_request`, so a 400) naming it. Unknown fields are ignored.
    public init(_ fields: FormFields) throws(MediaError) {
        func bad(_ text: String) -> MediaError { MediaError(.invalidRequest, text) }
        tags = fields["q"]
        if let kind = fields["kind"] {
            switch kind {
            case "videos", "video": self.kind = .video
            case "images", "image": self.kind = .image
            case "all": self.kind = nil
            default: throw bad("kind must be videos, images or all")
            }
        }
        provider = fields["provider"]?.lowercased()
        if let text = fields["min-width"] {
            guard let value = Int(text), (0...1_000_000).contains(value) else { throw bad("min-width must be a number of pixels") }
            minWidth = value
        }
        if let text = fields["min-height"] {
            guard let value = Int(text), (0...1_000_000).contains(value) else { throw bad("min-height must be a number of pixels") }
            minHeight = value
        }
        if let text = fields["min-duration"] {
            guard let value = Double(text), value.isFinite, (0...1_000_000).contains(value) else {
                throw bad("min-duration must be a number of seconds")
            }
            minDurationSeconds = value
        }
        if let text = fields["aspect"] {
            guard AspectRatio.parse(text) != nil else { throw bad("aspect must be a ratio such as 9:16") }
            aspect = text
        }
        if let text = fields["listing"] {
            guard let value = BrowseRequest.Listing(rawValue: text) else { throw bad("listing must be offered, hidden or lost") }
            listing = value
        }
        exact = fields["exact"] != nil
        if let text = fields["before"] {
            guard let value = Int64(text), value > 0 else { throw bad("before must be an asset id") }
            before = value
        }
        if let text = fields["page"] {
            guard let value = Int(text), (1...Self.maximumPage).contains(value) else {
                throw bad("page must be 1 to \(Self.maximumPage): a search ranks at most \(SearchRequest.maximumLimit) results")
            }
            page = value
        }
        if minDurationSeconds != nil && kind == .image { throw bad("min-duration applies to videos only") }
        if tags != nil && listing != .offered { throw bad("search offers what is neither hidden nor lost; list those without tags") }
    }

    /// The search for one kind, when tags were given: the results up to this page.
    public func searchRequest(kind: MediaFormat.Kind) throws(MediaError) -> SearchRequest? {
        guard let tags else { return nil }
        let request = SearchRequest(
            kind: kind, tags: QueryTags([tags]), minWidth: minWidth, minHeight: minHeight,
            minDurationMs: kind == .video ? minDurationSeconds.map(SearchRequest.milliseconds(seconds:)) : nil,
            aspect: aspect.flatMap(AspectRatio.parse), provider: provider, limit: page * Self.pageSize)
        try request.validate()
        return request
    }

    public var browseRequest: BrowseRequest {
        BrowseRequest(
            kind: kind, provider: provider, minWidth: minWidth, minHeight: minHeight,
            minDurationMs: minDurationSeconds.map(SearchRequest.milliseconds(seconds:)), listing: listing, before: before,
            limit: Self.pageSize)
    }

    /// The fields again, for links to other pages of the same query.
    func fields(before: Int64? = nil, page: Int? = nil) -> [(String, String?)] {
        [
            ("q", tags), ("kind", kind.map { $0 == .video ? "videos" : "images" }), ("provider", provider),
            ("min-width", minWidth > 0 ? String(minWidth) : nil), ("min-height", minHeight > 0 ? String(minHeight) : nil),
            ("min-duration", minDurationSeconds.map { String($0) }), ("aspect", aspect),
            ("listing", listing == .offered ? nil : listing.rawValue), ("exact", exact ? "on" : nil),
            ("before", before.map(String.init)), ("page", page.map(String.init)),
        ]
    }
}
