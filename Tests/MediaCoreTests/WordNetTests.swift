import Foundation
@testable import MediaCore
import Testing

/// WordNet's data lines read as synsets and relations: made-up lines for the format's corners,
/// and the real files of Debian's wordnet-base (scripts/install-deps.sh installs them).
@Suite struct WordNetTests {
    static let directory = "/usr/share/wordnet"

    @Test func aLineIsReadWithItsWordsAndSamePartOfSpeechPointers() throws {
        let line: Substring =
            "02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 003 @ 02083346 n 0000 ~ 01322604 n 0000 + 01211799 v 0101 | a member of the genus Canis"
        let synset = try #require(WordNet.synset(line))
        #expect(synset.offset == 2_084_071)
        #expect(synset.words == ["dog", "domestic dog", "canis familiaris"])
        #expect(synset.pointers.map(\.symbol) == ["@", "~"], "the verb derivation is left out")
        #expect(synset.pointers.map(\.target) == [2_083_346, 1_322_604])
        // An adjective's syntactic marker goes; a hex word count above 9 is read as hex.
        let adjective = try #require(WordNet.synset("00001740 00 a 01 able(p) 0 000 | having the necessary means"))
        #expect(adjective.words == ["able"])
        let many = try #require(
            WordNet.synset("00000001 00 n 0a a 0 b 0 c 0 d 0 e 0 f 0 g 0 h 0 i 0 j 0 000 | ten words"))
        #expect(many.words.count == 10)
        // The license header and broken lines are not synsets.
        #expect(WordNet.synset("  1 This software and database is being provided") == nil)
        #expect(WordNet.synset("00000002 00 n 05 only 0 two 0 000 | short") == nil)
        #expect(WordNet.synset("00000003 00 n 01 word 0 009 @ 1 n 0000 | pointers missing") == nil)
    }

    @Test func relationsFollowTheTableAndNeverRelateAWordToItself() {
        let nouns = [
            WordNet.Synset(offset: 1, words: ["puppy"], pointers: [("@", 2)]),
            WordNet.Synset(offset: 2, words: ["dog", "domestic dog"], pointers: [("~", 1), ("@", 3)]),
            WordNet.Synset(offset: 3, words: ["canine"], pointers: [("~", 2), ("@", 99)]),
        ]
        let links = WordNet.links(nouns, adjectives: false)
        #expect(links.contains(.init(term: "puppy", related: "dog", relation: .broader)))
        #expect(links.contains(.init(term: "dog", related: "puppy", relation: .narrower)))
        #expect(links.contains(.init(term: "dog", related: "domestic dog", relation: .synonym)))
        #expect(links.contains(.init(term: "domestic dog", related: "dog", relation: .synonym)))
        #expect(!links.contains { $0.term == "puppy" && $0.related == "canine" }, "one step only")
        #expect(!links.contains { $0.term == $0.related })
        let adjectives = [
            WordNet.Synset(offset: 10, words: ["wet"], pointers: [("&", 11)]),
            WordNet.Synset(offset: 11, words: ["damp", "moist"], pointers: [("&", 10)]),
        ]
        let similar = WordNet.links(adjectives, adjectives: true)
        #expect(similar.contains(.init(term: "wet", related: "damp", relation: .similar)))
        #expect(similar.contains(.init(term: "damp", related: "moist", relation: .synonym)))
        #expect(WordNet.Relation.allCases.map(\.weight) == [0.9, 0.7, 0.6, 0.5])
    }

    @Test func theInstalledFilesGiveSynonymsAndBroaderWords() async throws {
        let version = try WordNet.version(directory: Self.directory)
        #expect(version.hasPrefix("wordnet-3.0 data.noun:"))
        // Read and hashed off the cooperative pool: a minute of work in a debug build that would
        // stall the tests running beside this one.
        let links = try await onOwnThread { () throws(MediaError) in Set(try WordNet.load(directory: Self.directory)) }
        #expect(links.count > 500_000, "\(links.count)")
        #expect(links.contains(.init(term: "puppy", related: "dog", relation: .broader)))
        #expect(links.contains(.init(term: "car", related: "automobile", relation: .synonym)))
        #expect(links.contains(.init(term: "sea", related: "ocean", relation: .synonym)))
        #expect(!links.contains { $0.term == "zebraxylophone" })
        #expect(throws: MediaError.self) { try WordNet.version(directory: "/nonexistent") }
    }
}
