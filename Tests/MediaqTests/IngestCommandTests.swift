import Foundation
@testable import MediaCore
import MediaTestHarness
import MediaTestSupport
import Testing

/// `mediaq ingest` and `mediaq show` as the pipeline runs them: a separate process, JSON out.
@Suite struct IngestCommandTests {
    func lines(_ output: String) -> [IngestOutput.File] {
        (try? IngestOutput.decode(output))?.files ?? []
    }

    @Test func ingestsReportsAndExitsByOutcome() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            let photo = folder.path + "/photo.jpg"
            let copy = folder.path + "/copy.jpg"
            try SampleMedia.image(photo)
            try FileManager.default.copyItem(atPath: photo, toPath: copy)
            let common = ["--library-root", root, "--database-url", url.urlString, "--json"]
            // ingest never makes a library: one it cannot find is a retryable error, not a new, empty one.
            let nowhere = try Executables.mediaq(["ingest", photo] + common)
            #expect(nowhere.status == 75 && nowhere.standardError.contains("does not exist"), "\(nowhere.transcript)")
            #expect(!FileManager.default.fileExists(atPath: root), "nothing was made")
            try #require(try Executables.mediaq(["db", "migrate"] + common).status == 0)

            let good = try Executables.mediaq(
                ["ingest", photo, copy, "--tags", "Sea, sky", "--provider", "pexels", "--provider-id", "77"] + common)
            #expect(good.status == 0, "\(good.transcript)")
            let document = try IngestOutput.decode(good.standardOutput)
            #expect(document.ok && document.ingested == 1 && document.duplicate == 1 && document.rejected == 0)
            let results = document.files
            try #require(results.map(\.status) == ["ingested", "duplicate"])
            #expect(results[0].id == results[1].id)
            #expect(results[0].kind == "image")
            #expect(results[0].path?.hasPrefix("images/original/") == true)
            #expect(FileManager.default.fileExists(atPath: root + "/" + (results[0].thumbPath ?? "-")))

            let shown = try Executables.mediaq(["show", String(results[0].id ?? 0)] + common)
            #expect(shown.status == 0, "\(shown.transcript)")
            struct Shown: Decodable {
                let tags: [String]
                let sources: [Source]
                struct Source: Decodable {
                    let provider: String
                    let providerId: String?
                }
            }
            let asset = try JSONDecoder().decode(Shown.self, from: Data(shown.standardOutput.utf8))
            #expect(asset.tags == ["sea", "sky"])
            #expect(asset.sources.first?.providerId == "77")

            let page = folder.path + "/page.mp4"
            try "<html><body>Forbidden</body></html>".write(toFile: page, atomically: true, encoding: .utf8)
            let bad = try Executables.mediaq(["ingest", page] + common)
            #expect(bad.status == 65, "\(bad.transcript)")
            #expect(lines(bad.standardOutput).first?.error?.code == "not_media")
            #expect(FileManager.default.fileExists(atPath: page), "a rejected source stays where it was")
        }
    }

    /// Keywords written into a JPEG (IPTC, XMP, EXIF) by a photo tool are read in the decoder
    /// worker, become tags, are shown as the file's, and come back from the files after the
    /// database is lost.
    @Test func keywordsInAJPEGBecomeTagsShownAsTheFilesAndSurviveAReindex() async throws {
        struct Shown: Decodable {
            struct Source: Decodable {
                let provider: String
                let fileKeywords: [String]?
            }
            let sha256: String
            let tags: [String]
            let sources: [Source]
        }
        try await CommandLibrary.with { library in
            let file = library.folder.path + "/keywords.jpg"
            try SampleMedia.image(file)
            let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            let keyworded = KeywordedJPEG.make(
                from: plain, iptc: ["Sea Side", "Beach"], xmp: ["Golden-Hour", "sea side"], xpKeywords: "Boats;Harbour")
            try Data(keyworded).write(to: URL(fileURLWithPath: file))
            let ingested = try library.mediaq(["ingest", file, "--tags", "Sunset, beach", "--provider", "pexels", "--json"])
            #expect(ingested.status == 0, "\(ingested.transcript)")
            let id = try #require(try IngestOutput.decode(ingested.standardOutput).files.first?.id)
            let fileTags = ["sea side", "beach", "golden hour", "boats", "harbour"]

            let shown = try library.json(Shown.self, ["show", "\(id)"])
            #expect(shown.tags == ["beach", "boats", "golden hour", "harbour", "sea side", "sunset"])
            #expect(shown.sources.map(\.provider) == ["pexels"] && shown.sources.map(\.fileKeywords) == [fileTags])
            let text = try library.mediaq(["show", "\(id)"])
            #expect(
                text.standardOutput.contains("    from the file's keywords: sea side, beach, golden hour, boats, harbour"),
                "\(text.transcript)")
            struct Found: Decodable {
                struct Result: Decodable { let id: Int64 }
                let results: [Result]
            }
            #expect(try library.json(Found.self, ["search", "images", "--tags", "golden hour"]).results.map(\.id) == [id])

            try await TestDatabase.withFresh { lostURL in
                let rebuilt = try CommandLibrary(url: lostURL, root: library.root)
                let reindex = try rebuilt.mediaq(["reindex", "--json"])
                #expect(reindex.status == 0, "\(reindex.transcript)")
                let again = try rebuilt.json(Shown.self, ["show", shown.sha256])
                #expect(again.tags == shown.tags)
                #expect(again.sources.map(\.fileKeywords) == [fileTags])
            }

            // Turned off: the same picture with other bytes gets the sidecar's tags only.
            let other = library.folder.path + "/other.jpg"
            try Data(KeywordedJPEG.make(from: plain, iptc: ["Lighthouse"])).write(to: URL(fileURLWithPath: other))
            let off = try ChildProcess.run(
                [Executables.path("mediaq"), "ingest", other, "--tags", "sunset", "--json"] + library.common,
                workingDirectory: library.folder.path,
                environment: Executables.cleanEnvironment(["MEDIA_INGEST_FILE_KEYWORDS": "false"]))
            #expect(off.status == 0, "\(off.transcript)")
            let offId = try #require(try IngestOutput.decode(off.standardOutput).files.first?.id)
            let offShown = try library.json(Shown.self, ["show", "\(offId)"])
            #expect(offShown.tags == ["sunset"] && offShown.sources.map(\.fileKeywords) == [nil])
        }
    }

    @Test func twoProcessesIngestingTheSameBytesAtOnceAgree() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            let file = folder.path + "/same.mp4"
            try SampleMedia.video(file, seconds: 2, extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
            let made = try Executables.mediaq(["db", "migrate", "--library-root", root, "--database-url", url.urlString])
            try #require(made.status == 0, "\(made.transcript)")
            let environment = Executables.cleanEnvironment([:])
            let children = try ["red", "blue"].map { tag in
                try ChildProcess.spawn(
                    [
                        Executables.path("mediaq"), "ingest", file, "--tags", tag, "--json",
                        "--library-root", root, "--database-url", url.urlString,
                    ], environment: environment)
            }
            let outcomes = children.map { $0.wait() }
            for outcome in outcomes { #expect(outcome.status == 0, "\(outcome.transcript)") }
            let statuses = outcomes.flatMap { lines($0.standardOutput) }.map(\.status).sorted()
            #expect(statuses == ["duplicate", "ingested"], "one stores, the other finds it stored")
            let ids = Set(outcomes.flatMap { lines($0.standardOutput) }.compactMap(\.id))
            #expect(ids.count == 1)
            // Not necessarily id 1: the insert that lost the race used up a value of the sequence.
            let id = try #require(ids.first)
            let shown = try Executables.mediaq(["show", "\(id)", "--json", "--library-root", root, "--database-url", url.urlString])
            struct Shown: Decodable { let tags: [String] }
            #expect(try JSONDecoder().decode(Shown.self, from: Data(shown.standardOutput.utf8)).tags == ["blue", "red"])
            let originals =
                FileManager.default.enumerator(atPath: root + "/videos/original")?.compactMap { $0 as? String }
                .filter { $0.hasSuffix(".mp4") } ?? []
            #expect(originals.count == 1)
            let temporaries = (try? FileManager.default.contentsOfDirectory(atPath: root + "/.tmp")) ?? []
            #expect(temporaries.isEmpty, "\(temporaries)")
        }
    }

    @Test func anUnavailableDatabaseIsRetryableAndWritesNothing() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let photo = folder.path + "/photo.jpg"
        try SampleMedia.image(photo)
        let root = folder.path + "/library"
        try await TestDatabase.withFresh { url in
            try #require(try Executables.mediaq(["db", "migrate", "--library-root", root, "--database-url", url.urlString]).status == 0)
        }
        let outcome = try Executables.mediaq(
            ["ingest", photo, "--library-root", root, "--database-url", "postgres://media@127.0.0.1:1/media", "--json"])
        #expect(outcome.status == 75, "\(outcome.transcript)")
        #expect(outcome.standardOutput.contains("\"code\" : \"database_unavailable\""))
        let stored = FileManager.default.enumerator(atPath: root + "/images")?.compactMap { $0 as? String }.filter { $0.hasSuffix(".jpg") }
        #expect(stored?.isEmpty ?? true, "nothing was written")
    }
}
