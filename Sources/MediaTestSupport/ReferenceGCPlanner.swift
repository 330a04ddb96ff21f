public import Foundation
public import MediaCore

/// GC's decision over every asset at once, with no database and no files: global LRU across
/// images and videos. The reference `GarbageCollector.plan` (which reads pages from an index
/// and stops at the target) is tested against (GCPlanSQLTests).
public enum GarbageCollectionPlanner {
    /// - Parameters:
    ///   - candidates: every present asset, in any order.
    ///   - currentBytes: the library's size now (originals and thumbnails, as `storage_usage` counts).
    ///   - now: a pin that expires at or before `now` no longer holds its asset.
    public static func plan(candidates: [GCCandidate], currentBytes: Int64, policy: GCPolicy, now: Date) -> GCPlan {
        var builder = GCPlanBuilder(
            currentBytes: currentBytes, policy: policy, kept: kept(candidates, policy: policy), now: now)
        for candidate in candidates.sorted(by: isOlder) where !builder.isDone {
            builder.consider(candidate)
        }
        return builder.plan
    }

    /// Keep caps: each capped provider's `keep` most recently used assets are off limits.
    public static func kept(_ candidates: [GCCandidate], policy: GCPolicy) -> Set<Int64> {
        var kept: Set<Int64> = []
        guard !policy.keepPerProvider.isEmpty else { return kept }
        var byProvider: [String: [GCCandidate]] = [:]
        for candidate in candidates where policy.keepPerProvider[candidate.provider] != nil {
            byProvider[candidate.provider, default: []].append(candidate)
        }
        for (provider, assets) in byProvider {
            let keep = policy.keepPerProvider[provider] ?? 0
            let newestFirst = assets.sorted { isOlder($1, than: $0) }
            for asset in newestFirst.prefix(keep) { kept.insert(asset.id) }
        }
        return kept
    }

    /// Least recently used first; the lower id first on a tie, so the order is stable.
    public static func isOlder(_ a: GCCandidate, than b: GCCandidate) -> Bool {
        a.lastUsed != b.lastUsed ? a.lastUsed < b.lastUsed : a.id < b.id
    }
}
