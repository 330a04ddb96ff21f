import Logging
import PostgresNIO

/// An operator's aliases: two tags that name the same thing in this library, stored both ways
/// as relation `alias` from source `operator`, weighing 1 (as much as the tag itself). No
/// asset's metadata file holds them, so `aliases.json` in the library root follows the rows
/// (`AliasList`) and a reindex after a lost database reads it.
extension TagRelationRepository {
    public struct Alias: Sendable, Codable, Equatable {
        public let tag: String
        public let alias: String

        public init(tag: String, alias: String) {
            self.tag = tag
            self.alias = alias
        }
    }

    /// Makes `tag` and `alias` (normalised, different) aliases of each other. Returns false
    /// when they were already: nothing changed.
    public func addAlias(_ tag: String, _ alias: String) async throws(MediaError) -> Bool {
        do {
            let rows = try await connection.query(
                """
                INSERT INTO tag_relation (term, related, relation, source, weight)
                VALUES (\(tag), \(alias), 'alias', 'operator', 1), (\(alias), \(tag), 'alias', 'operator', 1)
                ON CONFLICT DO NOTHING
                RETURNING term
                """, logger: logger)
            var added = 0
            for try await _ in rows.decode(String.self) { added += 1 }
            return added > 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot store the alias \(tag) ~ \(alias)")
        }
    }

    /// Removes the alias between `tag` and `alias`, both ways. Returns false when there was none.
    public func removeAlias(_ tag: String, _ alias: String) async throws(MediaError) -> Bool {
        do {
            let rows = try await connection.query(
                """
                DELETE FROM tag_relation
                WHERE relation = 'alias' AND source = 'operator'
                  AND ((term = \(tag) AND related = \(alias)) OR (term = \(alias) AND related = \(tag)))
                RETURNING term
                """, logger: logger)
            var removed = 0
            for try await _ in rows.decode(String.self) { removed += 1 }
            return removed > 0
        } catch {
            throw DatabaseFailure.translate(error, "cannot remove the alias \(tag) ~ \(alias)")
        }
    }

    /// Every alias once (the first tag sorts before the second), in order.
    public func aliases() async throws(MediaError) -> [Alias] {
        do {
            let rows = try await connection.query(
                """
                SELECT term, related FROM tag_relation
                WHERE relation = 'alias' AND source = 'operator' AND term < related
                ORDER BY term, related
                """, logger: logger)
            var found: [Alias] = []
            for try await (tag, alias) in rows.decode((String, String).self) { found.append(Alias(tag: tag, alias: alias)) }
            return found
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the aliases")
        }
    }

    /// Records aliases read from `aliases.json` (reindex); those already there stay. Returns
    /// how many were new.
    public func insertAliases(_ aliases: [Alias]) async throws(MediaError) -> Int {
        var added = 0
        for alias in aliases where alias.tag != alias.alias {
            if try await addAlias(alias.tag, alias.alias) { added += 1 }
        }
        return added
    }

    /// Writes `aliases.json` from the rows (after every alias and unalias, and by reindex).
    public func writeAliasList(root: String) async {
        await AliasList.writeFollowingRows(root: root, logger: logger) { () throws(MediaError) in
            AliasList(aliases: try await aliases())
        }
    }
}

/// The operator's aliases as a file in the library root, `aliases.json` (docs/storage.md).
public struct AliasList: RootListFile {
    public static let formatName = "media-library/aliases"
    public static let fileName = "aliases.json"
    public static let description = "a list of aliases"

    public var format = formatName
    public var version = 1
    /// Each pair once, the first tag sorting before the second.
    public var aliases: [TagRelationRepository.Alias]

    public init(aliases: [TagRelationRepository.Alias]) {
        self.aliases = aliases
    }

    public static var empty: AliasList { AliasList(aliases: []) }
    public var isEmpty: Bool { aliases.isEmpty }
}
