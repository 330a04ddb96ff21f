import Foundation
import MediaCore

/// The keywords a photographer or an agency wrote into an image file, read from the metadata
/// blocks libvips hands over (`ImageProbe`): IPTC-IIM keywords (record 2, dataset 25), XMP
/// `dc:subject` items and the EXIF `XPKeywords` tag that Windows writes.
///
/// These parsers read bytes from files anyone may have made, so every read is bounds-checked,
/// every loop advances, and what they return is capped: at most `maximumCount` keywords of at
/// most `maximumBytes` bytes each (a longer one is a sentence, not a keyword, and is skipped).
/// A malformed block gives the keywords read before the damage, never a crash. They return the
/// text as written; the core normalises it as it normalises every tag.
public enum EmbeddedKeywords {
    public static let maximumCount = FileKeywords.maximumCount
    public static let maximumBytes = 100

    /// The keywords of all three blocks, IPTC first, then XMP, then EXIF; a keyword written in
    /// several of them (as editors do) is kept once.
    public static func combined(iptc: [UInt8], xmp: [UInt8], exif: [UInt8]) -> [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for keyword in fromIPTC(iptc) + fromXMP(xmp) + fromEXIF(exif) where result.count < maximumCount {
            if seen.insert(keyword).inserted { result.append(keyword) }
        }
        return result
    }

    // MARK: - IPTC

    private static let photoshopSignature = Array("Photoshop 3.0\0".utf8)
    private static let resourceSignature = Array("8BIM".utf8)

    /// Keywords from an IPTC block: a JPEG's APP13 payload ("Photoshop 3.0", then image
    /// resources), the resources alone, or bare IIM records (as TIFF keeps them).
    public static func fromIPTC(_ block: [UInt8]) -> [String] {
        let bytes = BoundedBytes(block)
        if block.starts(with: photoshopSignature) {
            return bytes.iptcResource(from: photoshopSignature.count).map(iimKeywords) ?? []
        }
        if block.starts(with: resourceSignature) {
            return bytes.iptcResource(from: 0).map(iimKeywords) ?? []
        }
        return iimKeywords(bytes)
    }

    /// IIM records: 0x1C, record, dataset, a 16-bit length (or, with its top bit set, the
    /// number of bytes of a longer length), then the data. Keywords are 2:25.
    static func iimKeywords(_ bytes: BoundedBytes) -> [String] {
        var keywords: [String] = []
        var offset = bytes.start
        while keywords.count < maximumCount, bytes.byte(at: offset) == 0x1C,
            let record = bytes.byte(at: offset + 1), let dataset = bytes.byte(at: offset + 2),
            let short = bytes.uint16(at: offset + 3, bigEndian: true)
        {
            var length = Int(short)
            var header = 5
            if short & 0x8000 != 0 {
                let lengthBytes = Int(short & 0x7FFF)
                guard (1...4).contains(lengthBytes), let long = bytes.uint(at: offset + 5, count: lengthBytes) else { break }
                length = long
                header += lengthBytes
            }
            let dataStart = offset + header
            guard length <= bytes.end - dataStart else { break }  // cut short: nothing after it is whole
            if record == 2, dataset == 25, let keyword = text(bytes.slice(dataStart, length)) {
                keywords.append(keyword)
            }
            offset = dataStart + length
        }
        return keywords
    }

    // MARK: - XMP

    /// Keywords from an XMP packet: the `rdf:li` items of `dc:subject` (a bag). The packet is
    /// searched as bytes, not parsed as XML: a packet cut short still gives its whole items.
    public static func fromXMP(_ packet: [UInt8]) -> [String] {
        let bytes = BoundedBytes(packet)
        var keywords: [String] = []
        var searchFrom = bytes.start
        while keywords.count < maximumCount, let subject = bytes.element("dc:subject", from: searchFrom, before: bytes.end) {
            let end = bytes.find("</dc:subject>", from: subject, before: bytes.end) ?? bytes.end
            var position = subject
            while keywords.count < maximumCount, let item = bytes.element("rdf:li", from: position, before: end),
                let close = bytes.find("</rdf:li>", from: item, before: end)
            {
                let raw = bytes.slice(item, close - item)
                if !raw.contains(UInt8(ascii: "<")), let keyword = text(unescapingXML(raw)) {
                    keywords.append(keyword)
                }
                position = close + "</rdf:li>".utf8.count
            }
            searchFrom = max(end, subject)
        }
        return keywords
    }

    /// XML's five named entities and numeric character references; anything else stays as written.
    static func unescapingXML(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        guard raw.contains(UInt8(ascii: "&")) else { return Array(raw) }
        let named: [String: String] = ["lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'"]
        var result: [UInt8] = []
        var index = raw.startIndex
        while index < raw.endIndex {
            if raw[index] == UInt8(ascii: "&"),
                let semicolon = raw[index..<min(raw.endIndex, index + 12)].firstIndex(of: UInt8(ascii: ";"))
            {
                let name = String(decoding: raw[(index + 1)..<semicolon], as: UTF8.self)
                var replacement: String?
                if let value = named[name] {
                    replacement = value
                } else if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    replacement = UInt32(name.dropFirst(2), radix: 16).flatMap { Unicode.Scalar($0) }.map { String($0) }
                } else if name.hasPrefix("#") {
                    replacement = UInt32(name.dropFirst()).flatMap { Unicode.Scalar($0) }.map { String($0) }
                }
                if let replacement {
                    result += Array(replacement.utf8)
                    index = semicolon + 1
                    continue
                }
            }
            result.append(raw[index])
            index += 1
        }
        return result
    }

    // MARK: - EXIF

    private static let exifSignature = Array("Exif\0\0".utf8)
    private static let xpKeywordsTag: UInt16 = 0x9C9E

    /// Keywords from an EXIF block (with or without its "Exif" header): the XPKeywords tag of
    /// IFD0, UTF-16LE whatever the block's byte order, separated by semicolons.
    public static func fromEXIF(_ block: [UInt8]) -> [String] {
        let base = block.starts(with: exifSignature) ? exifSignature.count : 0
        let bytes = BoundedBytes(block)
        let bigEndian: Bool
        switch (bytes.byte(at: base), bytes.byte(at: base + 1)) {
        case (0x49, 0x49): bigEndian = false
        case (0x4D, 0x4D): bigEndian = true
        default: return []
        }
        guard bytes.uint16(at: base + 2, bigEndian: bigEndian) == 42,
            let ifd = bytes.uint32(at: base + 4, bigEndian: bigEndian).map({ base + Int($0) }),
            let entries = bytes.uint16(at: ifd, bigEndian: bigEndian)
        else { return [] }
        for entry in 0..<Int(entries) {
            let at = ifd + 2 + entry * 12
            guard let tag = bytes.uint16(at: at, bigEndian: bigEndian) else { break }
            guard tag == xpKeywordsTag,
                let type = bytes.uint16(at: at + 2, bigEndian: bigEndian),
                let count = bytes.uint32(at: at + 4, bigEndian: bigEndian).map(Int.init)
            else { continue }
            // BYTE (1), as Windows writes it; UNDEFINED (7) from some other tools.
            guard type == 1 || type == 7 else { return [] }
            let valueAt: Int
            if count <= 4 {
                valueAt = at + 8
            } else {
                guard let offset = bytes.uint32(at: at + 8, bigEndian: bigEndian) else { return [] }
                valueAt = base + Int(offset)
            }
            guard valueAt >= bytes.start, count <= bytes.end - valueAt else { return [] }
            let value = bytes.slice(valueAt, count)
            var units: [UInt16] = []
            var index = value.startIndex
            while index + 1 < value.endIndex {
                let unit = UInt16(value[index]) | UInt16(value[index + 1]) << 8
                if unit == 0 { break }
                units.append(unit)
                index += 2
            }
            let list = String(decoding: units, as: UTF16.self)
            return list.split(separator: ";").prefix(maximumCount).compactMap { text(Array($0.utf8)[...]) }
        }
        return []
    }

    // MARK: - Text

    /// A keyword's text: UTF-8, or Latin-1 when the bytes are not UTF-8 (older IPTC writers);
    /// trimmed; nil when empty, over `maximumBytes`, or holding control characters.
    static func text<Raw: Collection<UInt8>>(_ data: Raw) -> String? {
        guard data.count <= maximumBytes * 4 else { return nil }
        let decoded = String(validating: data, as: UTF8.self) ?? String(data.map { Character(Unicode.Scalar($0)) })
        let trimmed = decoded.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.utf8.count <= maximumBytes,
            !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        return trimmed
    }
}

/// Bounds-checked reads from a block of bytes: every accessor returns nil rather than read
/// outside it.
struct BoundedBytes {
    let storage: [UInt8]
    var start: Int { storage.startIndex }
    var end: Int { storage.endIndex }

    init(_ storage: [UInt8]) { self.storage = storage }

    func byte(at offset: Int) -> UInt8? {
        offset >= start && offset < end ? storage[offset] : nil
    }

    func uint16(at offset: Int, bigEndian: Bool) -> UInt16? {
        guard let first = byte(at: offset), let second = byte(at: offset + 1) else { return nil }
        return bigEndian ? UInt16(first) << 8 | UInt16(second) : UInt16(second) << 8 | UInt16(first)
    }

    func uint32(at offset: Int, bigEndian: Bool) -> UInt32? {
        guard let high = uint16(at: bigEndian ? offset : offset + 2, bigEndian: bigEndian),
            let low = uint16(at: bigEndian ? offset + 2 : offset, bigEndian: bigEndian)
        else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }

    /// A big-endian unsigned number of 1 to 4 bytes.
    func uint(at offset: Int, count: Int) -> Int? {
        var value = 0
        for index in 0..<count {
            guard let next = byte(at: offset + index) else { return nil }
            value = value << 8 | Int(next)
        }
        return value
    }

    /// `length` bytes from `offset`, cut at the end of the block.
    func slice(_ offset: Int, _ length: Int) -> ArraySlice<UInt8> {
        let from = min(max(offset, start), end)
        return storage[from..<(from + min(max(0, length), end - from))]
    }

    /// Where `pattern` first starts in [from, before), or nil.
    func find(_ pattern: String, from: Int, before: Int) -> Int? {
        let needle = Array(pattern.utf8)
        guard let first = needle.first, from >= start else { return nil }
        var index = from
        let last = min(before, end) - needle.count
        while index <= last {
            if storage[index] == first, storage[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// Just after the `>` of the next opening tag `<name …>` in [from, before), skipping empty
    /// elements (`<name/>`) and longer names that start the same (`<namefoo>`); nil when none.
    func element(_ name: String, from: Int, before: Int) -> Int? {
        var position = from
        while let open = find("<" + name, from: position, before: before) {
            let after = open + 1 + name.utf8.count
            position = after
            guard let next = byte(at: after), next == UInt8(ascii: ">") || next == UInt8(ascii: "/") || Self.isSpace(next)
            else { continue }
            guard let close = find(">", from: after, before: before) else { return nil }
            position = close + 1
            if byte(at: close - 1) == UInt8(ascii: "/") { continue }
            return close + 1
        }
        return nil
    }

    /// The Photoshop image resource that holds the IPTC-IIM records.
    static let iptcResourceID: UInt16 = 0x0404

    /// The data of the first IPTC image resource (0x0404) of the resources that start at
    /// `offset`: each `8BIM`, a 16-bit id, a Pascal name padded to even, a 32-bit size, the data
    /// padded to even. nil when there is none; a resource cut short gives what is there.
    func iptcResource(from offset: Int) -> BoundedBytes? {
        var position = offset
        while let signature = uint32(at: position, bigEndian: true), signature == 0x3842_494D,  // "8BIM"
            let id = uint16(at: position + 4, bigEndian: true), let nameLength = byte(at: position + 6)
        {
            let nameBytes = (1 + Int(nameLength) + 1) & ~1
            guard let size = uint32(at: position + 6 + nameBytes, bigEndian: true).map(Int.init) else { return nil }
            let dataStart = position + 6 + nameBytes + 4
            if id == Self.iptcResourceID { return BoundedBytes(Array(slice(dataStart, size))) }
            guard size <= end - dataStart else { return nil }
            position = dataStart + ((size + 1) & ~1)
        }
        return nil
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
