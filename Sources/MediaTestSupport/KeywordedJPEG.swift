import Foundation

/// Keywords written into a JPEG as photo tools write them, for the tests of reading them back:
/// an APP13 "Photoshop 3.0" segment with IPTC-IIM keywords (image resource 0x0404, datasets
/// 2:25), an APP1 XMP packet with a `dc:subject` bag, and an APP1 EXIF block with Windows'
/// XPKeywords. Each is inserted just after the JPEG's SOI marker; the picture is unchanged.
public enum KeywordedJPEG {
    public static func make(from jpeg: [UInt8], iptc: [String] = [], xmp: [String] = [], xpKeywords: String? = nil) -> [UInt8] {
        precondition(jpeg.starts(with: [0xFF, 0xD8]), "not a JPEG")
        var segments: [UInt8] = []
        if let xpKeywords { segments += segment(marker: 0xE1, exifBlock(xpKeywords: xpKeywords)) }
        if !xmp.isEmpty { segments += segment(marker: 0xE1, Array("http://ns.adobe.com/xap/1.0/\0".utf8) + xmpPacket(xmp)) }
        if !iptc.isEmpty { segments += segment(marker: 0xED, photoshopBlock(iim: iimRecords(iptc))) }
        return Array(jpeg[..<2]) + segments + Array(jpeg[2...])
    }

    /// IIM records: the coded character set (1:90, ESC % G: UTF-8), then one 2:25 per keyword.
    public static func iimRecords(_ keywords: [String]) -> [UInt8] {
        var records: [UInt8] = [0x1C, 0x01, 0x5A, 0x00, 0x03, 0x1B, 0x25, 0x47]
        for keyword in keywords {
            let bytes = Array(keyword.utf8)
            records += [0x1C, 0x02, 0x19]
            records += bigEndian16(bytes.count)
            records += bytes
        }
        return records
    }

    /// An APP13 payload: "Photoshop 3.0", then one image resource, 0x0404, holding `iim`.
    public static func photoshopBlock(iim: [UInt8]) -> [UInt8] {
        var block: [UInt8] = Array("Photoshop 3.0\0".utf8)
        block += Array("8BIM".utf8)
        block += [0x04, 0x04, 0x00, 0x00]
        block += bigEndian32(iim.count)
        block += iim
        if iim.count % 2 == 1 { block.append(0) }
        return block
    }

    /// An XMP packet whose `dc:subject` bag holds `keywords` (XML-escaped).
    public static func xmpPacket(_ keywords: [String]) -> [UInt8] {
        let items = keywords.map { "<rdf:li>\(escaped($0))</rdf:li>" }.joined(separator: "\n     ")
        let packet = """
            <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
            <x:xmpmeta xmlns:x="adobe:ns:meta/">
             <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
              <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
               <dc:subject>
                <rdf:Bag>
                 \(items)
                </rdf:Bag>
               </dc:subject>
              </rdf:Description>
             </rdf:RDF>
            </x:xmpmeta>
            <?xpacket end="w"?>
            """
        return Array(packet.utf8)
    }

    /// An APP1 EXIF payload: "Exif", a little-endian TIFF header, IFD0 with one entry,
    /// XPKeywords (0x9C9E, BYTE), its value UTF-16LE with a terminating NUL.
    public static func exifBlock(xpKeywords: String) -> [UInt8] {
        var value: [UInt8] = xpKeywords.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        value += [0, 0]
        var block: [UInt8] = Array("Exif\0\0".utf8)
        block += [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00]  // TIFF header, IFD0 at 8
        block += [0x01, 0x00]  // one entry
        block += [0x9E, 0x9C, 0x01, 0x00]
        block += littleEndian32(value.count)
        // Up to 4 bytes sit in the entry itself; a longer value follows the IFD.
        let inline = value.count <= 4
        block += inline ? value + [UInt8](repeating: 0, count: 4 - value.count) : littleEndian32(26)
        block += [0x00, 0x00, 0x00, 0x00]  // no next IFD
        return inline ? block : block + value
    }

    static func segment(marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let header: [UInt8] = [0xFF, marker]
        return header + bigEndian16(payload.count + 2) + payload
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static func bigEndian16(_ value: Int) -> [UInt8] { [UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }
    static func bigEndian32(_ value: Int) -> [UInt8] { bigEndian16(value >> 16) + bigEndian16(value) }
    static func littleEndian32(_ value: Int) -> [UInt8] { Array(bigEndian32(value).reversed()) }
}
