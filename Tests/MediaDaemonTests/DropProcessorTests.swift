import Foundation
import MediaCodecs
@testable import MediaCore
import MediaDaemon
import PostgresNIO
import MediaTestHarness
import Testing

/// Drops handled one by one against a real library: receipts, rejections, sidecars early and late.
@Suite(.serialized) struct DropProcessorTests {
    func withDrop(_ body: (_ drop: String, _ processor: DropProcessor, _ library: IngestLibrary) async throws -> Void) async throws {
        try await TestDatabase.withFresh { url in
            let library = try await IngestLibrary(url: url)
            let drop = library.root + "/drop"
            try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
            let processor = DropProcessor(dropDirectory: drop, ingestor: library.ingestor, logger: testLogger)
            do {
                try await body(drop, processor, library)
                await library.close()
            } catch {
                await library.close()
                throw error
            }
        }
    }

    func receipt(_ path: String) throws -> DropProcessor.Receipt {
        try JSONDecoder().decode(DropProcessor.Receipt.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func aDropWithItsSidecarIsStoredWithAReceipt() async throws {
        try await withDrop { drop, processor, library in
            let media = drop + "/beach.jpg"
            try
                #"{"tags": "Beach, sunset", "provider": "pexels", "providerId": 42, "sourceUrl": "https://p.test/42", "used": true, "pin": "RUN-1", "pinHours": 3}"#
                .write(toFile: media + ".json", atomically: true, encoding: .utf8)
            try SampleMedia.image(media)
            let outcome = try await processor.process(mediaPath: media, on: library.connection)
            guard case .stored(let stored) = outcome else {
                Issue.record("\(outcome)")
                return
            }
            #expect(stored.status == "ingested")
            #expect(try receipt(drop + "/.receipts/beach.jpg.json") == stored)
            #expect(!FileManager.default.fileExists(atPath: media), "the media left the drop folder")
            #expect(!FileManager.default.fileExists(atPath: media + ".json"), "so did its sidecar")
            let details = try #require(
                try await AssetRepository(connection: library.connection, logger: testLogger)
                    .details(idOrSHA256: String(stored.id)))
            #expect(details.tags == ["beach", "sunset"])
            #expect(details.sources.first?.providerId == "42")
            #expect(details.lastUsedAt != nil)
            #expect(try await library.count("SELECT count(*) FROM pin WHERE run_id = 'RUN-1' AND expires_at > now()") == 1)
            #expect(
                try await library.count(
                    "SELECT count(*) FROM pin WHERE run_id = 'RUN-1' AND expires_at BETWEEN now() + interval '179 minutes' AND now() + interval '181 minutes'"
                ) == 1, "the sidecar's pinHours")
            // A second event for the sidecar, after it was read with its media, changes nothing.
            #expect(try await processor.applyLateSidecar(media + ".json", on: library.connection))
            #expect(!FileManager.default.fileExists(atPath: drop + "/.rejected"), "no spurious rejection")
        }
    }

    @Test func aSidecarThatComesLaterStillAppliesAndOneWithoutMediaWaits() async throws {
        try await withDrop { drop, processor, library in
            let media = drop + "/run-7/clip.png"
            try FileManager.default.createDirectory(atPath: drop + "/run-7", withIntermediateDirectories: true)
            try SampleMedia.image(media)
            guard case .stored(let stored) = try await processor.process(mediaPath: media, on: library.connection) else {
                Issue.record("not stored")
                return
            }
            #expect(FileManager.default.fileExists(atPath: drop + "/.receipts/run-7/clip.png.json"), "subfolders are mirrored")
            try #"{"tags": ["late", "tag"], "provider": "pixabay"}"#.write(toFile: media + ".json", atomically: true, encoding: .utf8)
            #expect(try await processor.applyLateSidecar(media + ".json", on: library.connection))
            #expect(!FileManager.default.fileExists(atPath: media + ".json"))
            let details = try #require(
                try await AssetRepository(connection: library.connection, logger: testLogger)
                    .details(idOrSHA256: String(stored.id)))
            #expect(details.tags == ["late", "tag"])
            #expect(details.sources.map(\.provider).sorted() == ["local", "pixabay"])

            let orphan = drop + "/not-yet.jpg.json"
            try #"{"tags": ["early"]}"#.write(toFile: orphan, atomically: true, encoding: .utf8)
            #expect(try await processor.applyLateSidecar(orphan, on: library.connection) == false)
            #expect(FileManager.default.fileExists(atPath: orphan), "a sidecar waits for its media")
        }
    }

    @Test func rejectionsMoveAsideWithTheirReason() async throws {
        try await withDrop { drop, processor, library in
            let page = drop + "/video.mp4"
            try "<html>rate limited</html>".write(toFile: page, atomically: true, encoding: .utf8)
            try #"{"tags": ["x"]}"#.write(toFile: page + ".json", atomically: true, encoding: .utf8)
            let outcome = try await processor.process(mediaPath: page, on: library.connection)
            #expect(
                outcome == .rejected(code: "not_media", message: "\(page) was rejected: it is an HTML or XML page, not an image or video"))
            #expect(FileManager.default.fileExists(atPath: drop + "/.rejected/video.mp4"))
            #expect(FileManager.default.fileExists(atPath: drop + "/.rejected/video.mp4.json"))
            struct Reason: Decodable {
                let code: String
                let message: String
            }
            let reason = try JSONDecoder().decode(
                Reason.self, from: Data(contentsOf: URL(fileURLWithPath: drop + "/.rejected/video.mp4.error.json")))
            #expect(reason.code == "not_media")
            #expect(!FileManager.default.fileExists(atPath: page))

            let photo = drop + "/photo.jpg"
            try SampleMedia.image(photo)
            try "{ this is not json".write(toFile: photo + ".json", atomically: true, encoding: .utf8)
            let bad = try await processor.process(mediaPath: photo, on: library.connection)
            guard case .rejected(let code, let message) = bad else {
                Issue.record("\(bad)")
                return
            }
            #expect(code == "bad_sidecar")
            #expect(message.contains("photo.jpg.json") && message.contains("not valid JSON"))
            #expect(FileManager.default.fileExists(atPath: drop + "/.rejected/photo.jpg"))
            #expect(try await library.count("SELECT count(*) FROM asset") == 0)
        }
    }

    @Test func aDuplicateDropGetsAReceiptNamingTheStoredAsset() async throws {
        try await withDrop { drop, processor, library in
            let first = drop + "/a.jpg"
            let second = drop + "/b.jpg"
            try SampleMedia.image(first)
            try FileManager.default.copyItem(atPath: first, toPath: second)
            guard case .stored(let a) = try await processor.process(mediaPath: first, on: library.connection),
                case .stored(let b) = try await processor.process(mediaPath: second, on: library.connection)
            else {
                Issue.record("not stored")
                return
            }
            #expect(a.status == "ingested")
            #expect(b.status == "duplicate")
            #expect(a.id == b.id)
            #expect(DropWatcherFiles.remaining(drop).isEmpty)
        }
    }
}

enum DropWatcherFiles {
    /// Files still waiting in the drop folder (not receipts or rejections).
    static func remaining(_ drop: String) -> [String] { DropWatcher.existingFiles(under: drop) }
}

extension DropProcessorTests {
    /// The real decoder, with one thing happening while it reads: gather writing the sidecar.
    struct SidecarArrivesDuringProbe: MediaDecoder {
        let sidecar: String
        let contents: String
        let native = NativeMediaDecoder()

        func probe(path: String, format: MediaFormat) async throws(DecodeFailure) -> ProbedMedia {
            try? contents.write(toFile: sidecar, atomically: true, encoding: .utf8)
            return try await native.probe(path: path, format: format)
        }

        func writeThumbnail(of path: String, kind: MediaFormat.Kind, to jpegPath: String) async throws(DecodeFailure) -> ThumbnailSize {
            try await native.writeThumbnail(of: path, kind: kind, to: jpegPath)
        }
    }

    @Test func aSidecarThatArrivesWhileItsMediaIsStoredIsKeptForTheLatePathNotDeleted() async throws {
        try await withDrop { drop, _, library in
            let media = drop + "/harbour.png"
            try SampleMedia.image(media)
            let decoder = SidecarArrivesDuringProbe(sidecar: media + ".json", contents: #"{"tags": ["harbour"]}"#)
            let processor = DropProcessor(
                dropDirectory: drop, ingestor: Ingestor(root: library.root, decoder: decoder, logger: testLogger),
                logger: testLogger)
            guard case .stored(let stored) = try await processor.process(mediaPath: media, on: library.connection) else {
                Issue.record("not stored")
                return
            }
            #expect(FileManager.default.fileExists(atPath: media + ".json"), "the sidecar it did not read is still there")
            #expect(try await processor.applyLateSidecar(media + ".json", on: library.connection))
            let details = try #require(
                try await AssetRepository(connection: library.connection, logger: testLogger)
                    .details(idOrSHA256: String(stored.id)))
            #expect(details.tags == ["harbour"], "its tags were not lost")
            #expect(!FileManager.default.fileExists(atPath: media + ".json"))
        }
    }
}
