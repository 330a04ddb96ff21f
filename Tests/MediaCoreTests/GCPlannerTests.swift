import Foundation
@testable import MediaCore
import MediaTestSupport
import Testing

/// GC's pure decision: table tests, no database.
struct GCPlannerTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func asset(
        _ id: Int64, daysAgo: Double, bytes: Int64 = 100, thumb: Int64 = 10, provider: String = "pexels",
        kind: MediaFormat.Kind = .image, pinnedFor: Double? = nil
    ) -> GCCandidate {
        GCCandidate(
            id: id, kind: kind, provider: provider, originalBytes: bytes, thumbnailBytes: thumb,
            lastUsed: now.addingTimeInterval(-daysAgo * 86_400),
            pinnedUntil: pinnedFor.map { now.addingTimeInterval($0) })
    }

    static func plan(_ candidates: [GCCandidate], target: Int64, keep: [String: Int] = [:]) -> GCPlan {
        let total = candidates.reduce(0) { $0 + $1.bytes }
        return GarbageCollectionPlanner.plan(
            candidates: candidates, currentBytes: total, policy: GCPolicy(targetBytes: target, keepPerProvider: keep), now: now)
    }

    @Test func leastRecentlyUsedGoFirstAcrossImagesAndVideosUntilTheTarget() {
        let candidates = [
            Self.asset(1, daysAgo: 1), Self.asset(2, daysAgo: 30, kind: .video), Self.asset(3, daysAgo: 10),
            Self.asset(4, daysAgo: 20), Self.asset(5, daysAgo: 30),
        ]
        // 550 bytes; down to 300 needs three of 110.
        let plan = Self.plan(candidates, target: 300)
        #expect(plan.victims.map(\.id) == [2, 5, 4], "oldest first, the lower id first on a tie")
        #expect(plan.freedBytes == 330 && plan.endBytes == 220 && plan.reachesTarget)
        #expect(Self.plan(candidates, target: 550).victims.isEmpty, "nothing to do at or under the target")
    }

    @Test func aLivePinHoldsItsAssetAnExpiredOneDoesNot() {
        let candidates = [
            Self.asset(1, daysAgo: 50, pinnedFor: 3600),  // live
            Self.asset(2, daysAgo: 40, pinnedFor: -60),  // expired a minute ago
            Self.asset(3, daysAgo: 30, pinnedFor: 0),  // expires now: no longer holds
            Self.asset(4, daysAgo: 1),
        ]
        let plan = Self.plan(candidates, target: 150)
        #expect(plan.victims.map(\.id) == [2, 3, 4])
        #expect(!plan.victims.contains { $0.id == 1 })
        #expect(plan.skippedPinned == 1)
        // Everything pinned: the target cannot be reached, and the plan says so.
        let pinned = Self.plan([Self.asset(1, daysAgo: 5, pinnedFor: 60)], target: 0)
        #expect(pinned.victims.isEmpty && !pinned.reachesTarget)
    }

    @Test func providerCapsKeepTheirMostRecentlyUsedAssets() {
        let candidates = [
            Self.asset(1, daysAgo: 50, provider: "pexels"), Self.asset(2, daysAgo: 40, provider: "pexels"),
            Self.asset(3, daysAgo: 30, provider: "pexels"), Self.asset(4, daysAgo: 45, provider: "unsplash"),
        ]
        // Collect everything possible; pexels keeps its 2 most recent (3 and 2).
        let plan = Self.plan(candidates, target: 0, keep: ["pexels": 2])
        #expect(plan.victims.map(\.id) == [1, 4])
        #expect(plan.skippedKept == 2)
        #expect(Self.plan(candidates, target: 0, keep: ["pexels": 0]).victims.map(\.id) == [1, 4, 2, 3])
    }

    @Test func budgetShortfallAndTargetIncludeTheReserve() {
        let budget = StorageBudget(budgetBytes: 1_000_000, reserveBytes: 500_000, lowWaterBytes: 900_000)
        let allowance = StorageBudget.thumbnailAllowance
        #expect(budget.shortfall(incoming: 1000, used: 0, free: nil) == nil)
        #expect(budget.shortfall(incoming: 1000, used: 1_000_000 - allowance - 1000, free: nil) == nil)
        #expect(budget.shortfall(incoming: 1000, used: 1_000_000 - allowance, free: nil)?.hasPrefix("over budget") == true)
        #expect(budget.shortfall(incoming: 1000, used: 0, free: 500_000)?.hasPrefix("disk nearly full") == true)
        // The low-water mark, unless even that leaves no room for the drop.
        let roomy = StorageBudget(budgetBytes: 10_000_000, reserveBytes: 500_000, lowWaterBytes: 9_000_000)
        #expect(roomy.collectionTarget(incoming: 1000, used: 9_500_000, free: nil) == 9_000_000)
        #expect(roomy.collectionTarget(incoming: 2_000_000, used: 9_500_000, free: nil) == 8_000_000 - allowance)
        // 100 kB short of the reserve: the target goes that much below the current size.
        let short = 500_000 + 1000 + allowance - 100_000
        #expect(roomy.collectionTarget(incoming: 1000, used: 8_000_000, free: short) == 7_900_000)
    }
}
