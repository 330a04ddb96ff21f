public import Foundation
public import MediaCore

// The ranking of search computed in memory, the reference the SQL is tested against
// (SearchSQLTests' property test, PlanTests). docs/search.md states the same formula.

/// One asset as the reference ranking sees it: what the SQL reads from its rows.
public struct RankingCandidate: Sendable, Equatable {
    public var id: Int64
    public var kind: MediaFormat.Kind
    public var present: Bool
    public var width: Int
    public var height: Int
    public var durationMs: Int64?
    public var tags: Set<String>
    public var providers: Set<String>
    public var createdAt: Date
    public var lastUsedAt: Date?
    /// The operator's stars, 0 to 5.
    public var rating: Int

    public init(
        id: Int64, kind: MediaFormat.Kind, present: Bool = true, width: Int, height: Int, durationMs: Int64? = nil,
        tags: Set<String>, providers: Set<String> = [], createdAt: Date, lastUsedAt: Date? = nil, rating: Int = 0
    ) {
        self.id = id
        self.kind = kind
        self.present = present
        self.width = width
        self.height = height
        self.durationMs = durationMs
        self.tags = tags
        self.providers = providers
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.rating = rating
    }

    /// Never used counts as used when added.
    public var lastUse: Date { lastUsedAt ?? createdAt }
}

extension Scoring {
    /// The reference ranking: what `SearchRepository.search` returns, computed in memory; with
    /// `related` (the relations of the request's tags), what its fallback returns.
    public static func rank(
        _ candidates: [RankingCandidate], for request: SearchRequest, related: RelatedTags? = nil
    ) -> [(id: Int64, parts: Parts)] {
        let query = request.tags
        guard !query.isEmpty else { return [] }
        var scored: [(candidate: RankingCandidate, parts: Parts)] = []
        let admitted = candidates.filter(request.admits)
        // The fallback reads each related tag's `rowsPerTag` least recently used assets only.
        var reached: [String: Set<Int64>] = [:]
        if let related {
            let relatedKeys = Set(related.expansions.flatMap(\.keys))
            let storedTags = Set(admitted.flatMap(\.tags)).filter { relatedKeys.contains(TagFolding.fold($0)) }
            for tag in storedTags {
                let carrying = admitted.filter { $0.tags.contains(tag) }.sorted { ($0.lastUse, $0.id) < ($1.lastUse, $1.id) }
                reached[tag] = Set(carrying.prefix(related.rowsPerTag).map(\.id))
            }
        }
        for candidate in admitted {
            let days = days(from: candidate.lastUse, to: request.asOf)
            let parts: Parts
            if let related {
                // Per query tag: 1 through an exact form (every asset); else the best related
                // tag through which this asset was reached.
                let values = related.query.terms.indices.map { index -> Double in
                    if candidate.tags.contains(where: { related.query.matches($0, term: index) }) { return 1 }
                    return candidate.tags.compactMap { tag -> Double? in
                        guard reached[tag]?.contains(candidate.id) == true else { return nil }
                        return related.expansions[index][TagFolding.fold(tag)]?.value
                    }.max() ?? 0
                }
                guard values.contains(where: { $0 > 0 }) else { continue }
                parts = Self.parts(
                    values: values, daysSinceLastUse: days, recencyBoost: request.recencyBoost, width: candidate.width,
                    height: candidate.height, desiredAspect: request.aspect, rating: candidate.rating)
            } else {
                let matched = query.matches(in: candidate.tags)
                guard matched > 0 else { continue }
                parts = Self.parts(
                    matched: matched, queryCount: query.count, daysSinceLastUse: days,
                    recencyBoost: request.recencyBoost, width: candidate.width, height: candidate.height,
                    desiredAspect: request.aspect, rating: candidate.rating)
            }
            scored.append((candidate, parts))
        }
        scored.sort { a, b in
            // The fallback: all query tags carried exactly first.
            if related != nil, (a.parts.tagAnd == 1) != (b.parts.tagAnd == 1) { return a.parts.tagAnd == 1 }
            return ranksBefore(a.candidate, a.parts.score, b.candidate, b.parts.score)
        }
        return scored.prefix(request.limit).map { ($0.candidate.id, $0.parts) }
    }

    /// The order: score, then pixels, then the more recent last use, then the lower id.
    public static func ranksBefore(_ a: RankingCandidate, _ scoreA: Double, _ b: RankingCandidate, _ scoreB: Double) -> Bool {
        if scoreA != scoreB { return scoreA > scoreB }
        let pixelsA = Int64(a.width) * Int64(a.height)
        let pixelsB = Int64(b.width) * Int64(b.height)
        if pixelsA != pixelsB { return pixelsA > pixelsB }
        if a.lastUse != b.lastUse { return a.lastUse > b.lastUse }
        return a.id < b.id
    }
}

extension SearchRequest {
    /// The filters, without the tag match.
    public func admits(_ candidate: RankingCandidate) -> Bool {
        candidate.present && candidate.kind == kind && candidate.width >= minWidth && candidate.height >= minHeight
            && (minDurationMs == nil || (candidate.durationMs ?? 0) >= minDurationMs!)
            && !excluding.contains(candidate.id)
            && (provider == nil || candidate.providers.contains(provider!))
    }
}
