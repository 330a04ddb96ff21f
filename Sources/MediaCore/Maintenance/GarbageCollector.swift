import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Carries out a GC plan, one asset at a time, crash-safely:
///
/// 1. One transaction marks the asset `deleting` (only if it is still present, unused since the
///    plan and not pinned by a live pin) and records a `delete` file intent for its original
///    and its thumbnail. From here it is invisible to search, plan and ingest's lookup.
/// 2. The original is unlinked (and its folder synced), then the thumbnail.
/// 3. One transaction deletes the row (tags, sources, thumbnail row and pins go by cascade)
///    and its intents.
///
/// A crash between 1 and 3 leaves a `deleting` row with its intents; the next open of the
/// library (`IngestRecovery`) finishes the removal. So after recovery there is never a row
/// without its file nor a file without its row.
public struct GarbageCollector: Sendable {
    public let repository: MaintenanceRepository
    public let store: ContentStore
    public let logger: Logger
    /// For the crash test only: a pause after each original is unlinked, before its row goes.
    public var pauseAfterOriginal: Duration?

    public init(connection: PostgresConnection, root: String, logger: Logger) {
        self.repository = MaintenanceRepository(connection: connection, logger: logger)
        self.store = ContentStore(root: root)
        self.logger = logger
    }

    /// Plans against the database's own clock and the running totals. The assets are read least
    /// recently used first, a page at a time (`MaintenanceRepository.lruPage`), only until the
    /// target is met: freeing 10 % of a library reads about 10 % of its rows. The same
    /// decisions as the reference planner over every asset (`GarbageCollectionPlanner` in
    /// MediaTestSupport; GCPlanSQLTests).
    public func plan(policy: GCPolicy, pageSize: Int = 5_000) async throws(MediaError) -> GCPlan {
        let used = try await repository.usedBytes()
        guard used > policy.targetBytes else {
            return GCPlan(startBytes: used, targetBytes: policy.targetBytes)
        }
        // One snapshot for the clock, the keep caps and every page.
        return try await repository.inSnapshot("cannot list the assets GC may collect") { snapshot in
            let now = try await snapshot.databaseNow()
            var kept: Set<Int64> = []
            for (provider, keep) in policy.keepPerProvider.sorted(by: { $0.key < $1.key }) where keep > 0 {
                kept.formUnion(try await snapshot.newest(of: provider, count: keep))
            }
            var builder = GCPlanBuilder(currentBytes: used, policy: policy, kept: kept, now: now)
            var after: (micros: Int64, id: Int64)? = nil
            while !builder.isDone {
                let page = try await snapshot.lruPage(after: after, limit: pageSize)
                for candidate in page.candidates where !builder.isDone { builder.consider(candidate) }
                guard page.candidates.count == pageSize, let last = page.last else { break }
                after = last
            }
            return builder.plan
        }
    }

    /// Plans and, unless `dryRun`, collects. `progress` sees (done, total) after each asset.
    public func collect(
        policy: GCPolicy, dryRun: Bool, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws(MediaError) -> GCReport {
        let plan = try await plan(policy: policy)
        if dryRun { return GCReport(plan: plan, removed: plan.victims, dryRun: true, skippedChanged: 0) }
        var removed: [GCCandidate] = []
        var changed = 0
        for (index, victim) in plan.victims.enumerated() {
            if try await remove(victim) { removed.append(victim) } else { changed += 1 }
            progress(index + 1, plan.victims.count)
        }
        let report = GCReport(plan: plan, removed: removed, dryRun: false, skippedChanged: changed)
        if report.assets > 0 {
            logger.event(
                .collected,
                "collected",
                metadata: [
                    "assets": "\(report.assets)", "freed": "\(report.freedBytes)",
                    "size": "\(report.endBytes)", "target": "\(report.targetBytes)",
                ])
        }
        return report
    }

    /// Removes one asset (see the type's steps). False when it changed since the plan (used,
    /// pinned or already gone) and was left alone.
    public func remove(_ victim: GCCandidate) async throws(MediaError) -> Bool {
        // Dates travel as microseconds; a millisecond of slack keeps "unused since the plan" true.
        let paths = try await repository.markForCollection(victim.id, unusedSince: victim.lastUsed.addingTimeInterval(0.001))
        if paths.isEmpty { return false }
        try await removeFiles(paths, of: victim.id)
        return true
    }

    /// `mediaq forget`: removes the record of a lost asset (its rows, its thumbnail and its
    /// metadata file) by the same crash-safe steps. False when the asset is not lost.
    public func forget(_ id: Int64) async throws(MediaError) -> Bool {
        let paths = try await repository.markForgotten(id)
        if paths.isEmpty { return false }
        try await removeFiles(paths, of: id)
        return true
    }

    /// `mediaq rm` and `block`: removes these assets now, by the same crash-safe steps (all are
    /// marked in one transaction, refused as a whole when an id is unknown or, without `force`,
    /// pinned). Returns the ids removed.
    public func removeNow(_ ids: [Int64], force: Bool, block: Bool) async throws(MediaError) -> [Int64] {
        let removals = try await repository.markRemoved(ids, force: force, block: block)
        for removal in removals { try await removeFiles(removal.paths, of: removal.id) }
        return removals.map(\.id)
    }

    private func removeFiles(_ paths: [String], of id: Int64) async throws(MediaError) {
        // Originals first; a thumbnail only after its original.
        for path in paths {
            do {
                try store.remove(path)
            } catch {
                // The row stays `deleting` with its intents: recovery finishes it later.
                throw Ingestor.storeError(error)
            }
            LibraryRoot.syncDirectory((store.absolute(path) as NSString).deletingLastPathComponent)
            if path == paths[0], let pause = pauseAfterOriginal { try? await Task.sleep(for: pause) }
        }
        try await repository.forgetCollected(assets: [id], paths: paths)
    }
}

extension GCPolicy {
    /// The configured policy, towards `target` (default: the low-water mark).
    public init(_ configuration: LibraryConfiguration, target: Int64? = nil) {
        self.init(targetBytes: target ?? configuration.lowWaterBytes, keepPerProvider: configuration.gcKeepPerProvider)
    }
}
