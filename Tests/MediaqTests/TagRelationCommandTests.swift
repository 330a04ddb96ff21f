import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

/// `mediaq tags wordnet` and `mediaq tags related` on a real database, with WordNet data files
/// made of lines of the installed ones (the whole files take minutes to load in a debug build).
@Suite(.serialized) struct TagRelationCommandTests {
    /// A data folder holding the installed files' lines of these synsets.
    static func dataFolder(_ folder: String, nouns: [String], adjectives: [String]) async throws -> String {
        let (path, found) = try await WordNetSample.folder(folder, nouns: nouns, adjectives: adjectives)
        #expect(found == ["data.noun": nouns.count, "data.adj": adjectives.count], "every synset asked for is there")
        return path
    }

    struct Related: Decodable {
        struct Relation: Decodable, Equatable {
            let tag: String
            let relation: String
            let source: String
            let weight: Double
        }
        let tag: String
        let related: [Relation]
    }

    @Test func wordNetLoadsOnceAndRelatedShowsWhyATagExpands() async throws {
        try await CommandLibrary.with { library in
            // puppy, dog, canine; car; wet and the adjective it is similar to.
            let data = try await Self.dataFolder(
                library.folder.path, nouns: ["01322604", "02084071", "02083346", "02958343"], adjectives: ["01159405", "01158596"])
            struct Loaded: Decodable {
                let relations: Int
                let changed: Bool
                let version: String
            }
            let first = try library.json(Loaded.self, ["tags", "wordnet", "--path", data])
            #expect(first.changed && first.relations > 10 && first.version.hasPrefix("wordnet-3.0"), "\(first)")
            let again = try library.json(Loaded.self, ["tags", "wordnet", "--path", data])
            #expect(!again.changed && again.relations == first.relations, "the same data loads once")
            #expect(try await library.query("SELECT count(*) FROM tag_relation WHERE source = 'wordnet'") == [Int64(first.relations)])

            let puppy = try library.json(Related.self, ["tags", "related", "Puppy"])
            #expect(puppy.tag == "puppy")
            #expect(puppy.related.contains(.init(tag: "dog", relation: "broader", source: "wordnet", weight: 0.6)), "\(puppy.related)")
            let dog = try library.json(Related.self, ["tags", "related", "dog"])
            #expect(dog.related.contains(.init(tag: "domestic dog", relation: "synonym", source: "wordnet", weight: 0.9)))
            #expect(dog.related.contains { $0.tag == "puppy" && $0.relation == "narrower" })
            #expect(dog.related.first?.relation == "synonym", "the strongest first")
            let car = try library.json(Related.self, ["tags", "related", "car"])
            #expect(car.related.contains { $0.tag == "automobile" && $0.relation == "synonym" })
            let wet = try library.json(Related.self, ["tags", "related", "wet"])
            #expect(wet.related.contains { $0.relation == "similar" }, "\(wet.related)")
            #expect(try library.json(Related.self, ["tags", "related", "zebraxylophone"]).related.isEmpty)
            let text = try library.mediaq(["tags", "related", "puppy"])
            #expect(text.status == 0 && text.standardOutput.contains("puppy → dog  broader (wordnet, weight 0.60)"), "\(text.transcript)")

            // New data replaces the old in one step; missing files are a usage error naming them.
            let smaller = try await Self.dataFolder(library.folder.path + "/v2", nouns: ["02958343"], adjectives: [])
            let replaced = try library.json(Loaded.self, ["tags", "wordnet", "--path", smaller, "--force"])
            #expect(replaced.changed && replaced.relations < first.relations)
            #expect(try library.json(Related.self, ["tags", "related", "puppy"]).related.isEmpty)
            let missing = try library.mediaq(["tags", "wordnet", "--path", library.folder.path + "/nothing"])
            #expect(missing.status == 2 && missing.standardError.contains("wordnet-base"), "\(missing.transcript)")
        }
    }

    struct Found: Decodable {
        struct Result: Decodable {
            let id: Int64
            let tags: [String]
            let matchedVia: [MatchedVia]
        }
        let matching: String
        let exactMatches: Int
        let results: [Result]
    }

    /// As a new user would: WordNet loaded, "sea" finds the assets tagged "ocean" after the one
    /// tagged "sea", each saying why; --exact and enough exact matches never fall back; a plan
    /// whose segment says "sea" is covered through the relation.
    @Test func seaFindsOceanWithTheReasonShown() async throws {
        try await CommandLibrary.with { library in
            // The synset holding both "ocean" and "sea", and the one of "ocean" the body of water.
            let data = try await Self.dataFolder(library.folder.path, nouns: ["13776971", "09376198"], adjectives: [])
            #expect(try library.mediaq(["tags", "wordnet", "--path", data]).status == 0)
            let sea = try library.add("sea.png", tags: "sea", colour: "blue")
            let ocean = try library.add("ocean.png", tags: "ocean, waves", size: "800x450", colour: "navy")
            let oceans = try library.add("oceans.png", tags: "Oceans", colour: "teal")

            let found = try library.json(Found.self, ["search", "images", "--tags", "sea"])
            #expect(found.matching == "related" && found.exactMatches == 1)
            #expect(found.results.map(\.id) == [sea, ocean, oceans], "the exact match first, then by pixels")
            #expect(found.results[0].matchedVia.map(\.relation) == ["exact"])
            #expect(
                found.results[1].matchedVia == [
                    .init(queryTag: "sea", tag: "ocean", relation: "synonym", source: "wordnet", related: "ocean", value: 0.44921875)
                ])
            #expect(found.results[2].matchedVia.first?.tag == "oceans" && found.results[2].matchedVia.first?.related == "ocean")
            let table = try library.mediaq(["search", "images", "--tags", "sea"])
            #expect(
                table.standardOutput.contains("1 carry every tag exactly, fewer than 20: related tags count too"), "\(table.transcript)")
            #expect(table.standardOutput.contains("sea→ocean synonym") && table.standardOutput.contains("sea→oceans synonym"))

            let exact = try library.json(Found.self, ["search", "images", "--tags", "sea", "--exact"])
            #expect(exact.matching == "exact" && exact.results.map(\.id) == [sea])
            let enough = try library.json(Found.self, ["search", "images", "--tags", "sea", "--min-matches", "1"])
            #expect(enough.matching == "exact" && enough.results.map(\.id) == [sea])
            let usage = try library.mediaq(["search", "images", "--tags", "sea", "--exact", "--min-matches", "2"])
            #expect(usage.status == 2 && usage.standardError.contains("--exact never does"), "\(usage.transcript)")

            // A plan's segment in other words: three images needed, one exact and two related.
            let script = library.folder.path + "/script.json"
            try #"{"segments": [{"id": "s", "tags": ["sea"], "media": ["image"]}]}"#.write(
                toFile: script, atomically: true, encoding: .utf8)
            let plan = try library.mediaq(["plan", script, "--no-mark-used", "--json"])
            #expect(
                plan.status == 0 && plan.standardOutput.contains("\"coveredThroughRelatedTags\" : [\n        \"image\""),
                "\(plan.transcript)")
            #expect(plan.standardOutput.contains("\"relation\" : \"synonym\""))
            let exactPlan = try library.mediaq(["plan", script, "--no-mark-used", "--json", "--exact"])
            #expect(exactPlan.status == 0 && exactPlan.standardOutput.contains("\"localMatches\" : 1"), "\(exactPlan.transcript)")
        }
    }

    /// `db migrate` loads WordNet from `search.wordnet` when its files are there, once; `off`
    /// and missing files load nothing and are no error.
    @Test func migrateLoadsWordNetOnceWhenItsFilesAreThere() async throws {
        try await CommandLibrary.with { library in
            let data = try await Self.dataFolder(library.folder.path, nouns: ["13776971"], adjectives: [])
            struct Migrated: Decodable {
                struct Loaded: Decodable {
                    let relations: Int
                    let changed: Bool
                }
                let wordnet: Loaded?
            }
            func migrate(_ wordNet: String) throws -> Migrated {
                let outcome = try library.mediaq(["db", "migrate", "--json"], environment: ["MEDIA_WORDNET": wordNet])
                try #require(outcome.status == 0, "\(outcome.transcript)")
                return try JSONDecoder().decode(Migrated.self, from: Data(outcome.standardOutput.utf8))
            }
            #expect(try migrate("off").wordnet == nil)
            #expect(try migrate(library.folder.path + "/nowhere").wordnet == nil, "no files: nothing, and no error")
            let first = try #require(try migrate(data).wordnet)
            #expect(first.changed && first.relations == 2, "ocean ~ sea, both ways")
            #expect(try migrate(data).wordnet?.changed == false, "loaded once")
            let related = try library.json(Related.self, ["tags", "related", "sea"])
            #expect(related.related.map(\.tag) == ["ocean"])
        }
    }
}
