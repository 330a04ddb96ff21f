public import Foundation

/// One local pick in the manifest gather writes.
public struct ManifestEntry: Sendable, Encodable, Equatable {
    public let segmentId: String
    public let kind: MediaFormat.Kind
    /// Always `local-library`: the manifest's `source` for a reused asset.
    public let source: String
    public let libraryId: Int64
    /// Relative to LIBRARY_ROOT.
    public let path: String
    public let absolutePath: String
    public let thumbPath: String?
    public let provider: String?
    public let sourceUrl: String?
    public let sha256: String
    public let width: Int
    public let height: Int
    public let durationMs: Int64?
    public let score: Double
    /// Each segment tag the pick matched, and through what (`ScoredAsset.matchedVia`).
    public let matchedVia: [MatchedVia]

    public static let localLibrary = "local-library"

    enum CodingKeys: String, CodingKey {
        case segmentId, kind, source, libraryId, path, absolutePath, thumbPath, provider, sourceUrl, sha256
        case width, height, durationMs, score, matchedVia
    }

    /// Every key always, `null` when absent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(segmentId, forKey: .segmentId)
        try container.encode(kind, forKey: .kind)
        try container.encode(source, forKey: .source)
        try container.encode(libraryId, forKey: .libraryId)
        try container.encode(path, forKey: .path)
        try container.encode(absolutePath, forKey: .absolutePath)
        try container.encode(thumbPath, forKey: .thumbPath)
        try container.encode(provider, forKey: .provider)
        try container.encode(sourceUrl, forKey: .sourceUrl)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(score, forKey: .score)
        try container.encode(matchedVia, forKey: .matchedVia)
    }

    init(segmentId: String, asset: ScoredAsset) {
        self.segmentId = segmentId
        kind = asset.kind
        source = Self.localLibrary
        libraryId = asset.id
        path = asset.path
        absolutePath = asset.absolutePath
        thumbPath = asset.thumbPath
        provider = asset.provider
        sourceUrl = asset.sourceUrl
        sha256 = asset.sha256
        width = asset.width
        height = asset.height
        durationMs = asset.durationMs
        score = asset.score
        matchedVia = asset.matchedVia
    }
}

/// What gather still has to fetch online for one segment and media type, with the criteria
/// the local search used.
public struct MissingMedia: Sendable, Encodable, Equatable {
    public let kind: MediaFormat.Kind
    /// The segment's tags as normalised (what the library would store for a download).
    public let tags: [String]
    /// Local matches found: fewer than `minMatches`, so none was taken.
    public let localMatches: Int
    public let minMatches: Int
    /// How many a covered media type takes: the most worth fetching.
    public let limit: Int
    public let minDurationSeconds: Double?
    public let minWidth: Int
    public let minHeight: Int
    public let aspect: String?
    /// Local results the search found below the quality floor (they did not count).
    public let belowFloor: Int
    /// The best local result's score, above the floor or not; nil when there was none.
    public let bestLocalScore: Double?
    /// The segment's tags the best local result lacks.
    public let bestLocalLacks: [String]
    /// Why gather searches online, in one sentence for its log.
    public let reason: String

    enum CodingKeys: String, CodingKey {
        case kind, tags, localMatches, minMatches, limit, minDurationSeconds, minWidth, minHeight, aspect
        case belowFloor, bestLocalScore, bestLocalLacks, reason
    }

    /// Every key always, `null` when absent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(tags, forKey: .tags)
        try container.encode(localMatches, forKey: .localMatches)
        try container.encode(minMatches, forKey: .minMatches)
        try container.encode(limit, forKey: .limit)
        try container.encode(minDurationSeconds, forKey: .minDurationSeconds)
        try container.encode(minWidth, forKey: .minWidth)
        try container.encode(minHeight, forKey: .minHeight)
        try container.encode(aspect, forKey: .aspect)
        try container.encode(belowFloor, forKey: .belowFloor)
        try container.encode(bestLocalScore, forKey: .bestLocalScore)
        try container.encode(bestLocalLacks, forKey: .bestLocalLacks)
        try container.encode(reason, forKey: .reason)
    }
}

/// The floor a local result must clear to count toward `minMatches`: a share of the segment's
/// tags (at least one), every required tag, and a minimum score if one is set. Pure, so the
/// plan's decision can be checked case by case.
public struct QualityFloor: Sendable, Equatable {
    public let tags: QueryTags
    public let required: QueryTags
    public let minTagShare: Double
    public let minScore: Double?

    public init(tags: QueryTags, required: [String], minTagShare: Double, minScore: Double?) {
        self.tags = tags
        self.required = QueryTags(required)
        self.minTagShare = minTagShare
        self.minScore = minScore
    }

    /// The segment's tags a result must carry: ⌈share × |Q|⌉, and at least one.
    public var minTags: Int { max(1, Int((minTagShare * Double(tags.count)).rounded(.up))) }

    /// A segment tag counts as carried when the asset has it (a form of it, diacritics folded)
    /// or, from the fallback, a tag related to it (`matchedVia`). Required tags must be
    /// carried themselves: a relation never stands in for one.
    public func admits(_ asset: ScoredAsset) -> Bool {
        let carried = Set(asset.tags)
        guard carriedCount(asset) >= minTags else { return false }
        guard required.matches(in: carried) == required.count else { return false }
        if let minScore, asset.score < minScore { return false }
        return true
    }

    func carriedCount(_ asset: ScoredAsset) -> Int {
        let carried = Set(asset.tags)
        let related = Set(asset.matchedVia.map(\.queryTag))
        return tags.terms.indices.count { index in
            related.contains(tags.terms[index]) || carried.contains { tags.matches($0, term: index) }
        }
    }

    /// The segment's and required tags `asset` does not carry (nor, for a segment tag, a tag
    /// related to it), in the script's order.
    public func lacking(_ asset: ScoredAsset) -> [String] {
        let related = Set(asset.matchedVia.map(\.queryTag))
        var lacking: [String] = []
        for index in tags.terms.indices
        where !related.contains(tags.terms[index]) && !asset.tags.contains(where: { tags.matches($0, term: index) })
            && !lacking.contains(tags.terms[index])
        {
            lacking.append(tags.terms[index])
        }
        for index in required.terms.indices
        where !asset.tags.contains(where: { required.matches($0, term: index) }) && !lacking.contains(required.terms[index]) {
            lacking.append(required.terms[index])
        }
        return lacking
    }
}

/// The plan of one script.
public struct Plan: Sendable, Encodable, Equatable {
    public struct Segment: Sendable, Encodable, Equatable {
        public let id: String
        /// Media types filled from the library: no online search for them.
        public var covered: [MediaFormat.Kind]
        public var missing: [MissingMedia]
        /// Those of `covered` that took related tags to fill (`matchedVia` of their picks says
        /// which).
        public var coveredThroughRelatedTags: [MediaFormat.Kind] = []
    }

    public let ok = true
    /// Nothing is missing anywhere.
    public var complete: Bool { segments.allSatisfy(\.missing.isEmpty) }
    /// `localLibrary.enabled`; when false, nothing was searched.
    public let enabled: Bool
    public var manifest: [ManifestEntry]
    public var segments: [Segment]
    public var markedUsed: Bool
    public var runId: String?
    public var libraryRoot: String?

    enum CodingKeys: String, CodingKey {
        case ok, complete, enabled, manifest, segments, markedUsed, runId, libraryRoot
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(complete, forKey: .complete)
        try container.encode(enabled, forKey: .enabled)
        try container.encode(manifest, forKey: .manifest)
        try container.encode(segments, forKey: .segments)
        try container.encode(markedUsed, forKey: .markedUsed)
        try container.encode(runId, forKey: .runId)
        try container.encode(libraryRoot, forKey: .libraryRoot)
    }

    /// Every picked asset, in manifest order.
    public var pickedIds: [Int64] { manifest.map(\.libraryId) }
}

/// The gather pre-search for a whole script, as one pure decision over a search function:
///
/// For each segment in script order, for videos first (at least as long as the segment) and
/// then images, as the segment needs them: search with the segment's tags, the script's
/// minimum size and aspect, excluding every asset already picked in this plan. Results below
/// the quality floor (`QualityFloor`: a share of the segment's tags, its required tags, a
/// minimum score) do not count. When at least `minMatches` results clear the floor, the media
/// type is covered and the best `limit` of those are picked; otherwise nothing is picked for
/// it and it is listed as missing, with the criteria and the reason, for gather to fetch online.
public enum Planner {
    public typealias Search = @Sendable (SearchRequest) async throws(MediaError) -> [ScoredAsset]

    public static func plan(
        _ script: PlanScript, settings: LocalLibrarySettings, recencyBoost: Double? = nil, asOf: Date = Date(),
        search: Search
    ) async throws(MediaError) -> Plan {
        var plan = Plan(enabled: settings.enabled, manifest: [], segments: [], markedUsed: false)
        var picked: Set<Int64> = []
        for segment in script.segments {
            let tags = QueryTags(segment.tags)
            var report = Plan.Segment(id: segment.id, covered: [], missing: [])
            for kind in segment.media {
                let minDuration = kind == .video ? segment.durationSeconds.flatMap { $0 > 0 ? $0 : nil } : nil
                var found: [ScoredAsset] = []
                var lastRequest: SearchRequest?
                if settings.enabled {
                    let request = SearchRequest(
                        kind: kind, tags: tags, minWidth: script.minWidth, minHeight: script.minHeight,
                        minDurationMs: minDuration.map(SearchRequest.milliseconds(seconds:)), aspect: script.aspect,
                        limit: max(settings.limit[kind], settings.minMatches[kind]),
                        recencyBoost: recencyBoost ?? settings.preferRecencyBoost, excluding: picked, asOf: asOf)
                    lastRequest = request
                    found = try await search(request)
                }
                let floor = QualityFloor(
                    tags: tags, required: segment.requiredTags, minTagShare: settings.minTagShare, minScore: settings.minScore)
                var qualified = found.filter(floor.admits)
                if settings.enabled && settings.relatedTags && qualified.count < settings.minMatches[kind], let request = lastRequest {
                    // Exact matches fall short: related tags count too, each below an exact match
                    // (exact matches still rank first).
                    var related = request
                    related.matching = .related
                    found = try await search(related)
                    qualified = found.filter(floor.admits)
                    if qualified.count >= settings.minMatches[kind] { report.coveredThroughRelatedTags.append(kind) }
                }
                if settings.enabled && qualified.count >= settings.minMatches[kind] {
                    for asset in qualified.prefix(settings.limit[kind]) where picked.insert(asset.id).inserted {
                        plan.manifest.append(ManifestEntry(segmentId: segment.id, asset: asset))
                    }
                    report.covered.append(kind)
                } else {
                    let best = found.first
                    report.missing.append(
                        MissingMedia(
                            kind: kind, tags: tags.terms, localMatches: qualified.count, minMatches: settings.minMatches[kind],
                            limit: settings.limit[kind], minDurationSeconds: minDuration, minWidth: script.minWidth,
                            minHeight: script.minHeight, aspect: script.aspectText, belowFloor: found.count - qualified.count,
                            bestLocalScore: best?.score, bestLocalLacks: best.map(floor.lacking) ?? [],
                            reason: Self.reason(
                                kind: kind, enabled: settings.enabled, found: found, qualified: qualified.count,
                                minMatches: settings.minMatches[kind], floor: floor)))
                }
            }
            plan.segments.append(report)
        }
        return plan
    }

    /// One sentence for gather's log: why this media type is searched online.
    static func reason(
        kind: MediaFormat.Kind, enabled: Bool, found: [ScoredAsset], qualified: Int, minMatches: Int, floor: QualityFloor
    ) -> String {
        let noun = kind == .video ? "video" : "image"
        guard enabled else { return "the local library is disabled (localLibrary.enabled is false)" }
        guard !found.isEmpty else { return "no local \(noun) matches any of the tags" }
        var text = "\(qualified) local \(noun)(s) clear the quality floor, \(minMatches) needed"
        if let below = found.first(where: { !floor.admits($0) }) {
            let lacks = floor.lacking(below)
            text += "; \(found.count - qualified) below it, the best of those (score \(String(format: "%.3f", below.score)))"
            text += lacks.isEmpty ? " under localLibrary.minScore" : " lacking \(lacks.joined(separator: ", "))"
        }
        return text
    }
}
