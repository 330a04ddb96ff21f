import CMediaShim

/// What an image's header says, in displayed terms.
public struct ImageInfo: Sendable, Equatable {
    /// Displayed width: after EXIF orientation.
    public let width: Int
    /// Displayed height.
    public let height: Int
    /// Frames of an animation or pages of a multi-page file; 1 for a still image.
    public let pageCount: Int
    /// EXIF orientation, 1 to 8 (1 when absent).
    public let orientation: Int
    /// libvips' loader, e.g. `jpegload`, `heifload`.
    public let loader: String
    public let interpretation: String
    /// The keywords written into the file (IPTC, XMP, EXIF XPKeywords), as written, capped:
    /// see `EmbeddedKeywords`.
    public var keywords: [String] = []

    /// Stored width × height: what decoding would allocate for one page.
    public var pixelCount: Int64 { Int64(width) * Int64(height) }
}

public struct ImageError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case unreadable, thumbnailFailed }
    public let kind: Kind
    public let message: String
    public var description: String { message }
}

/// Reads image headers through libvips without decoding pixels, so a decompression bomb is
/// measured before it is opened.
public enum ImageProbe {
    public static func probe(path: String) throws(ImageError) -> ImageInfo {
        do {
            try NativeLibraries.startVips()
        } catch {
            throw ImageError(kind: .unreadable, message: "libvips did not start: \(error)")
        }
        var info = MShimImageInfo()
        var blocks = MShimImageMetadata()
        var message = [CChar](repeating: 0, count: 512)
        guard mshim_probe_image(path, &info, &blocks, &message, 512) == 0 else {
            throw ImageError(kind: .unreadable, message: "\(path) is not a readable image: \(CText.string(message))")
        }
        defer { mshim_free_image_metadata(&blocks) }
        // Orientations 5 to 8 turn the picture a quarter: width and height swap on display.
        let swaps = (5...8).contains(info.orientation)
        var probed = ImageInfo(
            width: Int(swaps ? info.height : info.width),
            height: Int(swaps ? info.width : info.height),
            pageCount: max(1, Int(info.pages)),
            orientation: Int(info.orientation),
            loader: CText.string(info.loader),
            interpretation: CText.string(info.interpretation))
        probed.keywords = EmbeddedKeywords.combined(
            iptc: CText.bytes(blocks.iptc, blocks.iptc_length), xmp: CText.bytes(blocks.xmp, blocks.xmp_length),
            exif: CText.bytes(blocks.exif, blocks.exif_length))
        return probed
    }
}

/// Writes the library's image thumbnails: JPEG, `targetWidth` wide, displayed orientation,
/// sRGB, first page, transparency on white; a picture taller than `maxHeight` at that width is
/// fitted into the box and padded at the sides instead.
public enum ImageThumbnailer {
    @discardableResult
    public static func writeThumbnail(
        imagePath: String, jpegPath: String, targetWidth: Int = 400, maxHeight: Int = 1600, quality: Int = 85
    ) throws(ImageError) -> (width: Int, height: Int) {
        do {
            try NativeLibraries.startVips()
        } catch {
            throw ImageError(kind: .thumbnailFailed, message: "libvips did not start: \(error)")
        }
        var width: Int32 = 0
        var height: Int32 = 0
        var message = [CChar](repeating: 0, count: 512)
        guard
            mshim_thumbnail_jpeg(
                imagePath, jpegPath, Int32(targetWidth), Int32(maxHeight), Int32(quality), &width, &height, &message, 512) == 0
        else {
            throw ImageError(kind: .thumbnailFailed, message: "cannot make a thumbnail of \(imagePath): \(CText.string(message))")
        }
        return (Int(width), Int(height))
    }

    /// The RGB value of one pixel of an image file (for checking thumbnails).
    public static func pixel(of path: String, x: Int, y: Int) throws(ImageError) -> (red: Int, green: Int, blue: Int) {
        do {
            try NativeLibraries.startVips()
        } catch {
            throw ImageError(kind: .unreadable, message: "libvips did not start: \(error)")
        }
        var rgb: [Int32] = [0, 0, 0]
        var message = [CChar](repeating: 0, count: 512)
        guard mshim_read_pixel(path, Int32(x), Int32(y), &rgb, &message, 512) == 0 else {
            throw ImageError(kind: .unreadable, message: "cannot read \(path) at (\(x), \(y)): \(CText.string(message))")
        }
        return (Int(rgb[0]), Int(rgb[1]), Int(rgb[2]))
    }
}

/// Text from C character buffers and fixed arrays (imported as tuples).
enum CText {
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A copy of a C block of bytes (empty for NULL).
    static func bytes(_ pointer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: length))
    }

    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
