import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

/// `mediaq tags learn` (relations from the tags assets carry together), `alias`, `unalias` and
/// `aliases`, on a real database with assets made as rows.
@Suite(.serialized) struct TagLearningCommandTests {
    struct Learned: Decodable {
        let ok: Bool
        let source: String
        let version: String
        let relations: Int
        let tags: Int
        let assets: Int
        let changed: Bool
        let dryRun: Bool
        let seconds: Double
    }

    typealias Related = TagRelationCommandTests.Related

    /// 15 tagged assets: sunset and dusk always together (6), forest and tree always together
    /// (6), beach on 5 of each group (enough support, but no more together with either than
    /// chance: NPMI 0.20), kayak and paddle always together but on 3 only.
    static let library: [[String]] =
        (0..<6).map { $0 < 5 ? ["sunset", "dusk", "beach"] : ["sunset", "dusk"] }
        + (0..<6).map { $0 < 5 ? ["forest", "tree", "beach"] : ["forest", "tree"] }
        + (0..<3).map { _ in ["kayak", "paddle"] }

    static func pairs(_ url: DatabaseURL) async throws -> [String] {
        try await TestDatabase.texts(
            "SELECT term || '>' || related || ' ' || weight FROM tag_relation WHERE source = 'library' ORDER BY 1", on: url)
    }

    @Test func learnRelatesTagsThatOccurTogetherAndARefreshReplacesTheOldRelations() async throws {
        try await CommandLibrary.with { library in
            let ids = try await TaggedRows.insert(Self.library, url: library.url, label: "learn")
            // A relation left by an earlier learn, WordNet's and an operator's: only the first goes.
            try await TestDatabase.texts(
                """
                INSERT INTO tag_relation VALUES ('old', 'stale', 'cooccurs', 'library', 0.5),
                    ('sunset', 'sundown', 'synonym', 'wordnet', 0.9), ('sunset', 'golden hour', 'alias', 'operator', 1)
                """, on: library.url)

            let first = try library.json(Learned.self, ["tags", "learn"])
            #expect(first.ok && first.source == "library" && first.changed && !first.dryRun, "\(first)")
            #expect(first.assets == 15 && first.relations == 4 && first.tags == 4, "\(first)")
            #expect(first.version.contains("support>=5") && first.version.contains("assets=15"), "\(first.version)")
            #expect(
                try await Self.pairs(library.url) == ["dusk>sunset 0.8", "forest>tree 0.8", "sunset>dusk 0.8", "tree>forest 0.8"],
                "always together: NPMI 1, weight 0.8, both ways; beach (NPMI 0.2) and kayak (3 assets) are not related")
            #expect(
                try await TestDatabase.texts("SELECT count(*)::text FROM tag_relation WHERE source <> 'library'", on: library.url) == ["2"])
            #expect(
                try await TestDatabase.texts("SELECT version || ' ' || relations FROM lexicon WHERE source = 'library'", on: library.url)
                    == [first.version + " 4"])
            let dusk = try library.json(Related.self, ["tags", "related", "Dusk"])
            #expect(dusk.related == [.init(tag: "sunset", relation: "cooccurs", source: "library", weight: 0.8)], "\(dusk.related)")

            // The same library again: nothing to rewrite.
            let again = try library.json(Learned.self, ["tags", "learn"])
            #expect(!again.changed && again.relations == 4, "\(again)")

            // Hidden assets do not count: sunset and dusk fall below the support, and go.
            try await TaggedRows.hide(Array(ids[0..<2]), url: library.url)
            // A dry run with a lower support says what it would store, and stores nothing.
            let dry = try library.json(Learned.self, ["tags", "learn", "--min-support", "3", "--dry-run"])
            #expect(dry.dryRun && !dry.changed && dry.assets == 13 && dry.relations == 6, "kayak ~ paddle too: \(dry)")
            #expect(try await Self.pairs(library.url).count == 4, "a dry run writes nothing")
            let refreshed = try library.json(Learned.self, ["tags", "learn"])
            #expect(refreshed.changed && refreshed.assets == 13 && refreshed.relations == 2, "\(refreshed)")
            #expect(try await Self.pairs(library.url) == ["forest>tree 0.8", "tree>forest 0.8"])
            let text = try library.mediaq(["tags", "learn"])
            #expect(
                text.status == 0 && text.standardOutput.hasPrefix("learned the same 2 relations between 2 tags from 13 assets"),
                "\(text.transcript)")

            // Each tag keeps its 20 strongest: a hub on 22 pairs (NPMI 0.035: a low threshold here)
            // keeps 20, each spoke keeps the hub.
            try await TaggedRows.insert(
                (1...22).flatMap { spoke in (0..<5).map { _ in ["hub", "spoke \(spoke)"] } }, url: library.url, label: "hub")
            let hub = try library.json(Learned.self, ["tags", "learn", "--min-npmi", "0.01"])
            #expect(hub.changed, "\(hub)")
            #expect(
                try await library.query("SELECT count(*) FROM tag_relation WHERE term = 'hub' AND source = 'library'") == [20])
            #expect(
                try await library.query("SELECT count(*) FROM tag_relation WHERE related = 'hub' AND source = 'library'") == [22])
        }
    }

    @Test(arguments: [
        (["tags", "learn", "--min-npmi", "0"], "--min-npmi"),
        (["tags", "learn", "--min-npmi", "1.5"], "--min-npmi"),
        (["tags", "learn", "--min-support", "1"], "--min-support"),
        (["tags", "alias", "sea", "SEA!"], "the same tag"),
        (["tags", "alias", "#!", "ocean"], "no tag left"),
        (["tags", "alias", "sea, coast", "ocean"], "list of tags"),
        (["tags", "unalias", "sea", "sea"], "the same tag"),
    ])
    func usageErrorsExitTwo(arguments: [String], mentions: String) throws {
        let outcome = try Executables.mediaq(arguments + ["--library-root", "/nonexistent/library"])
        #expect(outcome.status == 2, "\(outcome.transcript)")
        #expect(outcome.standardError.contains(mentions), "\(outcome.transcript)")
    }

    @Test func aliasesAreStoredBothWaysOnceAndRemovedBothWays() async throws {
        struct Changed: Decodable {
            let ok: Bool
            let tag: String
            let alias: String
            let changed: Bool
        }
        struct Aliases: Decodable {
            struct Pair: Decodable, Equatable {
                let tag: String
                let alias: String
            }
            let aliases: [Pair]
        }
        struct Failure: Decodable {
            struct Detail: Decodable {
                let code: String
            }
            let ok: Bool
            let error: Detail
        }
        try await CommandLibrary.with { library in
            let added = try library.json(Changed.self, ["tags", "alias", "Sea", "OCEAN"])
            #expect(added.ok && added.tag == "sea" && added.alias == "ocean" && added.changed, "\(added)")
            let again = try library.json(Changed.self, ["tags", "alias", "ocean", "sea"])
            #expect(!again.changed, "idempotent, either way round")
            #expect(
                try library.json(Related.self, ["tags", "related", "sea"]).related == [
                    .init(tag: "ocean", relation: "alias", source: "operator", weight: 1)
                ])
            #expect(try library.json(Related.self, ["tags", "related", "ocean"]).related.map(\.tag) == ["sea"])
            let text = try library.mediaq(["tags", "alias", "new_york", "NYC"])
            #expect(text.status == 0 && text.standardOutput.contains("new york ~ nyc: alias stored"), "\(text.transcript)")
            #expect(
                try library.json(Aliases.self, ["tags", "aliases"]).aliases == [
                    .init(tag: "new york", alias: "nyc"), .init(tag: "ocean", alias: "sea"),
                ])
            #expect(try library.mediaq(["tags", "aliases"]).standardOutput == "new york ~ nyc\nocean ~ sea\n")

            // A learn leaves them alone.
            #expect(try library.json(Learned.self, ["tags", "learn"]).relations == 0)
            #expect(try library.json(Aliases.self, ["tags", "aliases"]).aliases.count == 2)

            let removed = try library.json(Changed.self, ["tags", "unalias", "OCEAN", "sea"])
            #expect(removed.changed)
            #expect(try library.json(Related.self, ["tags", "related", "sea"]).related.isEmpty)
            #expect(try library.json(Related.self, ["tags", "related", "ocean"]).related.isEmpty, "both ways")
            let nothing = try library.mediaq(["tags", "unalias", "sea", "ocean", "--json"])
            #expect(nothing.status == 65 && nothing.standardError.contains("not aliases"), "\(nothing.transcript)")
            let failure = try JSONDecoder().decode(Failure.self, from: Data(nothing.standardOutput.utf8))
            #expect(!failure.ok && failure.error.code == "not_found")
            #expect(try library.json(Aliases.self, ["tags", "aliases"]).aliases == [.init(tag: "new york", alias: "nyc")])

            // The file in the root follows every change, and a database rebuilt from the files
            // gets the aliases back from it.
            struct AliasFile: Decodable {
                let format: String
                let version: Int
                let aliases: [Aliases.Pair]
            }
            let file = try JSONDecoder().decode(
                AliasFile.self, from: Data(contentsOf: URL(fileURLWithPath: library.root + "/aliases.json")))
            #expect(file.format == "media-library/aliases" && file.version == 1)
            #expect(file.aliases == [.init(tag: "new york", alias: "nyc")])
            try await TestDatabase.withFresh { lostURL in
                // Each command on a thread of its own: a reindex must not hold one of the
                // cooperative pool's threads, which the suites running beside this one need.
                let common = ["--library-root", library.root, "--database-url", lostURL.urlString]
                func run(_ arguments: [String]) async throws -> ChildProcess.Outcome {
                    try await onOwnThread { try Executables.mediaq(arguments + common) }
                }
                func aliases() async throws -> [Aliases.Pair] {
                    let listed = try await run(["tags", "aliases", "--json"])
                    return try JSONDecoder().decode(Aliases.self, from: Data(listed.standardOutput.utf8)).aliases
                }
                #expect(try await run(["db", "migrate"]).status == 0)
                #expect(try await aliases().isEmpty, "a new database has none")
                let reindex = try await run(["reindex", "--json"])
                #expect(
                    reindex.status == 0 && reindex.standardOutput.contains("\"aliasesRestored\" : 1"), "\(reindex.transcript)")
                #expect(try await aliases() == [.init(tag: "new york", alias: "nyc")])
                let related = try await run(["tags", "related", "nyc", "--json"])
                #expect(try JSONDecoder().decode(Related.self, from: Data(related.standardOutput.utf8)).related.map(\.tag) == ["new york"])
                let again = try await run(["reindex", "--json"])
                #expect(again.standardOutput.contains("\"aliasesRestored\" : 0"), "\(again.transcript)")
            }
            // A file that is not a list of aliases is reported, not taken.
            try "[1, 2]".write(toFile: library.root + "/aliases.json", atomically: true, encoding: .utf8)
            let badArguments = ["reindex", "--json"] + library.common
            let bad = try await onOwnThread { try Executables.mediaq(badArguments) }
            #expect(bad.status == 1 && bad.standardOutput.contains("aliases.json"), "\(bad.transcript)")
        }
    }
}
