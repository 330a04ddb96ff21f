import Foundation
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

@Suite struct MigrationTests {
    @Test func appliesFromEmptyThenRerunIsANoOp() async throws {
        try await TestDatabase.withFresh { url in
            let connection = try await TestDatabase.connect(url)
            defer { Task { try? await connection.close() } }
            let runner = MigrationRunner(logger: testLogger)

            let before = try await runner.status(on: connection)
            #expect(before.entries.allSatisfy { $0.state == .pending })
            #expect(!before.isCurrent)

            let applied = try await runner.migrate(on: connection)
            #expect(applied.map(\.fileName) == Migration.bundled.map(\.fileName))
            let after = try await runner.status(on: connection)
            #expect(after.isCurrent)

            let again = try await runner.migrate(on: connection)
            #expect(again.isEmpty)
            let rows = try await connection.query("SELECT count(*) FROM schema_migration", logger: testLogger)
            for try await count in rows.decode(Int.self) { #expect(count == Migration.bundled.count) }
        }
    }

    @Test func concurrentRunnersApplyOnceAndBothSeeTheResult() async throws {
        try await TestDatabase.withFresh { url in
            // A slow first migration widens the window in which the second runner must wait.
            let migrations = [
                Migration(version: 1, name: "slow", sql: "SELECT pg_sleep(0.5); CREATE TABLE once (x int);"),
                Migration(version: 2, name: "second", sql: "INSERT INTO once VALUES (1);"),
            ]
            let first = try await TestDatabase.connect(url)
            let second = try await TestDatabase.connect(url)
            defer {
                Task { try? await first.close() }
                Task { try? await second.close() }
            }
            async let a = MigrationRunner(migrations: migrations, logger: testLogger).migrate(on: first)
            async let b = MigrationRunner(migrations: migrations, logger: testLogger).migrate(on: second)
            let (appliedByA, appliedByB) = try await (a, b)
            // Exactly one runner applied each migration; the other found it done.
            #expect(appliedByA.count + appliedByB.count == 2)
            #expect(appliedByA.isEmpty || appliedByB.isEmpty)
            let rows = try await first.query("SELECT count(*) FROM once", logger: testLogger)
            for try await count in rows.decode(Int.self) { #expect(count == 1) }
            #expect(try await MigrationRunner(migrations: migrations, logger: testLogger).status(on: second).isCurrent)
        }
    }

    @Test func refusesAnAppliedMigrationWhoseFileChanged() async throws {
        try await TestDatabase.withFresh { url in
            let connection = try await TestDatabase.connect(url)
            defer { Task { try? await connection.close() } }
            let original = Migration(version: 1, name: "init", sql: "CREATE TABLE t (x int);")
            try await MigrationRunner(migrations: [original], logger: testLogger).migrate(on: connection)

            let edited = Migration(version: 1, name: "init", sql: "CREATE TABLE t (x bigint);")
            let later = Migration(version: 2, name: "more", sql: "CREATE TABLE u (y int);")
            let runner = MigrationRunner(migrations: [edited, later], logger: testLogger)
            do {
                try await runner.migrate(on: connection)
                Issue.record("a changed migration must be refused")
            } catch let error as MediaError {
                #expect(error.code == .migrationChanged)
                #expect(error.message.contains("0001_init.sql was changed after it was applied"))
            }
            // Nothing after the changed migration was applied.
            let rows = try await connection.query("SELECT to_regclass('u') IS NULL", logger: testLogger)
            for try await missing in rows.decode(Bool.self) { #expect(missing) }
        }
    }

    @Test func aFailingMigrationLeavesNoTrace() async throws {
        try await TestDatabase.withFresh { url in
            let connection = try await TestDatabase.connect(url)
            defer { Task { try? await connection.close() } }
            let broken = Migration(version: 1, name: "broken", sql: "CREATE TABLE half (x int); SELECT no_such_function();")
            do {
                try await MigrationRunner(migrations: [broken], logger: testLogger).migrate(on: connection)
                Issue.record("a failing migration must throw")
            } catch let error as MediaError {
                #expect(error.code == .migrationFailed)
                #expect(error.message.contains("0001_broken.sql"))
                #expect(error.message.contains("no_such_function"))
            }
            let rows = try await connection.query(
                "SELECT to_regclass('half') IS NULL, (SELECT count(*) FROM schema_migration)", logger: testLogger)
            for try await (missing, recorded) in rows.decode((Bool, Int).self) {
                #expect(missing)
                #expect(recorded == 0)
            }
        }
    }
}

@Suite struct SchemaTests {
    /// Runs `body` on a fresh database with the real schema applied.
    func withSchema(_ body: (PostgresConnection) async throws -> Void) async throws {
        try await TestDatabase.withFresh { url in
            let connection = try await TestDatabase.connect(url)
            defer { Task { try? await connection.close() } }
            try await MigrationRunner(logger: testLogger).migrate(on: connection)
            try await body(connection)
        }
    }

    static let sha = String(repeating: "ab", count: 32)

    @Test func storesSizesBeyond32Bits() async throws {
        try await withSchema { connection in
            let bytes: Int64 = 5_000_000_000
            try await connection.query(
                """
                INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path, duration_ms, bitrate)
                VALUES ('video', \(Self.sha), 'mp4', 'video/mp4', \(bytes), 3840, 2160,
                        'videos/original/ab/\(unescaped: Self.sha).mp4', 7200000, 9000000000)
                """, logger: testLogger)
            let rows = try await connection.query("SELECT bytes, bitrate FROM asset", logger: testLogger)
            for try await (stored, bitrate) in rows.decode((Int64, Int64).self) {
                #expect(stored == bytes)
                #expect(bitrate == 9_000_000_000)
            }
        }
    }

    @Test(arguments: [
        "/media/videos/images/original/ab/x.jpg",  // absolute
        "images/../../etc/passwd",  // escapes the root
        "../outside.jpg",
    ])
    func refusesPathsThatAreNotInsideTheRoot(_ path: String) async throws {
        try await withSchema { connection in
            await #expect(throws: (any Error).self) {
                try await connection.query(
                    """
                    INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path)
                    VALUES ('image', \(Self.sha), 'jpg', 'image/jpeg', 10, 1, 1, \(path))
                    """, logger: testLogger)
            }
        }
    }

    @Test func keepsEveryProvenanceAndAnswersKnownQueries() async throws {
        try await withSchema { connection in
            try await connection.query(
                """
                INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path)
                VALUES ('image', \(Self.sha), 'jpg', 'image/jpeg', 10, 1, 1, 'images/original/ab/x.jpg')
                """, logger: testLogger)
            for (provider, id) in [("pexels", "123"), ("pixabay", "987"), ("pexels", "123")] {
                try await connection.query(
                    """
                    INSERT INTO provenance (asset_id, provider, provider_asset_id, source_url)
                    SELECT id, \(provider), \(id), 'https://example.test/' || \(id) FROM asset
                    ON CONFLICT DO NOTHING
                    """, logger: testLogger)
            }
            let rows = try await connection.query(
                """
                SELECT count(*), count(*) FILTER (WHERE provider = 'pexels' AND provider_asset_id = '123')
                FROM provenance
                """, logger: testLogger)
            for try await (all, pexels) in rows.decode((Int, Int).self) {
                #expect(all == 2)  // the repeated source is recorded once
                #expect(pexels == 1)
            }
            // The "is provider X's asset N known?" query uses its index.
            try await connection.query("SET enable_seqscan = off", logger: testLogger)
            let plan = try await connection.query(
                "EXPLAIN SELECT asset_id FROM provenance WHERE provider = 'pexels' AND provider_asset_id = '123'",
                logger: testLogger)
            var text = ""
            for try await line in plan.decode(String.self) { text += line }
            #expect(text.contains("provenance_by_provider_asset"))
        }
    }

    @Test func storageUsageFollowsAssetsAndThumbnails() async throws {
        try await withSchema { connection in
            for (index, kind) in ["image", "video", "image"].enumerated() {
                let sha = String(repeating: String(index), count: 64)
                let folder = kind == "image" ? "images" : "videos"
                try await connection.query(
                    """
                    INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path, duration_ms)
                    VALUES (\(kind)::asset_kind, \(sha), 'x', 'x/x', \(1000 * (index + 1)), 1, 1,
                            \(folder + "/original/" + sha), \(kind == "video" ? 1000 : nil as Int?))
                    """, logger: testLogger)
                try await connection.query(
                    """
                    INSERT INTO thumbnail (asset_id, status, path, bytes)
                    SELECT id, 'ok', \(folder + "/thumbs/" + sha + ".jpg"), 100 FROM asset WHERE sha256 = \(sha)
                    """, logger: testLogger)
            }
            try await connection.query(
                "DELETE FROM asset WHERE sha256 = \(String(repeating: "0", count: 64))", logger: testLogger)
            let rows = try await connection.query(
                """
                SELECT u.kind::text, u.original_bytes, u.thumbnail_bytes, u.asset_count,
                       coalesce((SELECT sum(bytes) FROM asset a WHERE a.kind = u.kind), 0)::bigint,
                       coalesce((SELECT sum(t.bytes) FROM thumbnail t JOIN asset a ON a.id = t.asset_id
                                 WHERE a.kind = u.kind), 0)::bigint
                FROM storage_usage u ORDER BY u.kind
                """, logger: testLogger)
            var seen = 0
            for try await (kind, originals, thumbnails, count, sumOriginals, sumThumbnails)
                in rows.decode((String, Int64, Int64, Int64, Int64, Int64).self)
            {
                seen += 1
                #expect(originals == sumOriginals, "\(kind)")
                #expect(thumbnails == sumThumbnails, "\(kind)")
                #expect(count == 1, "\(kind)")
            }
            #expect(seen == 2)
        }
    }

    @Test func tagSearchReadsTheTagIndex() async throws {
        try await withSchema { connection in
            try await connection.query("SET enable_seqscan = off", logger: testLogger)
            let plan = try await connection.query(
                """
                EXPLAIN SELECT asset_id, count(*) FROM asset_tag WHERE tag_id = ANY('{1,2,3}'::int[])
                GROUP BY asset_id
                """, logger: testLogger)
            var text = ""
            for try await line in plan.decode(String.self) { text += line }
            #expect(text.contains("asset_tag_by_tag"))
        }
    }
}
