import Foundation
import MediaCodecs
@testable import MediaCore
import MediaTestHarness
import MediaTestSupport
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Keywords written into image files (IPTC, XMP, EXIF XPKeywords) become tags at ingest, are
/// marked in provenance and the metadata file, and survive a reindex. The parsers are also fed
/// broken blocks: a hostile file must never crash the decoder worker or make it loop.
@Suite(.serialized) struct FileKeywordsTests {
    // MARK: - The parsers, on blocks as tools write them

    @Test func iptcKeywordsAreReadFromAPhotoshopBlockFromBareResourcesAndFromBareRecords() {
        let iim = KeywordedJPEG.iimRecords(["Sea Side", "Beach", "Ünïcode"])
        let block = KeywordedJPEG.photoshopBlock(iim: iim)
        #expect(EmbeddedKeywords.fromIPTC(block) == ["Sea Side", "Beach", "Ünïcode"])
        #expect(EmbeddedKeywords.fromIPTC(Array(block.dropFirst(14))) == ["Sea Side", "Beach", "Ünïcode"], "resources alone")
        #expect(EmbeddedKeywords.fromIPTC(iim) == ["Sea Side", "Beach", "Ünïcode"], "records alone (TIFF)")
        // A resource before the IPTC one, with a name: skipped by its sizes.
        let other = Array("8BIM".utf8) + [0x04, 0x0C, 0x03] + Array("abc".utf8) + [0, 0, 0, 3, 1, 2, 3, 0]
        let withOther = Array("Photoshop 3.0\0".utf8) + other + Array(block.dropFirst(14))
        #expect(EmbeddedKeywords.fromIPTC(withOther) == ["Sea Side", "Beach", "Ünïcode"])
        // Latin-1 from an old writer (no 1:90): still read.
        let latin = [0x1C, 0x02, 0x19, 0x00, 0x04] + [0x43, 0x61, 0x66, 0xE9] as [UInt8]
        #expect(EmbeddedKeywords.fromIPTC(latin) == ["Café"])
    }

    @Test func xmpSubjectItemsAreReadAndUnescaped() {
        let packet = KeywordedJPEG.xmpPacket(["Golden Hour", "Rock & Roll", "a<b"])
        #expect(EmbeddedKeywords.fromXMP(packet) == ["Golden Hour", "Rock & Roll", "a<b"])
        let prefixed = Array("http://ns.adobe.com/xap/1.0/\0".utf8) + packet
        #expect(EmbeddedKeywords.fromXMP(prefixed) == ["Golden Hour", "Rock & Roll", "a<b"])
        let other =
            #"<dc:subjects><rdf:li>no</rdf:li></dc:subjects><dc:subject/><dc:subject xml:lang="en"><rdf:Bag>"#
            + #"<rdf:li/><rdf:li xml:lang="x-default">caf&#233; &#x263A;</rdf:li></rdf:Bag></dc:subject>"#
            + "<dc:title><rdf:Alt><rdf:li>not a keyword</rdf:li></rdf:Alt></dc:title>"
        #expect(EmbeddedKeywords.fromXMP(Array(other.utf8)) == ["café ☺"])
    }

    @Test func exifXPKeywordsAreReadInEitherByteOrder() {
        let block = KeywordedJPEG.exifBlock(xpKeywords: "Harbour; Boats;")
        #expect(EmbeddedKeywords.fromEXIF(block) == ["Harbour", "Boats"])
        #expect(EmbeddedKeywords.fromEXIF(Array(block.dropFirst(6))) == ["Harbour", "Boats"], "without the Exif header")
        // Big-endian TIFF: the structure's numbers turn, the UTF-16LE text does not.
        var motorola = Array(block.dropFirst(6))
        motorola.replaceSubrange(0..<8, with: [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08])
        motorola.replaceSubrange(8..<10, with: [0x00, 0x01])
        let count = UInt32(motorola[14]) | UInt32(motorola[15]) << 8
        motorola.replaceSubrange(10..<22, with: [0x9C, 0x9E, 0x00, 0x01, 0, 0, UInt8(count >> 8), UInt8(count & 0xFF), 0, 0, 0, 26])
        #expect(EmbeddedKeywords.fromEXIF(motorola) == ["Harbour", "Boats"])
    }

    @Test func theThreeBlocksAreCombinedOnceEachAndCapped() {
        let combined = EmbeddedKeywords.combined(
            iptc: KeywordedJPEG.photoshopBlock(iim: KeywordedJPEG.iimRecords(["Beach", "Sea"])),
            xmp: KeywordedJPEG.xmpPacket(["Beach", "Sun"]), exif: KeywordedJPEG.exifBlock(xpKeywords: "Sea;Sand"))
        #expect(combined == ["Beach", "Sea", "Sun", "Sand"])
        let many = (0..<500).map { "k\($0)" }
        let capped = EmbeddedKeywords.combined(
            iptc: KeywordedJPEG.iimRecords(many), xmp: KeywordedJPEG.xmpPacket(many), exif: [])
        #expect(capped == Array(many.prefix(EmbeddedKeywords.maximumCount)))
        let long = String(repeating: "x", count: EmbeddedKeywords.maximumBytes + 1)
        #expect(EmbeddedKeywords.fromIPTC(KeywordedJPEG.iimRecords([long, "short"])) == ["short"], "a sentence is no keyword")
        #expect(EmbeddedKeywords.fromXMP(KeywordedJPEG.xmpPacket(["tab\there", "  ", "ok"])) == ["ok"])
    }

    @Test func brokenBlocksGiveWhatIsWholeAndNeverCrash() {
        let iim = KeywordedJPEG.iimRecords(["one", "two", "three"])
        let block = KeywordedJPEG.photoshopBlock(iim: iim)
        // Every truncation of every block: no crash, and only whole keywords.
        for cut in 0...block.count {
            let keywords = EmbeddedKeywords.fromIPTC(Array(block.prefix(cut)))
            #expect(["one", "two", "three"].starts(with: keywords), "cut at \(cut): \(keywords)")
        }
        let packet = KeywordedJPEG.xmpPacket(["one", "two"])
        for cut in stride(from: 0, through: packet.count, by: 7) {
            #expect(["one", "two"].starts(with: EmbeddedKeywords.fromXMP(Array(packet.prefix(cut)))))
        }
        let exif = KeywordedJPEG.exifBlock(xpKeywords: "one;two")
        for cut in 0...exif.count {
            let keywords = EmbeddedKeywords.fromEXIF(Array(exif.prefix(cut)))
            #expect(keywords.isEmpty || keywords == ["one", "two"], "cut at \(cut): \(keywords)")
        }
        // Lengths that claim more than there is, or absurd sizes.
        #expect(EmbeddedKeywords.fromIPTC([0x1C, 0x02, 0x19, 0xFF, 0xFF, 0x41]).isEmpty)
        #expect(EmbeddedKeywords.fromIPTC([0x1C, 0x02, 0x19, 0x80, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, 0x41]).isEmpty)
        #expect(EmbeddedKeywords.fromIPTC([0x1C, 0x02, 0x19, 0x80, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0]).isEmpty, "a 9-byte length")
        #expect(EmbeddedKeywords.fromIPTC([0x1C, 0x02, 0x19, 0x80, 0x00]).isEmpty)
        let hugeResource = Array("Photoshop 3.0\0".utf8) + Array("8BIM".utf8) + [0x04, 0x04, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(EmbeddedKeywords.fromIPTC(hugeResource + Array(iim.prefix(20))) == ["one"], "what there is of it")
        let skipped = Array("8BIM".utf8) + [0x04, 0x0C, 0xFF] + [UInt8](repeating: 0x41, count: 10)
        #expect(EmbeddedKeywords.fromIPTC(skipped).isEmpty, "a name longer than the block")
        // An IFD that claims 65535 entries, a value far outside the block.
        var entries = KeywordedJPEG.exifBlock(xpKeywords: "xyz")
        entries[14] = 0xFF
        entries[15] = 0xFF
        #expect(EmbeddedKeywords.fromEXIF(entries) == ["xyz"])
        #expect(EmbeddedKeywords.fromEXIF(KeywordedJPEG.exifBlock(xpKeywords: "x")) == ["x"], "a value within its entry")
        entries.removeLast(8)
        #expect(EmbeddedKeywords.fromEXIF(entries).isEmpty, "the entries run out before the keywords")
        var far = KeywordedJPEG.exifBlock(xpKeywords: "abcdef")
        far.replaceSubrange(24..<28, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(EmbeddedKeywords.fromEXIF(far).isEmpty)
        var count = KeywordedJPEG.exifBlock(xpKeywords: "abcdef")
        count.replaceSubrange(20..<24, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(EmbeddedKeywords.fromEXIF(count).isEmpty)
        var ifd = KeywordedJPEG.exifBlock(xpKeywords: "abc")
        ifd.replaceSubrange(10..<14, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(EmbeddedKeywords.fromEXIF(ifd).isEmpty)
        // Noise: random bytes behind each signature.
        var generator = SplitMix64(state: 16)
        for _ in 0..<300 {
            let noise = (0..<Int(generator.next() % 400)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = EmbeddedKeywords.fromIPTC(Array("Photoshop 3.0\0".utf8) + Array("8BIM".utf8) + [0x04, 0x04] + noise)
            _ = EmbeddedKeywords.fromIPTC([0x1C] + noise)
            _ = EmbeddedKeywords.fromXMP(Array("<dc:subject><rdf:li>".utf8) + noise)
            _ = EmbeddedKeywords.fromEXIF([0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00] + noise)
            _ = EmbeddedKeywords.fromEXIF([0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08] + noise)
        }
        #expect(EmbeddedKeywords.fromXMP(Array("<dc:subject><rdf:li>&#xFFFFFFFF;&#0;&bogus;</rdf:li>".utf8)).isEmpty)
    }

    @Test func fileKeywordsAreNormalisedAsTagsAndCapped() {
        #expect(FileKeywords.tags(from: ["Sea Side", "#Beach!", "beach", "Harbour; Boats"]) == ["sea side", "beach", "harbour", "boats"])
        #expect(FileKeywords.tags(from: []) == nil)
        #expect(FileKeywords.tags(from: ["!!!"]) == nil)
        let lists = (0..<64).map { "a\($0), b\($0)" }
        #expect(FileKeywords.tags(from: lists)?.count == FileKeywords.maximumCount)
        #expect(FileKeywords.merged(["sunset", "beach"], with: ["beach", "sea"]) == ["sunset", "beach", "sea"])
    }

    // MARK: - Through libvips, ingest and reindex

    static func withLibrary(_ body: (IngestLibrary) async throws -> Void) async throws {
        try await TestDatabase.withFresh { url in
            let library = try await IngestLibrary(url: url)
            do {
                try await body(library)
                await library.close()
            } catch {
                await library.close()
                throw error
            }
        }
    }

    static let iptc = ["Sea Side", "Beach"]
    static let xmp = ["beach", "Golden-Hour", "Rock & Roll"]
    static let exif = "Harbour;Boats"
    static let fileTags = ["sea side", "beach", "golden hour", "rock & roll", "harbour", "boats"]

    /// A JPEG made by ImageMagick, with the three blocks spliced in after its SOI marker.
    static func keywordedJPEG(_ path: String) throws {
        try SampleMedia.image(path)
        let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let bytes = KeywordedJPEG.make(from: plain, iptc: iptc, xmp: xmp, xpKeywords: exif)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func libvipsHandsOverTheBlocksOfAJPEG() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = folder.path + "/keywords.jpg"
        try Self.keywordedJPEG(file)
        let info = try ImageProbe.probe(path: file)
        #expect(info.width == 1600 && info.height == 1200)
        #expect(info.keywords == ["Sea Side", "Beach", "beach", "Golden-Hour", "Rock & Roll", "Harbour", "Boats"])
        let plain = folder.path + "/plain.jpg"
        try SampleMedia.image(plain)
        #expect(try ImageProbe.probe(path: plain).keywords.isEmpty)
    }

    @Test func keywordsBecomeTagsMarkedInProvenanceAndTheMetadataFileAndSurviveAReindex() async throws {
        try await Self.withLibrary { library in
            let file = library.sample("keywords.jpg")
            try Self.keywordedJPEG(file)
            let result = try await library.ingest(file, tags: ["Sunset", "beach"], provider: "pexels", id: "7")
            #expect(result.status == .ingested, "\(String(describing: result.error))")
            let sha = try #require(result.sha256)
            let repository = AssetRepository(connection: library.connection, logger: testLogger)
            var details = try #require(try await repository.details(idOrSHA256: sha))
            #expect(details.tags == (["sunset"] + Self.fileTags).sorted())
            #expect(details.sources.map(\.fileKeywords) == [Self.fileTags])

            await library.ingestor.writePendingMetadata(on: library.connection)
            let metadataPath = library.root + "/" + AssetMetadata.path(sha256: sha, kind: .image)
            let metadata = try #require(try AssetMetadata.read(at: metadataPath))
            #expect(metadata.sources.map(\.fileKeywords) == [Self.fileTags])
            let text = try String(contentsOfFile: metadataPath, encoding: .utf8)
            #expect(text.contains("\"fileKeywords\" : ["))

            // The database lost, the metadata file kept: the same tags and marking come back.
            try await library.connection.query("DELETE FROM asset", logger: testLogger)
            let reindex = LibraryReindex(root: library.root, decoder: NativeMediaDecoder(), logger: testLogger)
            var report = try await reindex.run(on: library.connection)
            #expect(report.adopted == 1 && report.adoptedWithoutMetadata == 0, "\(report.problems)")
            details = try #require(try await repository.details(idOrSHA256: sha))
            #expect(details.tags == (["sunset"] + Self.fileTags).sorted())
            #expect(details.sources.map(\.fileKeywords) == [Self.fileTags])

            // A source whose keywords a restored older backup lacks takes them from the file.
            // (A restore drops the dump's metadata marks: the files are newer than the rows.)
            try await library.connection.query("UPDATE provenance SET file_keywords = NULL", logger: testLogger)
            try await library.connection.query("DELETE FROM asset_metadata_pending", logger: testLogger)
            report = try await reindex.run(on: library.connection)
            #expect(report.updated == 1, "\(report)")
            details = try #require(try await repository.details(idOrSHA256: sha))
            #expect(details.sources.map(\.fileKeywords) == [Self.fileTags])

            // Without a metadata file either: the file's own keywords, under provider unknown.
            try await library.connection.query("DELETE FROM asset", logger: testLogger)
            unlink(metadataPath)
            report = try await reindex.run(on: library.connection)
            #expect(report.adoptedWithoutMetadata == 1, "\(report.problems)")
            details = try #require(try await repository.details(idOrSHA256: sha))
            #expect(details.tags == Self.fileTags.sorted())
            #expect(details.sources.map(\.provider) == ["unknown"])
            #expect(details.sources.map(\.fileKeywords) == [Self.fileTags])
        }
    }

    @Test func aDuplicateKeepsTheMarkingAndReadingCanBeTurnedOff() async throws {
        try await Self.withLibrary { library in
            let file = library.sample("keywords.jpg")
            try Self.keywordedJPEG(file)
            var ingestor = library.ingestor
            ingestor.readsFileKeywords = false
            let off = try await ingestor.ingest(IngestRequest(path: file, tags: ["sunset"], provider: "pexels"), on: library.connection)
            #expect(off.status == .ingested)
            let repository = AssetRepository(connection: library.connection, logger: testLogger)
            var details = try #require(try await repository.details(idOrSHA256: off.sha256 ?? ""))
            #expect(details.tags == ["sunset"])
            #expect(details.sources.map(\.fileKeywords) == [nil])
            await library.ingestor.writePendingMetadata(on: library.connection)
            #expect(try await library.count("SELECT count(*) FROM asset_metadata_pending") == 0)

            // The same bytes again from the same source, read this time: the source is marked,
            // and its metadata file is to be written again.
            let again = try await library.ingestor.ingest(
                IngestRequest(path: file, tags: ["sunset"], provider: "pexels"), on: library.connection)
            #expect(again.status == .duplicate)
            details = try #require(try await repository.details(idOrSHA256: off.sha256 ?? ""))
            #expect(details.tags == (["sunset"] + Self.fileTags).sorted())
            #expect(details.sources.map(\.fileKeywords) == [Self.fileTags])
            #expect(try await library.count("SELECT count(*) FROM asset_metadata_pending") == 1)
            // And once more with reading off: what was recorded stays.
            _ = try await ingestor.ingest(IngestRequest(path: file, provider: "pexels"), on: library.connection)
            details = try #require(try await repository.details(idOrSHA256: off.sha256 ?? ""))
            #expect(details.sources.map(\.fileKeywords) == [Self.fileTags])
        }
    }
}
