import Foundation
import MediaCodecs
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct IngestTests {
    typealias Library = IngestLibrary

    func withLibrary(pixelLimit: Int64 = Ingestor.defaultPixelLimit, _ body: (Library) async throws -> Void) async throws {
        try await TestDatabase.withFresh { url in
            let library = try await Library(url: url, pixelLimit: pixelLimit)
            do {
                try await body(library)
                await library.close()
            } catch {
                await library.close()
                throw error
            }
        }
    }

    @Test func storesAJPEGWithThumbnailTagsAndSource() async throws {
        try await withLibrary { library in
            let file = library.sample("holiday.JPEG")
            try SampleMedia.image(file)
            let result = try await library.ingest(file, tags: ["Beach, Sunset", "#beach"], provider: "Pexels", id: "123")
            #expect(result.status == .ingested, "\(String(describing: result.error))")
            let sha = try ContentStore.sha256(ofFileAt: file)
            #expect(result.sha256 == sha)
            #expect(result.kind == .image)
            #expect(result.path == "images/original/\(sha.prefix(2))/\(sha).jpg")
            #expect(result.thumbPath == "images/thumbs/\(sha).jpg")
            #expect(result.width == 1600 && result.height == 1200)

            let original = library.root + "/" + (result.path ?? "")
            #expect(try ContentStore.sha256(ofFileAt: original) == sha)
            var info = stat()
            #expect(stat(original, &info) == 0 && info.st_mode & 0o777 == 0o444, "library files are read-only")
            #expect(FileManager.default.fileExists(atPath: file), "the source stays where it was")

            let thumb = library.root + "/" + (result.thumbPath ?? "")
            let probed = try ImageProbe.probe(path: thumb)
            #expect(probed.width == 400 && probed.height == 300)
            let corner = try ImageThumbnailer.pixel(of: thumb, x: 10, y: 10)
            let body = try ImageThumbnailer.pixel(of: thumb, x: 300, y: 200)
            #expect(corner.red > 200 && corner.green > 200 && corner.blue > 200, "white marker stays top-left")
            #expect(body.red > 200 && body.green < 60 && body.blue < 60)

            let details = try #require(
                try await AssetRepository(connection: library.connection, logger: testLogger)
                    .details(idOrSHA256: sha))
            #expect(details.tags == ["beach", "sunset"])
            #expect(details.sources.map(\.provider) == ["pexels"])
            #expect(details.sources.first?.providerId == "123")
            #expect(details.thumbnail?.status == "ok")
            #expect(library.storedFiles() == [result.path!, result.thumbPath!].sorted(), "no temporary file is left")
            #expect(library.metadataFiles().isEmpty, "written in a batch after the ingest, not by it")
            #expect(try await library.count("SELECT count(*) FROM asset_metadata_pending") == 1)
            await library.ingestor.writePendingMetadata(on: library.connection)
            #expect(library.metadataFiles() == [AssetMetadata.path(sha256: sha, kind: .image)])
            #expect(try await library.count("SELECT count(*) FROM asset_metadata_pending") == 0)
            let metadata = try #require(try AssetMetadata.read(at: library.root + "/" + AssetMetadata.path(sha256: sha, kind: .image)))
            #expect(metadata.tags == ["beach", "sunset"] && metadata.sources.first?.providerAssetId == "123")
            #expect(try await library.count("SELECT count(*) FROM file_intent") == 0)
            // The budget's running totals count the original and the thumbnail.
            let thumbBytes = try FileManager.default.attributesOfItem(atPath: thumb)[.size] as? Int
            let originalBytes = try FileManager.default.attributesOfItem(atPath: original)[.size] as? Int
            #expect(try await library.count("SELECT thumbnail_bytes FROM storage_usage WHERE kind = 'image'") == thumbBytes)
            #expect(try await library.count("SELECT original_bytes FROM storage_usage WHERE kind = 'image'") == originalBytes)
        }
    }

    @Test func theSameBytesTwiceAreOneAssetWithBothSources() async throws {
        try await withLibrary { library in
            let first = library.sample("a.jpg")
            let second = library.sample("copy.jpeg")
            try SampleMedia.image(first)
            try FileManager.default.copyItem(atPath: first, toPath: second)
            let a = try await library.ingest(first, tags: ["sea"], provider: "pexels", id: "1")
            let b = try await library.ingest(second, tags: ["Sea", "waves"], provider: "pixabay", id: "9")
            #expect(a.status == .ingested)
            #expect(b.status == .duplicate)
            #expect(b.id == a.id)
            #expect(try await library.count("SELECT count(*) FROM asset") == 1)
            #expect(try await library.count("SELECT count(*) FROM provenance") == 2)
            let details = try #require(
                try await AssetRepository(connection: library.connection, logger: testLogger)
                    .details(idOrSHA256: String(a.id ?? 0)))
            #expect(details.tags == ["sea", "waves"])
            #expect(library.storedFiles().count == 2)
        }
    }

    @Test func concurrentIngestsOfTheSameBytesEndWithOneAsset() async throws {
        try await TestDatabase.withFresh { url in
            let first = try await Library(url: url)
            let secondConnection = try await TestDatabase.connect(url)
            // One root, two connections: as two processes ingesting the same download at once.
            let shared = Ingestor(root: first.root, decoder: NativeMediaDecoder(), logger: testLogger)
            let file = first.sample("same.png")
            try SampleMedia.image(file)
            let (one, two) = (first.connection, secondConnection)
            async let a = shared.ingest(IngestRequest(path: file, tags: ["one"]), on: one)
            async let b = shared.ingest(IngestRequest(path: file, tags: ["two"]), on: two)
            let results: [IngestResult]
            do {
                results = try await [a, b]
            } catch {
                await first.close()
                try? await secondConnection.close()
                throw error
            }
            try? await secondConnection.close()
            #expect(results.allSatisfy { $0.status == .ingested || $0.status == .duplicate })
            #expect(results.filter { $0.status == .ingested }.count == 1)
            #expect(results[0].id == results[1].id)
            #expect(try await first.count("SELECT count(*) FROM asset") == 1)
            #expect(try await first.count("SELECT count(*) FROM asset_tag") == 2, "the union of both requests' tags")
            #expect(try await first.count("SELECT count(*) FROM file_intent") == 0)
            #expect(first.storedFiles().count == 2, "one original, one thumbnail, no temporaries")
            await first.close()
        }
    }

    @Test func imagesOfEveryKindGetDisplayedSizesAndSRGBThumbnails() async throws {
        try await withLibrary { library in
            // EXIF orientation 6: stored 1600×1200, displayed 1200×1600.
            let rotated = library.sample("rotated.jpg")
            try SampleMedia.image(rotated)
            try SampleMedia.setEXIFOrientation(rotated, 6)
            let r = try await library.ingest(rotated)
            #expect(r.status == .ingested, "\(String(describing: r.error))")
            #expect(r.width == 1200 && r.height == 1600)
            let rotatedThumb = try ImageProbe.probe(path: library.root + "/" + (r.thumbPath ?? ""))
            #expect(rotatedThumb.width == 400 && rotatedThumb.height == 533, "a rotated source's thumbnail is portrait")
            // The white marker moved from top-left to top-right.
            let topRight = try ImageThumbnailer.pixel(of: library.root + "/" + r.thumbPath!, x: 390, y: 10)
            #expect(topRight.red > 200 && topRight.green > 200)

            let cmyk = library.sample("cmyk.jpg")
            try SampleMedia.image(cmyk, extra: ["-colorspace", "CMYK"])
            let c = try await library.ingest(cmyk)
            #expect(c.status == .ingested)
            let cmykThumb = library.root + "/" + (c.thumbPath ?? "")
            #expect(try ImageProbe.probe(path: cmykThumb).interpretation == "srgb")
            let red = try ImageThumbnailer.pixel(of: cmykThumb, x: 300, y: 200)
            #expect(red.red > 180 && red.green < 90 && red.blue < 90, "CMYK red is still red in sRGB: \(red)")

            let deep = library.sample("deep.png")
            try SampleMedia.image(deep, extra: ["-depth", "16"])
            let d = try await library.ingest(deep)
            #expect(d.status == .ingested)
            #expect(try ImageProbe.probe(path: library.root + "/" + d.thumbPath!).width == 400)

            let webp = library.sample("pic.webp")
            try SampleMedia.image(webp)
            #expect(try await library.ingest(webp).status == .ingested)

            // HEIF and AVIF, written by libvips' own command-line tool.
            for (name, format) in [("pic.avif", "avif"), ("pic.heic", "heic")] {
                let path = library.sample(name)
                let jpeg = library.sample("for-\(format).jpg")
                try SampleMedia.image(jpeg)
                try SampleMedia.make(["/usr/bin/vips", "copy", jpeg, path])
                let result = try await library.ingest(path)
                #expect(result.status == .ingested, "\(name): \(String(describing: result.error))")
                #expect(result.path?.hasSuffix("." + format) == true)
                #expect(result.width == 1600 && result.height == 1200)
                #expect(try ImageProbe.probe(path: library.root + "/" + (result.thumbPath ?? "")).width == 400)
            }

            let animated = library.sample("anim.gif")
            try SampleMedia.make([SampleMedia.convert, "-delay", "10", "-size", "300x150", "xc:red", "xc:lime", "xc:blue", animated])
            let g = try await library.ingest(animated)
            #expect(g.status == .ingested)
            #expect(g.width == 300 && g.height == 150)
            let firstFrame = try ImageThumbnailer.pixel(of: library.root + "/" + g.thumbPath!, x: 200, y: 100)
            #expect(firstFrame.red > 200 && firstFrame.green < 60, "the first frame is the thumbnail: \(firstFrame)")
            let pages = try await library.count("SELECT page_count FROM asset WHERE sha256 = '\(g.sha256!)'")
            #expect(pages == 3)

            let transparent = library.sample("alpha.png")
            try SampleMedia.make([SampleMedia.convert, "-size", "200x100", "xc:none", transparent])
            let t = try await library.ingest(transparent)
            let flattened = try ImageThumbnailer.pixel(of: library.root + "/" + t.thumbPath!, x: 100, y: 100)
            #expect(flattened.red > 240 && flattened.green > 240 && flattened.blue > 240, "transparency becomes white")

            // Far taller than wide: fitted into 400×1600 and padded at the sides, not cropped.
            let tall = library.sample("tall.png")
            try SampleMedia.make([SampleMedia.convert, "-size", "100x1000", "xc:white", tall])
            let tl = try await library.ingest(tall)
            let tallThumb = library.root + "/" + tl.thumbPath!
            let size = try ImageProbe.probe(path: tallThumb)
            #expect(size.width == 400 && size.height == 1600)
            let edge = try ImageThumbnailer.pixel(of: tallThumb, x: 5, y: 800)
            let middle = try ImageThumbnailer.pixel(of: tallThumb, x: 200, y: 800)
            #expect(edge.red < 30 && middle.red > 220, "padding at the sides, picture in the middle")
        }
    }

    @Test func aVideoGetsItsFactsAndAPoster() async throws {
        try await withLibrary { library in
            let clip = library.sample("clip.mp4")
            try SampleMedia.video(
                clip, seconds: 3,
                extra: [
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest",
                ])
            let v = try await library.ingest(clip, tags: ["city"])
            #expect(v.status == .ingested, "\(String(describing: v.error))")
            #expect(v.kind == .video)
            #expect(v.width == 640 && v.height == 360)
            #expect((2900...3100).contains(v.durationMs ?? 0))
            #expect(v.path?.hasPrefix("videos/original/") == true)
            let poster = try ImageProbe.probe(path: library.root + "/" + (v.thumbPath ?? ""))
            #expect(poster.width == 400 && poster.height == 225)
            let details = try #require(
                try await AssetRepository(connection: library.connection, logger: testLogger)
                    .details(idOrSHA256: v.sha256!))
            #expect(details.videoCodec == "h264")
            #expect(details.audioCodec == "aac")
            #expect(details.hasAudio == true)
        }
    }

    @Test func movingOnTheSameFilesystemStoresTheVeryFileWithoutACopy() async throws {
        try await withLibrary { library in
            let file = library.sample("drop.jpg")
            try SampleMedia.image(file)
            var before = stat()
            #expect(stat(file, &before) == 0)
            let result = try await library.ingestor.ingest(
                IngestRequest(path: file, tags: ["moved"], moveSource: true), on: library.connection)
            #expect(result.status == .ingested)
            #expect(!FileManager.default.fileExists(atPath: file), "the source name is gone")
            var after = stat()
            #expect(stat(library.root + "/" + (result.path ?? ""), &after) == 0)
            #expect(after.st_ino == before.st_ino, "the same inode: nothing was copied")
            #expect(after.st_nlink == 1)
            #expect(library.storedFiles().count == 2, "\(library.storedFiles())")

            // A duplicate dropped again is taken too; a rejected file stays.
            let again = library.sample("again.jpg")
            try SampleMedia.image(again)
            #expect(
                try await library.ingestor.ingest(IngestRequest(path: again, moveSource: true), on: library.connection).status == .duplicate
            )
            #expect(!FileManager.default.fileExists(atPath: again))
            let page = library.sample("page.mp4")
            try "<html></html>".write(toFile: page, atomically: true, encoding: .utf8)
            #expect(
                try await library.ingestor.ingest(IngestRequest(path: page, moveSource: true), on: library.connection).status == .rejected)
            #expect(FileManager.default.fileExists(atPath: page))
        }
    }

    @Test func aFileThatChangesWhileReadIsNotStored() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = folder.path + "/growing.jpg"
        try SampleMedia.image(file)
        let source = try OpenSource(path: file)
        // The writer appends after the file was opened.
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 7, count: 1000))
        try handle.close()
        let store = ContentStore(root: folder.path + "/library")
        #expect {
            _ = try store.copyIn(from: source)
        } throws: { error in
            guard case .sourceChanged(let message) = error as? ContentStore.StoreFailure else { return false }
            return message.contains("growing.jpg changed while it was read")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.temporaryDirectory)
        #expect(leftovers.isEmpty, "no half copy is left: \(leftovers)")
    }

    @Test func aVideoWhoseFramesCannotBeDecodedIsStoredWithItsThumbnailMarkedMissing() async throws {
        try await withLibrary { library in
            let clip = library.sample("damaged.mp4")
            try SampleMedia.video(clip, seconds: 3, extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
            // Keep the index (moov, first with faststart), zero the coded pictures after it.
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: clip)))
            let mdat = try #require(MediaFormat.find(Array("mdat".utf8), in: bytes))
            for index in (mdat + 8)..<bytes.count { bytes[index] = 0 }
            try Data(bytes).write(to: URL(fileURLWithPath: clip))
            let result = try await library.ingest(clip)
            #expect(result.status == .ingested, "\(String(describing: result.error))")
            #expect(result.thumbPath == nil)
            let details = try #require(
                try await AssetRepository(connection: library.connection, logger: testLogger)
                    .details(idOrSHA256: result.sha256 ?? ""))
            #expect(details.thumbnail?.status == "missing")
            #expect(details.thumbnail?.reason?.isEmpty == false)
            #expect(library.storedFiles() == [result.path!], "the original only, no thumbnail and no temporaries")
        }
    }

    @Test func rejectionsNameTheFileAndLeaveNothingBehind() async throws {
        try await withLibrary(pixelLimit: 1_000_000) { library in
            let empty = library.sample("empty.jpg")
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            let html = library.sample("video.mp4")
            try "<!DOCTYPE html><html><body>429 Too Many Requests</body></html>".write(toFile: html, atomically: true, encoding: .utf8)
            let mismatch = library.sample("photo.jpg")
            try SampleMedia.make([SampleMedia.convert, "-size", "10x10", "xc:blue", "png:" + mismatch])
            let unknown = library.sample("notes.png")
            try "just text, not a picture".write(toFile: unknown, atomically: true, encoding: .utf8)
            let huge = library.sample("huge.png")
            try SampleMedia.make([SampleMedia.convert, "-size", "2000x1000", "xc:gray", huge])
            let full = library.sample("full.jpg")
            try SampleMedia.image(full)
            let truncated = library.sample("cut.jpg")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: full))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
            let clip = library.sample("clip.mp4")
            try SampleMedia.video(clip, extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
            let cutVideo = library.sample("cut.mp4")
            try Data(contentsOf: URL(fileURLWithPath: clip)).prefix(1024).write(to: URL(fileURLWithPath: cutVideo))
            let audioOnly = library.sample("sound.mp4")
            try SampleMedia.make([
                SampleMedia.ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", audioOnly,
            ])
            let folder = library.sample("a-folder.jpg")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
            let link = library.sample("link.jpg")
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: full)

            let cases: [(String, String, String)] = [
                (empty, "empty_file", "it is empty"),
                (html, "not_media", "HTML"),
                (mismatch, "extension_mismatch", "named .jpg but its bytes are PNG"),
                (unknown, "unknown_format", "not an image or video format"),
                (huge, "too_many_pixels", "2000×1000 is over the limit of 1 megapixels"),
                (truncated, "undecodable", "truncated JPEG"),
                (cutVideo, "undecodable", "cut.mp4"),
                (audioOnly, "no_video_stream", "sound.mp4"),
                (folder, "not_regular_file", "not a regular file"),
                (link, "not_regular_file", "symbolic link"),
                (library.sample("missing.jpg"), "unreadable", "no such file"),
            ]
            for (file, code, words) in cases {
                let result = try await library.ingest(file)
                #expect(result.status == .rejected, "\(file)")
                #expect(result.error?.code == code, "\(file): \(result.error?.message ?? "")")
                #expect(result.error?.message.contains(file) == true, "names the file: \(result.error?.message ?? "")")
                #expect(result.error?.message.contains(words) == true, "\(result.error?.message ?? "") should say \(words)")
            }
            #expect(library.storedFiles().isEmpty, "\(library.storedFiles())")
            #expect(try await library.count("SELECT count(*) FROM asset") == 0)
            #expect(try await library.count("SELECT count(*) FROM file_intent") == 0)
            #expect(try await library.count("SELECT count(*) FROM tag") == 0)
        }
    }
}

@Suite struct IngestRecoveryTests {
    @Test func undoesWhatADeadProcessLeftAndSparesTheLiving() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            let configuration = LibraryConfiguration(libraryRoot: root, databaseURL: url)
            let opener = LibraryOpener(configuration: configuration, logger: testLogger, mountTable: MountTable(mounted: [], declared: []))
            let (_, connection) = try await opener.open()
            // A process that has ended: its pid is free.
            let finished = try ChildProcess.spawn(["/bin/true"], environment: [:])
            _ = finished.wait()
            let dead = Int(finished.pid)
            let store = ContentStore(root: root)
            let orphan = "images/original/aa/" + String(repeating: "a", count: 64) + ".jpg"
            let living = "images/original/bb/" + String(repeating: "b", count: 64) + ".jpg"
            for path in [orphan, living] {
                try FileManager.default.createDirectory(
                    atPath: (store.absolute(path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                #expect(FileManager.default.createFile(atPath: store.absolute(path), contents: Data("x".utf8)))
            }
            try await connection.query(
                """
                INSERT INTO file_intent (path, action, owner_pid) VALUES
                    (\(orphan), 'create', \(dead)), (\(living), 'create', \(Int(getpid())))
                """, logger: testLogger)
            try FileManager.default.createDirectory(atPath: store.temporaryDirectory, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: store.temporaryDirectory + "/\(dead)-abc.part", contents: Data()))
            #expect(FileManager.default.createFile(atPath: store.temporaryDirectory + "/\(getpid())-def.part", contents: Data()))
            try await connection.close()

            // The next open recovers.
            let (_, again) = try await opener.open()
            #expect(!FileManager.default.fileExists(atPath: store.absolute(orphan)), "the dead process's file is gone")
            #expect(FileManager.default.fileExists(atPath: store.absolute(living)), "a live process's file stays")
            #expect(!FileManager.default.fileExists(atPath: store.temporaryDirectory + "/\(dead)-abc.part"))
            #expect(FileManager.default.fileExists(atPath: store.temporaryDirectory + "/\(getpid())-def.part"))
            let rows = try await again.query("SELECT path FROM file_intent", logger: testLogger)
            var left: [String] = []
            for try await path in rows.decode(String.self) { left.append(path) }
            #expect(left == [living])
            try await again.close()
        }
    }
}
