public import Foundation

/// One asset as GC weighs it.
public struct GCCandidate: Sendable, Equatable {
    public let id: Int64
    public let kind: MediaFormat.Kind
    /// The provider of the asset's first source.
    public let provider: String
    public let originalBytes: Int64
    public let thumbnailBytes: Int64
    /// `last_used_at`, or `created_at` for an asset never used (it counts as last used when it
    /// was created).
    public let lastUsed: Date
    /// The latest expiry among the asset's pins, if it has any.
    public let pinnedUntil: Date?

    public init(
        id: Int64, kind: MediaFormat.Kind, provider: String, originalBytes: Int64, thumbnailBytes: Int64,
        lastUsed: Date, pinnedUntil: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.provider = provider
        self.originalBytes = originalBytes
        self.thumbnailBytes = thumbnailBytes
        self.lastUsed = lastUsed
        self.pinnedUntil = pinnedUntil
    }

    public var bytes: Int64 { originalBytes + thumbnailBytes }
}

/// What GC frees, and what it must leave.
public struct GCPolicy: Sendable, Equatable {
    /// The library size (originals and thumbnails) to reach.
    public var targetBytes: Int64
    /// Each named provider keeps at least this many of its most recently used assets.
    public var keepPerProvider: [String: Int]

    public init(targetBytes: Int64, keepPerProvider: [String: Int] = [:]) {
        self.targetBytes = targetBytes
        self.keepPerProvider = keepPerProvider
    }
}

/// The assets GC removes, least recently used first, and what that frees.
public struct GCPlan: Sendable, Equatable {
    public var victims: [GCCandidate] = []
    public var startBytes: Int64
    public var targetBytes: Int64
    /// Skipped because a live pin holds them (an in-progress gather run or plan).
    public var skippedPinned = 0
    /// Skipped because of a provider's keep cap.
    public var skippedKept = 0

    public var freedBytes: Int64 { victims.reduce(0) { $0 + $1.bytes } }
    public var endBytes: Int64 { startBytes - freedBytes }
    /// False when pins and keep caps leave too little to collect.
    public var reachesTarget: Bool { endBytes <= targetBytes }
}

/// The plan built one candidate at a time, least recently used first, so that a library of a
/// million assets is read only as far as the target needs (`GarbageCollector.plan` streams
/// them from an index in that order; the tests' reference, `GarbageCollectionPlanner` in
/// MediaTestSupport, sorts an array).
public struct GCPlanBuilder: Sendable {
    public private(set) var plan: GCPlan
    private var remaining: Int64
    private let kept: Set<Int64>
    private let now: Date

    /// `kept`: the ids the keep caps hold (each capped provider's most recently used assets).
    public init(currentBytes: Int64, policy: GCPolicy, kept: Set<Int64>, now: Date) {
        plan = GCPlan(startBytes: currentBytes, targetBytes: policy.targetBytes)
        remaining = currentBytes
        self.kept = kept
        self.now = now
    }

    /// The target is reached: later candidates need not be read.
    public var isDone: Bool { remaining <= plan.targetBytes }

    /// Weighs the next candidate; call in least-recently-used order (the older last use first,
    /// the lower id first on a tie).
    public mutating func consider(_ candidate: GCCandidate) {
        guard !isDone else { return }
        if let until = candidate.pinnedUntil, until > now {
            plan.skippedPinned += 1
            return
        }
        if kept.contains(candidate.id) {
            plan.skippedKept += 1
            return
        }
        plan.victims.append(candidate)
        remaining -= candidate.bytes
    }
}

public struct GCReport: Sendable, Encodable, Equatable {
    public struct Line: Sendable, Encodable, Equatable {
        public let provider: String
        public let kind: MediaFormat.Kind
        public var assets: Int
        public var originalBytes: Int64
        public var thumbnailBytes: Int64
    }

    public var dryRun: Bool
    public var startBytes: Int64
    public var targetBytes: Int64
    public var endBytes: Int64
    public var freedBytes: Int64
    public var assets: Int
    public var reachedTarget: Bool
    public var skippedPinned: Int
    public var skippedKept: Int
    /// Planned but left alone: used or pinned between planning and deleting.
    public var skippedChanged: Int
    public var byProviderAndKind: [Line]

    public init(plan: GCPlan, removed: [GCCandidate], dryRun: Bool, skippedChanged: Int) {
        self.dryRun = dryRun
        startBytes = plan.startBytes
        targetBytes = plan.targetBytes
        freedBytes = removed.reduce(0) { $0 + $1.bytes }
        endBytes = plan.startBytes - freedBytes
        assets = removed.count
        reachedTarget = endBytes <= plan.targetBytes
        skippedPinned = plan.skippedPinned
        skippedKept = plan.skippedKept
        self.skippedChanged = skippedChanged
        var lines: [String: Line] = [:]
        for asset in removed {
            let key = asset.provider + "/" + asset.kind.rawValue
            var line = lines[key] ?? Line(provider: asset.provider, kind: asset.kind, assets: 0, originalBytes: 0, thumbnailBytes: 0)
            line.assets += 1
            line.originalBytes += asset.originalBytes
            line.thumbnailBytes += asset.thumbnailBytes
            lines[key] = line
        }
        byProviderAndKind = lines.values.sorted { ($0.provider, $0.kind.rawValue) < ($1.provider, $1.kind.rawValue) }
    }
}
