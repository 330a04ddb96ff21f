#if canImport(Glibc)
import Glibc
#endif

/// The chunks of a PNG before its image data. libvips re-encodes the first frame with its ICC
/// profile, EXIF, XMP and text; an animation (`acTL`) would be lost, and so would `gAMA` and
/// `cHRM`. Those two only matter when they say something other than sRGB (what viewers assume
/// without them; ImageMagick writes sRGB's values into every PNG) and no ICC profile overrides them.
enum PNGChunks {
    struct Chunk {
        var type: String
        /// The first 32 bytes of its data (enough for `gAMA` and `cHRM`).
        var head: [UInt8]
    }

    static func beforeImageData(path: String) -> [Chunk] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var chunks: [Chunk] = []
        var offset: Int64 = 8  // the signature
        var header = [UInt8](repeating: 0, count: 40)
        while chunks.count < 10_000 {
            let read = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 40, off_t(offset)) }
            guard read >= 8 else { break }
            let length = header[0..<4].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            let type = String(decoding: header[4..<8], as: UTF8.self)
            if type == "IDAT" { break }
            chunks.append(Chunk(type: type, head: Array(header[8..<min(read, 8 + Int(min(length, 32)))])))
            offset += 12 + length  // length, type, data, CRC
        }
        return chunks
    }

    /// Why the PNG cannot be re-encoded without losing something, or nil.
    static func reasonNotToReencode(path: String) -> String? {
        let chunks = beforeImageData(path: path)
        if chunks.contains(where: { $0.type == "acTL" }) {
            return "it is an animated PNG (libvips would keep its first frame only)"
        }
        if chunks.contains(where: { $0.type == "iCCP" || $0.type == "sRGB" }) { return nil }
        if let gamma = chunks.first(where: { $0.type == "gAMA" }), !isSRGBGamma(gamma.head) {
            return "its gamma chunk says other than sRGB, and the re-encoded file would lose it"
        }
        if let chromaticities = chunks.first(where: { $0.type == "cHRM" }), !isSRGBChromaticities(chromaticities.head) {
            return "its chromaticity chunk says other than sRGB, and the re-encoded file would lose it"
        }
        return nil
    }

    private static func integers(_ bytes: [UInt8]) -> [Int] {
        stride(from: 0, to: bytes.count - 3, by: 4).map { index in
            bytes[index..<index + 4].reduce(0) { $0 << 8 | Int($1) }
        }
    }

    /// 1/2.2 in units of 1/100000.
    private static func isSRGBGamma(_ data: [UInt8]) -> Bool {
        guard let gamma = integers(data).first else { return false }
        return abs(gamma - 45_455) <= 500
    }

    /// White point and red, green and blue primaries of sRGB (ITU-R BT.709), x and y in units of 1/100000.
    private static func isSRGBChromaticities(_ data: [UInt8]) -> Bool {
        let values = integers(data)
        let sRGB = [31_270, 32_900, 64_000, 33_000, 30_000, 60_000, 15_000, 6_000]
        guard values.count == 8 else { return false }
        return zip(values, sRGB).allSatisfy { abs($0 - $1) <= 1_000 }
    }
}
