import Foundation

/// A decoded picture, read back with the ffmpeg tool so the checks do not trust the code under test.
struct RGBPicture {
    let width: Int
    let height: Int
    let pixels: [UInt8]

    /// Decodes any image ffmpeg reads (the poster JPEG, a PNG) through a binary PPM.
    init(imageAt path: String, scratch folder: VideoFixtureFolder) throws {
        let ppm = try folder.ffmpeg(["-i", path, "-frames:v", "1", "-f", "image2", "-c:v", "ppm"], output: UUID().uuidString + ".ppm")
        try self.init(ppm: [UInt8](Data(contentsOf: URL(fileURLWithPath: ppm))))
    }

    /// Parses "P6 <width> <height> 255" followed by the RGB bytes, as ffmpeg writes it.
    init(ppm: [UInt8]) throws {
        var fields: [String] = []
        var index = 0
        while fields.count < 4, index < ppm.count {
            while index < ppm.count, ppm[index] == 0x20 || ppm[index] == 0x0A { index += 1 }
            let start = index
            while index < ppm.count, ppm[index] != 0x20, ppm[index] != 0x0A { index += 1 }
            fields.append(String(decoding: ppm[start..<index], as: UTF8.self))
        }
        index += 1  // the single whitespace byte before the pixels
        guard fields.count == 4, fields[0] == "P6", let width = Int(fields[1]), let height = Int(fields[2]), fields[3] == "255",
            ppm.count - index == width * height * 3
        else { throw FFmpegToolError(description: "not an 8-bit binary PPM: \(fields)") }
        self.width = width
        self.height = height
        self.pixels = Array(ppm[index...])
    }

    func pixel(x: Int, y: Int) -> RGB {
        let offset = (y * width + x) * 3
        return RGB(red: Int(pixels[offset]), green: Int(pixels[offset + 1]), blue: Int(pixels[offset + 2]))
    }

    var centre: RGB { pixel(x: width / 2, y: height / 2) }
}

struct RGB: CustomStringConvertible {
    let red: Int
    let green: Int
    let blue: Int

    static let black = RGB(red: 0, green: 0, blue: 0)
    static let red = RGB(red: 255, green: 0, blue: 0)
    static let green = RGB(red: 0, green: 128, blue: 0)  // lavfi's "green" is CSS green
    static let blue = RGB(red: 0, green: 0, blue: 255)
    static let white = RGB(red: 255, green: 255, blue: 255)

    /// Lossy video plus JPEG moves solid colours by a few steps per channel.
    func isClose(to other: RGB, tolerance: Int = 24) -> Bool {
        abs(red - other.red) <= tolerance && abs(green - other.green) <= tolerance && abs(blue - other.blue) <= tolerance
    }

    var description: String { "rgb(\(red), \(green), \(blue))" }
}

/// The JPEG markers that matter for posters: baseline coding and no metadata segments.
struct JPEGStructure {
    let isBaseline: Bool
    let isProgressive: Bool
    let hasExif: Bool

    init(fileAt path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var markers: Set<UInt8> = []
        var index = 2  // after SOI
        // Walk the marker segments up to the start of the entropy-coded scan.
        while index + 4 <= bytes.count, bytes[index] == 0xFF {
            let marker = bytes[index + 1]
            markers.insert(marker)
            if marker == 0xDA { break }
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            index += 2 + length
        }
        isBaseline = markers.contains(0xC0)
        isProgressive = markers.contains(0xC2)
        hasExif = markers.contains(0xE1)
    }
}
