/// Many distinct PNG files from one, cheaply: a `tEXt` chunk with a different text inserted
/// before the final IEND chunk. Decoders read the same picture; the bytes (and SHA-256) differ.
/// For generated sample libraries, benchmarks and tests.
public enum DistinctPNG {
    public static func make(from png: [UInt8], text: String) -> [UInt8] {
        let iend = png.count - 12
        let type = Array("tEXt".utf8)
        let payload = Array("Comment".utf8) + [0] + Array(text.utf8)
        var chunk = bigEndian(UInt32(payload.count)) + type + payload
        chunk += bigEndian(crc32(type + payload))
        return Array(png[..<iend]) + chunk + Array(png[iend...])
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// CRC-32 (ISO-HDLC), as PNG chunks carry it.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
