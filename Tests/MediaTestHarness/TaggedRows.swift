package import MediaCore
import PostgresNIO

/// Assets as rows only (no files), each carrying a set of tags: enough for what reads tags
/// alone, such as learning related tags, in milliseconds instead of an ingest each.
package enum TaggedRows {
    /// Inserts one image asset per tag set (tags already normalised) and returns their ids.
    /// Their metadata marks are cleared: there is no original to write a metadata file beside.
    @discardableResult
    package static func insert(_ tagSets: [[String]], url: DatabaseURL, label: String) async throws -> [Int64] {
        let connection = try await TestDatabase.connect(url)
        do {
            var ids: [Int64] = []
            for (index, tags) in tagSets.enumerated() {
                let seed = "\(label) \(index)"
                try await connection.query(
                    "INSERT INTO tag (name) SELECT unnest(\(tags)::text[]) ON CONFLICT (name) DO NOTHING", logger: testLogger)
                let rows = try await connection.query(
                    """
                    INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path)
                    SELECT 'image', s.sha, 'png', 'image/png', 1000, 64, 64, 'images/original/' || left(s.sha, 2) || '/' || s.sha || '.png'
                    FROM (SELECT encode(sha256(convert_to(\(seed), 'UTF8')), 'hex') AS sha) AS s
                    RETURNING id
                    """, logger: testLogger)
                for try await id in rows.decode(Int64.self) { ids.append(id) }
                try await connection.query(
                    "INSERT INTO asset_tag (asset_id, tag_id) SELECT \(ids[ids.count - 1]), id FROM tag WHERE name = ANY(\(tags)::text[])",
                    logger: testLogger)
            }
            try await connection.query("DELETE FROM asset_metadata_pending WHERE asset_id = ANY(\(ids)::int8[])", logger: testLogger)
            try await connection.close()
            return ids
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Hides these assets, as `mediaq hide` would, without the metadata file.
    package static func hide(_ ids: [Int64], url: DatabaseURL) async throws {
        let connection = try await TestDatabase.connect(url)
        do {
            try await connection.query("UPDATE asset SET hidden = true WHERE id = ANY(\(ids)::int8[])", logger: testLogger)
            try await connection.query("DELETE FROM asset_metadata_pending WHERE asset_id = ANY(\(ids)::int8[])", logger: testLogger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

extension TestDatabase {
    /// Runs one statement on a connection of its own and returns its rows' first column as text.
    @discardableResult
    package static func texts(_ sql: String, on url: DatabaseURL) async throws -> [String] {
        let connection = try await connect(url)
        do {
            var values: [String] = []
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
            for try await row in rows { values.append(try row.decode(String?.self, context: .default) ?? "NULL") }
            try await connection.close()
            return values
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
