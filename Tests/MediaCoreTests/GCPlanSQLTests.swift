import Foundation
import MediaTestSupport
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

/// GC's streamed plan (a cursor in least-recently-used order, stopped at the target) against
/// the pure planner over every asset, on random libraries in a real PostgreSQL.
@Suite struct GCPlanSQLTests {
    @Test(arguments: 1...6) func streamedPlanEqualsThePlannerOverEveryAsset(seed: UInt64) async throws {
        try await SyntheticLibrary.withDatabase { connection in
            var random = SplitMix64(state: seed)
            let library = SyntheticLibrary(connection: connection, asOf: SearchSQLTests.asOf)
            // Ages repeat, so many assets tie on their last use and the id decides.
            try await library.insert(SearchSQLTests.randomLibrary(size: 300, using: &random))
            try await connection.query(
                "UPDATE asset SET bytes = 1000 + (id * 7919) % 50000", logger: testLogger)
            try await connection.query(
                """
                INSERT INTO pin (run_id, asset_id, created_at, expires_at)
                SELECT 'run', id, now() - interval '2 hours',
                       CASE WHEN id % 2 = 0 THEN now() + interval '1 hour' ELSE now() - interval '1 hour' END
                FROM asset WHERE id % 11 = 0
                """, logger: testLogger)
            let collector = GarbageCollector(connection: connection, root: "/nonexistent", logger: testLogger)
            let used = try await collector.repository.usedBytes()
            // Every present asset at once, for the planner to sort by itself.
            let everything = try await collector.repository.lruPage(after: nil, limit: 1_000_000).candidates
            #expect(everything.count > 200)
            for round in 0..<4 {
                let share = Double.random(in: 0.05...0.95, using: &random)
                var keep: [String: Int] = [:]
                if round % 2 == 1 {
                    keep["pexels"] = Int.random(in: 0...40, using: &random)
                    keep["local"] = Int.random(in: 0...10, using: &random)
                }
                let policy = GCPolicy(targetBytes: Int64(Double(used) * (1 - share)), keepPerProvider: keep)
                let streamed = try await collector.plan(policy: policy, pageSize: 7)
                let now = try await collector.repository.databaseNow()
                let whole = GarbageCollectionPlanner.plan(
                    candidates: everything.shuffled(using: &random), currentBytes: used, policy: policy, now: now)
                #expect(streamed.victims.map(\.id) == whole.victims.map(\.id), "seed \(seed) round \(round)")
                #expect(streamed.skippedPinned == whole.skippedPinned && streamed.skippedKept == whole.skippedKept)
                #expect(!streamed.victims.isEmpty && streamed.reachesTarget == whole.reachesTarget)
            }
        }
    }
}
