public import Foundation
public import Logging
public import PostgresNIO

/// Relations between tags (migration 0009): what a tag is also called, and what is broader or
/// narrower than it, with where each relation came from.
public struct TagRelationRepository: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public struct Loaded: Sendable, Encodable, Equatable {
        public let source: String
        public let version: String
        public let relations: Int
        /// False when the same version was there already and nothing was written.
        public let changed: Bool
    }

    /// Replaces WordNet's relations with those `links` gives, in one transaction, unless
    /// `version` is loaded already (and not `force`): then the files are not even read.
    public func loadWordNet(
        version: String, force: Bool = false, _ links: @Sendable () async throws(MediaError) -> [WordNet.Link]
    ) async throws(MediaError) -> Loaded {
        try await connection.transaction("cannot load WordNet's relations", logger: logger) { connection in
            // One loader at a time: two first opens would both insert.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('media-library lexicon'))", logger: logger)
            let current = try await connection.query(
                "SELECT version, relations FROM lexicon WHERE source = 'wordnet'", logger: logger)
            for try await (loaded, count) in current.decode((String, Int64).self) where loaded == version && !force {
                return Loaded(source: "wordnet", version: loaded, relations: Int(count), changed: false)
            }
            let links = try await links()
            try await connection.query("DELETE FROM tag_relation WHERE source = 'wordnet'", logger: logger)
            // In batches of arrays: one statement per 20,000 relations.
            for start in stride(from: 0, to: links.count, by: 20_000) {
                let batch = links[start..<min(start + 20_000, links.count)]
                let terms = batch.map(\.term)
                let related = batch.map(\.related)
                let relations = batch.map(\.relation.rawValue)
                let weights = batch.map(\.relation.weight)
                try await connection.query(
                    """
                    INSERT INTO tag_relation (term, related, relation, source, weight)
                    SELECT t, r, k, 'wordnet', w
                    FROM unnest(\(terms)::text[], \(related)::text[], \(relations)::text[], \(weights)::float8[]) AS x(t, r, k, w)
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            let count = Int64(links.count)
            try await connection.query(
                """
                INSERT INTO lexicon (source, version, relations) VALUES ('wordnet', \(version), \(count))
                ON CONFLICT (source) DO UPDATE SET version = EXCLUDED.version, relations = EXCLUDED.relations, loaded_at = now()
                """, logger: logger)
            return Loaded(source: "wordnet", version: version, relations: links.count, changed: true)
        }
    }

    /// Loads WordNet from `directory` unless that data is loaded already; nil, without a word,
    /// when the files are not there (WordNet is optional: search then has fewer relations).
    /// What `mediad` does at start and `mediaq db migrate` after the migrations.
    public func loadWordNetIfPresent(directory: String) async throws(MediaError) -> Loaded? {
        let version: String
        do {
            version = try WordNet.version(directory: directory)
        } catch {
            return nil
        }
        return try await loadWordNet(version: version) { () async throws(MediaError) in
            try await WordNet.read(directory: directory)
        }
    }

    /// One relation of a tag, as `mediaq tags related` shows it.
    public struct Related: Sendable, Encodable, Equatable {
        public let tag: String
        public let relation: String
        public let source: String
        public let weight: Double
    }

    /// What `term` (a normalised tag) is related to, the strongest first.
    public func related(to term: String, limit: Int = 200) async throws(MediaError) -> [Related] {
        do {
            let rows = try await connection.query(
                """
                SELECT related, relation, source, weight FROM tag_relation WHERE term = \(term)
                ORDER BY weight DESC, related, relation, source LIMIT \(Int64(limit))
                """, logger: logger)
            var found: [Related] = []
            for try await (related, relation, source, weight) in rows.decode((String, String, String, Double).self) {
                found.append(Related(tag: related, relation: relation, source: source, weight: weight))
            }
            return found
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the relations of \(term)")
        }
    }
}
