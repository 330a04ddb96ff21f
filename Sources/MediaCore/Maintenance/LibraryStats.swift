public import Foundation
public import Logging
public import PostgresNIO

/// `mediaq stats`: what the library holds and what it costs.
public struct LibraryStats: Sendable, Encodable {
    public struct Group: Sendable, Encodable, Equatable {
        public let kind: MediaFormat.Kind
        public let provider: String
        public let assets: Int
        public let originalBytes: Int64
        public let thumbnailBytes: Int64
    }

    public struct Budget: Sendable, Encodable {
        public let usedBytes: Int64
        public let budgetBytes: Int64
        public let usedPercent: Double
        public let lowWaterBytes: Int64
        public let reserveBytes: Int64
        public let freeBytes: Int64?
    }

    public struct Pins: Sendable, Encodable {
        /// Live pins (not expired) and the assets they hold.
        public let live: Int
        public let pinnedAssets: Int
        public let runs: Int
        public let expired: Int
    }

    public struct TagCount: Sendable, Encodable, Equatable {
        public let tag: String
        public let assets: Int
    }

    /// Originals rewritten smaller (`mediaq optimize`, `media.optimize`), of one kind.
    public struct Optimized: Sendable, Encodable, Equatable {
        public let kind: MediaFormat.Kind
        public let assets: Int
        /// The downloads' size less the stored files' size.
        public let bytesSaved: Int64
        /// Of those, re-encoded with loss (`--reencode-video`).
        public let lossy: Int
    }

    /// What the rows say; `budget` adds the configuration's view of the size.
    public struct Counts: Sendable {
        public var byKindAndProvider: [Group] = []
        public var pins = Pins(live: 0, pinnedAssets: 0, runs: 0, expired: 0)
        public var thumbnailsMissing = 0
        public var quarantined = 0
        public var deleting = 0
        public var lost = 0
        public var curation = Curation()
        public var oldestUse: Date?
        public var newestUse: Date?
        public var neverUsed = 0
        public var tagCount = 0
        public var topTags: [TagCount] = []
        public var optimized: [Optimized] = []
    }

    /// What operators did (`mediaq hide`, `rate`, `block`).
    public struct Curation: Sendable, Encodable, Equatable {
        public var hidden = 0
        public var rated = 0
        public var blocked = 0
    }

    public var byKindAndProvider: [Group]
    public var assets: Int
    public var images: Int
    public var videos: Int
    public var budget: Budget
    public var pins: Pins
    public var thumbnailsMissing: Int
    public var quarantined: Int
    public var deleting: Int
    /// Assets whose originals are gone (records kept, never offered; `mediaq forget` removes them).
    public var lost: Int
    public var curation: Curation
    /// Oldest and newest `last_used_at` among assets that were used.
    public var oldestUse: Date?
    public var newestUse: Date?
    public var neverUsed: Int
    public var tagCount: Int
    public var topTags: [TagCount]
    /// Optimised originals and the bytes they saved, by kind.
    public var optimized: [Optimized]
    public var optimizedBytesSaved: Int64

    init(_ counts: Counts, budget: Budget) {
        byKindAndProvider = counts.byKindAndProvider
        assets = counts.byKindAndProvider.reduce(0) { $0 + $1.assets }
        images = counts.byKindAndProvider.filter { $0.kind == .image }.reduce(0) { $0 + $1.assets }
        videos = counts.byKindAndProvider.filter { $0.kind == .video }.reduce(0) { $0 + $1.assets }
        self.budget = budget
        pins = counts.pins
        thumbnailsMissing = counts.thumbnailsMissing
        quarantined = counts.quarantined
        deleting = counts.deleting
        lost = counts.lost
        curation = counts.curation
        oldestUse = counts.oldestUse
        newestUse = counts.newestUse
        neverUsed = counts.neverUsed
        tagCount = counts.tagCount
        topTags = counts.topTags
        optimized = counts.optimized
        optimizedBytesSaved = counts.optimized.reduce(0) { $0 + $1.bytesSaved }
    }

    public static func collect(
        on connection: PostgresConnection, root: String, budget: StorageBudget, topTags: Int = 10, logger: Logger
    ) async throws(MediaError) -> LibraryStats {
        let repository = MaintenanceRepository(connection: connection, logger: logger)
        let counts = try await repository.statistics(topTags: topTags)
        let used = try await repository.usedBytes()
        let budgetLine = Budget(
            usedBytes: used, budgetBytes: budget.budgetBytes,
            usedPercent: (Double(used) / Double(max(1, budget.budgetBytes)) * 1000).rounded() / 10,
            lowWaterBytes: budget.lowWaterBytes, reserveBytes: budget.reserveBytes,
            freeBytes: StorageBudget.freeBytes(atPath: root))
        return LibraryStats(counts, budget: budgetLine)
    }
}
