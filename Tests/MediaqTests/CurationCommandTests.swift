import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

/// An operator's corrections on real rows and files: `tag`, `hide` and `unhide`, all or
/// nothing, kept in the metadata files so that a rebuilt database keeps them.
@Suite(.serialized) struct CurationCommandTests {
    struct Found: Decodable {
        struct Result: Decodable { let id: Int64 }
        let results: [Result]
    }

    struct Known: Decodable {
        struct Asset: Decodable { let libraryId: Int64 }
        let known: [Asset]
    }

    static func metadata(_ library: CommandLibrary, _ id: Int64) async throws -> AssetMetadata? {
        let shown = try library.mediaq(["show", "\(id)", "--json"])
        struct Shown: Decodable {
            let sha256: String
            let kind: String
        }
        let asset = try JSONDecoder().decode(Shown.self, from: Data(shown.standardOutput.utf8))
        let kind = MediaFormat.Kind(rawValue: asset.kind) ?? .image
        return try AssetMetadata.read(at: library.root + "/" + AssetMetadata.path(sha256: asset.sha256, kind: kind))
    }

    @Test func tagAddsAndRemovesAllOrNothingAndTheMetadataFilesFollow() async throws {
        try await CommandLibrary.with { library in
            let first = try library.add("a.png", tags: "beach, sunset", providerId: "11", colour: "red")
            let second = try library.add("b.png", tags: "beach", providerId: "12", colour: "blue")
            struct Tagged: Decodable {
                struct Asset: Decodable {
                    let id: Int64
                    let tags: [String]
                }
                let assets: [Asset]
            }
            let tagged = try library.json(Tagged.self, ["tag", "\(first)", "\(second)", "--add", "Sea, Waves", "--remove", "beach"])
            #expect(tagged.assets.map(\.id) == [first, second])
            #expect(tagged.assets.map(\.tags) == [["sea", "sunset", "waves"], ["sea", "waves"]])
            #expect(try library.json(Found.self, ["search", "images", "--tags", "sea"]).results.count == 2)
            #expect(try library.json(Found.self, ["search", "images", "--tags", "beach"]).results.isEmpty)
            #expect(try await Self.metadata(library, first)?.tags == ["sea", "sunset", "waves"], "the file follows the rows")

            let unknown = try library.mediaq(["tag", "\(first)", "999", "--add", "dog", "--json"])
            #expect(unknown.status == 65 && unknown.standardOutput.contains("\"not_found\""), "\(unknown.transcript)")
            #expect(unknown.standardError.contains("999"))
            #expect(try await Self.metadata(library, first)?.tags == ["sea", "sunset", "waves"], "nothing changed")
            let nothing = try library.mediaq(["tag", "\(first)"])
            #expect(nothing.status == 2 && nothing.standardError.contains("--add or --remove"), "\(nothing.transcript)")
        }
    }

    @Test func aHiddenAssetIsNeverOfferedIsKeptAndStaysHiddenThroughAReindex() async throws {
        try await CommandLibrary.with { library in
            let hidden = try library.add("a.png", tags: "forest", providerId: "21", colour: "red")
            let shown = try library.add("b.png", tags: "forest", providerId: "22", colour: "blue")
            let hid = try library.mediaq(["hide", "\(hidden)", "--json"])
            #expect(hid.status == 0 && hid.standardOutput.contains("\"changed\" : [\n    \(hidden)\n  ]"), "\(hid.transcript)")
            #expect(try library.json(Found.self, ["search", "images", "--tags", "forest"]).results.map(\.id) == [shown])
            let known = try library.json(Known.self, ["known", "--provider", "pexels", "21", "22"])
            #expect(known.known.map(\.libraryId) == [shown], "known does not offer it either")
            let script = library.folder.path + "/script.json"
            try #"{"segments": [{"id": "s", "tags": ["forest"], "media": ["image"]}]}"#.write(
                toFile: script, atomically: true, encoding: .utf8)
            let plan = try library.mediaq(["plan", script, "--no-mark-used", "--json"])
            #expect(plan.status == 0 && !plan.standardOutput.contains("\"libraryId\" : \(hidden),"), "\(plan.transcript)")
            #expect(try await Self.metadata(library, hidden)?.hidden == true)
            #expect(try await Self.metadata(library, shown)?.hidden == nil)
            let sha = try #require(try await Self.metadata(library, hidden)?.sha256)
            let original = library.root + "/images/original/" + sha.prefix(2) + "/" + sha + ".png"
            #expect(FileManager.default.fileExists(atPath: original), "kept on disk")

            // A lost database rebuilt from the files keeps it hidden.
            try await TestDatabase.withFresh { lostURL in
                let rebuilt = try CommandLibrary(url: lostURL, root: library.root)
                let reindex = try rebuilt.mediaq(["reindex", "--json"])
                #expect(reindex.status == 0, "\(reindex.transcript)")
                let found = try rebuilt.json(Found.self, ["search", "images", "--tags", "forest"]).results
                #expect(found.count == 1, "the rebuilt library still hides one: \(found.map(\.id))")
            }

            let unhid = try library.mediaq(["unhide", "\(hidden)", "--json"])
            #expect(unhid.status == 0, "\(unhid.transcript)")
            #expect(Set(try library.json(Found.self, ["search", "images", "--tags", "forest"]).results.map(\.id)) == [hidden, shown])
            #expect(try await Self.metadata(library, hidden)?.hidden == nil)
            #expect(try library.mediaq(["hide", "\(hidden)", "12345"]).status == 65, "all or nothing")
            #expect(try library.json(Found.self, ["search", "images", "--tags", "forest"]).results.count == 2)
        }
    }
}
