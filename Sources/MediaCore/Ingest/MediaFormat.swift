/// A file format the library stores, recognised from the file's first bytes, never from its name.
public struct MediaFormat: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case image, video
    }

    public let kind: Kind
    /// The extension the library stores the file under.
    public let canonicalExtension: String
    /// Other spellings of the same format that a dropped file may carry without disagreement.
    public let acceptedExtensions: Set<String>
    public let mimeType: String
    public let name: String

    public var description: String { name }

    init(_ kind: Kind, _ name: String, _ mime: String, _ canonical: String, _ others: [String] = []) {
        self.kind = kind
        self.name = name
        self.mimeType = mime
        self.canonicalExtension = canonical
        self.acceptedExtensions = Set([canonical] + others)
    }

    public static let jpeg = MediaFormat(.image, "JPEG", "image/jpeg", "jpg", ["jpeg", "jpe", "jfif"])
    public static let png = MediaFormat(.image, "PNG", "image/png", "png")
    public static let gif = MediaFormat(.image, "GIF", "image/gif", "gif")
    public static let webp = MediaFormat(.image, "WebP", "image/webp", "webp")
    public static let tiff = MediaFormat(.image, "TIFF", "image/tiff", "tif", ["tiff"])
    public static let heif = MediaFormat(.image, "HEIF", "image/heif", "heic", ["heif", "hif"])
    public static let avif = MediaFormat(.image, "AVIF", "image/avif", "avif")
    public static let mp4 = MediaFormat(.video, "MP4", "video/mp4", "mp4", ["m4v"])
    public static let quickTime = MediaFormat(.video, "QuickTime", "video/quicktime", "mov", ["qt"])
    public static let webm = MediaFormat(.video, "WebM", "video/webm", "webm")
    public static let matroska = MediaFormat(.video, "Matroska", "video/x-matroska", "mkv")
    public static let mpegProgramStream = MediaFormat(.video, "MPEG program stream", "video/mpeg", "mpg", ["mpeg", "vob"])
    public static let avi = MediaFormat(.video, "AVI", "video/x-msvideo", "avi")

    /// Every format the library stores.
    public static let all: [MediaFormat] = [
        .jpeg, .png, .gif, .webp, .tiff, .heif, .avif, .mp4, .quickTime, .webm, .matroska, .mpegProgramStream, .avi,
    ]

    /// The stored format with this MIME type.
    public static func withMimeType(_ mimeType: String) -> MediaFormat? {
        all.first { $0.mimeType == mimeType }
    }

    /// How many leading bytes `sniff` wants to see.
    public static let sniffLength = 4096

    /// What the bytes are, if the library stores that format.
    public static func sniff(_ bytes: some Collection<UInt8>) -> SniffResult {
        let head = Array(bytes.prefix(sniffLength))
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + signature.count && Array(head[offset..<offset + signature.count]) == signature
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }

        if head.isEmpty { return .empty }
        if starts([0xFF, 0xD8, 0xFF]) { return .media(.jpeg) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .media(.png) }
        if ascii("GIF87a") || ascii("GIF89a") { return .media(.gif) }
        if ascii("RIFF") && ascii("WEBP", at: 8) { return .media(.webp) }
        if ascii("RIFF") && ascii("AVI ", at: 8) { return .media(.avi) }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .media(.tiff) }
        if starts([0x00, 0x00, 0x01, 0xBA]) { return .media(.mpegProgramStream) }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) {
            // The EBML header names its DocType within the first few dozen bytes.
            let header = head.prefix(64)
            return .media(contains(header, Array("webm".utf8)) ? .webm : .matroska)
        }
        if ascii("ftyp", at: 4) { return isoBaseMedia(head) }
        // QuickTime files from older cameras may start with another atom than ftyp.
        for atom in ["moov", "mdat", "wide", "free", "skip", "pnot"] where ascii(atom, at: 4) {
            return .media(.quickTime)
        }
        if looksLikeMarkup(head) { return .markup }
        return .unknown
    }

    public enum SniffResult: Sendable, Equatable {
        case media(MediaFormat)
        case empty
        /// HTML or XML: typically an error page saved under a media file's name.
        case markup
        case unknown
    }

    /// Whether a file named with `fileExtension` may hold this format: `.jpeg` holds a JPEG,
    /// `.mp4` does not hold a WebM. No extension at all does not disagree.
    public func accepts(fileExtension: String) -> Bool {
        fileExtension.isEmpty || acceptedExtensions.contains(fileExtension.lowercased())
    }

    /// Whether a file of this format with these last bytes and this size ends where its format
    /// says it ends: a download cut short fails this even when its header reads fine. Only
    /// formats with a reliable end marker are checked; the rest pass (their decoder judges).
    public func looksComplete(tail: [UInt8], size: Int64, head: [UInt8]) -> Bool {
        switch name {
        case MediaFormat.jpeg.name:
            // EOI (FF D9), allowing the trailers some cameras append after it.
            return Self.find([0xFF, 0xD9], in: tail) != nil
        case MediaFormat.png.name:
            return Self.find(Array("IEND".utf8), in: tail) != nil
        case MediaFormat.gif.name:
            return tail.last == 0x3B || Self.find([0x00, 0x3B], in: tail) != nil
        case MediaFormat.webp.name, MediaFormat.avi.name:
            // RIFF: the size field counts the bytes after the first eight.
            guard head.count >= 8 else { return false }
            let declared = Int64(head[4]) | Int64(head[5]) << 8 | Int64(head[6]) << 16 | Int64(head[7]) << 24
            return size >= declared + 8
        default:
            return true
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in stride(from: haystack.count - needle.count, through: 0, by: -1)
        where Array(haystack[start..<start + needle.count]) == needle {
            return start
        }
        return nil
    }

    /// The ISO base media family (MP4, QuickTime, HEIF, AVIF), told apart by the ftyp brands.
    private static func isoBaseMedia(_ head: [UInt8]) -> SniffResult {
        guard head.count >= 12 else { return .unknown }
        let size = Int(head[0]) << 24 | Int(head[1]) << 16 | Int(head[2]) << 8 | Int(head[3])
        let end = min(head.count, max(16, size))
        var brands: [String] = [String(decoding: head[8..<12], as: UTF8.self)]
        var offset = 16
        while offset + 4 <= end {
            brands.append(String(decoding: head[offset..<offset + 4], as: UTF8.self))
            offset += 4
        }
        let major = brands[0]
        if ["avif", "avis"].contains(major) { return .media(.avif) }
        if ["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs"].contains(major) { return .media(.heif) }
        if ["mif1", "msf1"].contains(major) {
            return .media(brands.contains("avif") || brands.contains("avis") ? .avif : .heif)
        }
        if major == "qt  " { return .media(.quickTime) }
        return .media(.mp4)
    }

    private static func contains(_ haystack: some Collection<UInt8>, _ needle: [UInt8]) -> Bool {
        let bytes = Array(haystack)
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where Array(bytes[start..<start + needle.count]) == needle {
            return true
        }
        return false
    }

    private static func looksLikeMarkup(_ head: [UInt8]) -> Bool {
        var bytes = head[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let text = String(decoding: bytes.prefix(256), as: UTF8.self)
            .drop { $0.isWhitespace }.lowercased()
        return text.hasPrefix("<!doctype") || text.hasPrefix("<html") || text.hasPrefix("<?xml")
            || text.hasPrefix("<head") || text.hasPrefix("<body")
    }
}
