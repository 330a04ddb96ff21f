import Foundation
@testable import MediaCore
import Testing

@Suite struct TagNormalizerTests {
    @Test(arguments: [
        ("Beach", ["beach"]),
        ("Beach, Sunset", ["beach", "sunset"]),
        ("beach;sunset|sea/sand", ["beach", "sunset", "sea", "sand"]),
        ("  New   York  ", ["new york"]),
        ("new_york", ["new york"]),
        ("new-york", ["new york"]),
        ("new - _ york", ["new york"]),
        ("#Beach!", ["beach"]),
        ("“quoted”", ["quoted"]),
        ("rock'n'roll", ["rock'n'roll"]),
        ("4K", ["4k"]),
        ("ｆｕｌｌｗｉｄｔｈ", ["fullwidth"]),  // NFKC folds full-width forms
        ("ﬁsh", ["fish"]),  // and ligatures
        ("CAFÉ", ["café"]),
        ("Cafe\u{301}", ["café"]),  // decomposed and composed spell one tag
        ("beach, BEACH, Beach!", ["beach"]),
        (",,; |  / ", []),
        ("!!!", []),
        ("tab\tand\nnewline", ["tab and newline"]),
    ])
    func normalises(_ input: String, _ expected: [String]) {
        #expect(TagNormalizer.normalize(input) == expected)
    }

    @Test func listsOfListsKeepFirstOccurrenceOrder() {
        #expect(TagNormalizer.normalize(["Sunset, beach", "beach", "Sea"]) == ["sunset", "beach", "sea"])
    }

    @Test func capsLengthAtACharacterBoundary() {
        let long = String(repeating: "é", count: 100)
        let tag = TagNormalizer.normalize(long)
        #expect(tag.count == 1)
        #expect(tag[0].count == TagNormalizer.maximumLength)
        let spaced = String(repeating: "a", count: 63) + " b"
        #expect(TagNormalizer.normalize(spaced) == [String(repeating: "a", count: 63)])  // no trailing space
    }

    @Test func isIdempotent() {
        for input in ["New-York, #Sunset!", "ｆｕｌｌ width", "a__b--c"] {
            let once = TagNormalizer.normalize(input)
            #expect(TagNormalizer.normalize(once) == once)
        }
    }
}

@Suite struct MediaFormatSniffTests {
    static func bytes(_ values: [UInt8], padTo count: Int = 32) -> [UInt8] {
        values + [UInt8](repeating: 0, count: max(0, count - values.count))
    }

    static func ftyp(_ major: String, _ compatible: [String] = []) -> [UInt8] {
        let body = Array(major.utf8) + [0, 0, 0, 0] + compatible.flatMap { Array($0.utf8) }
        let size = UInt32(8 + body.count)
        return [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
            + Array("ftyp".utf8) + body
    }

    @Test func recognisesEachFormatFromItsBytes() {
        let cases: [([UInt8], MediaFormat)] = [
            (Self.bytes([0xFF, 0xD8, 0xFF, 0xE0]), .jpeg),
            (Self.bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), .png),
            (Self.bytes(Array("GIF89a".utf8)), .gif),
            (Self.bytes(Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WEBPVP8 ".utf8)), .webp),
            (Self.bytes(Array("RIFF".utf8) + [1, 2, 3, 4] + Array("AVI LIST".utf8)), .avi),
            (Self.bytes([0x49, 0x49, 0x2A, 0x00]), .tiff),
            (Self.bytes([0x4D, 0x4D, 0x00, 0x2A]), .tiff),
            (Self.bytes([0x00, 0x00, 0x01, 0xBA, 0x44]), .mpegProgramStream),
            (Self.bytes([0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x84] + Array("webm".utf8)), .webm),
            (Self.bytes([0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x88] + Array("matroska".utf8)), .matroska),
            (Self.bytes(Self.ftyp("isom", ["isom", "avc1"])), .mp4),
            (Self.bytes(Self.ftyp("mp42", ["mp42", "M4V "])), .mp4),
            (Self.bytes(Self.ftyp("qt  ", ["qt  "])), .quickTime),
            (Self.bytes(Self.ftyp("heic", ["mif1", "heic"])), .heif),
            (Self.bytes(Self.ftyp("avif", ["mif1", "avif"])), .avif),
            (Self.bytes(Self.ftyp("mif1", ["mif1", "avif"])), .avif),
            (Self.bytes(Self.ftyp("mif1", ["mif1", "heic"])), .heif),
            (Self.bytes([0, 0, 0, 8] + Array("wide".utf8)), .quickTime),
        ]
        for (bytes, format) in cases {
            #expect(MediaFormat.sniff(bytes) == .media(format), "\(format)")
        }
    }

    @Test func tellsMarkupEmptinessAndTheUnknownApart() {
        #expect(MediaFormat.sniff([UInt8]()) == .empty)
        #expect(MediaFormat.sniff(Array("<!DOCTYPE html><html><body>Rate limited</body></html>".utf8)) == .markup)
        #expect(MediaFormat.sniff([0xEF, 0xBB, 0xBF] + Array("\n  <html lang=en>".utf8)) == .markup)
        #expect(MediaFormat.sniff(Array("just some text".utf8)) == .unknown)
        #expect(MediaFormat.sniff([0xFF, 0xD8]) == .unknown)  // too short to be a JPEG
    }

    @Test func extensionsAgreeOnlyWithTheirFormat() {
        #expect(MediaFormat.jpeg.accepts(fileExtension: "JPG"))
        #expect(MediaFormat.jpeg.accepts(fileExtension: "jpeg"))
        #expect(MediaFormat.mp4.accepts(fileExtension: "m4v"))
        #expect(MediaFormat.mp4.accepts(fileExtension: ""))
        #expect(!MediaFormat.mp4.accepts(fileExtension: "webm"))
        #expect(!MediaFormat.png.accepts(fileExtension: "jpg"))
        #expect(!MediaFormat.webm.accepts(fileExtension: "mp4"))
        #expect(MediaFormat.tiff.canonicalExtension == "tif")
    }
}

@Suite struct SidecarTests {
    func parse(_ json: String) throws(MediaError) -> Sidecar {
        try Sidecar.parse(Data(json.utf8), file: "/drop/a.jpg.json")
    }

    @Test func readsEveryField() throws {
        let sidecar = try parse(
            #"""
            {"tags": ["beach", "Sunset"], "provider": "pexels", "sourceUrl": "https://p.test/1",
             "providerId": "12345", "used": true, "pin": "RUN-7", "pinHours": 1.5, "somethingNew": {"x": 1}}
            """#)
        #expect(sidecar.tags == ["beach", "Sunset"])
        #expect(sidecar.provider == "pexels")
        #expect(sidecar.sourceURL == "https://p.test/1")
        #expect(sidecar.providerId == "12345")
        #expect(sidecar.used)
        #expect(sidecar.pin == "RUN-7")
        #expect(sidecar.pinHours == 1.5)
        #expect(sidecar.pinLifetime(standard: .seconds(86_400)) == .seconds(5_400))
        #expect(Sidecar().pinLifetime(standard: .seconds(86_400)) == .seconds(86_400))
    }

    @Test func acceptsTheLooserForms() throws {
        let sidecar = try parse(#"{"tags": "beach, sunset", "providerId": 987, "used": false}"#)
        #expect(sidecar.tags == ["beach, sunset"])
        #expect(sidecar.providerId == "987")
        #expect(!sidecar.used)
        #expect(try parse("{}") == Sidecar())
        #expect(try parse(#"{"tags": null, "provider": null}"#) == Sidecar())
    }

    @Test(arguments: [
        ("not json at all", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (#"{"tags": 5}"#, "\"tags\" must be a list"),
        (#"{"tags": ["a", 3]}"#, "\"tags\" must hold strings only"),
        (#"{"used": "yes"}"#, "\"used\" must be true or false"),
        (#"{"used": 1}"#, "\"used\" must be true or false"),
        (#"{"providerId": true}"#, "\"providerId\" must be a string or a number"),
        (#"{"provider": ["x"]}"#, "\"provider\" must be a string"),
        (#"{"pinHours": 0}"#, "\"pinHours\" must be a number of hours"),
        (#"{"pinHours": "2"}"#, "\"pinHours\" must be a number of hours"),
        (#"{"pinHours": 9000}"#, "\"pinHours\" must be a number of hours"),
    ])
    func refusesWithAReason(_ json: String, _ reason: String) {
        do {
            _ = try parse(json)
            Issue.record("\(json) should be refused")
        } catch {
            #expect(error.code == .badSidecar)
            #expect(error.message.hasPrefix("sidecar /drop/a.jpg.json was refused: "))
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    @Test func refusesAnOversizedSidecar() {
        let big = Data(("{\"tags\": \"" + String(repeating: "a", count: Sidecar.maximumBytes) + "\"}").utf8)
        #expect(throws: MediaError.self) { try Sidecar.parse(big, file: "x.json") }
    }
}
