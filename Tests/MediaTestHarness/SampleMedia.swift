package import Foundation
package import MediaCore
import Testing

/// Sample media made for the tests by ImageMagick's and FFmpeg's command-line tools (test
/// tooling only; the product reads them with libvips and FFmpeg's libraries).
package enum SampleMedia {
    package static let convert = "/usr/bin/convert"
    package static let ffmpeg = "/usr/bin/ffmpeg"

    package static func make(_ arguments: [String]) throws {
        let outcome = try ChildProcess.run(arguments, environment: ProcessInfo.processInfo.environment)
        try #require(outcome.status == 0, "\(arguments.joined(separator: " ")): \(outcome.output)")
    }

    /// A 1600×1200 image: red, with a white square in the top-left corner.
    package static func image(_ path: String, extra: [String] = []) throws {
        try make([convert, "-size", "1600x1200", "xc:red", "-fill", "white", "-draw", "rectangle 0,0 199,199"] + extra + [path])
    }

    /// Writes an EXIF block with `orientation` into a JPEG (ImageMagick's `-orient` does not
    /// create one): APP1 "Exif", a little-endian TIFF header and one IFD entry, tag 0x0112.
    package static func setEXIFOrientation(_ path: String, _ orientation: UInt8) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(bytes.starts(with: [0xFF, 0xD8]))
        let exif: [UInt8] =
            [0xFF, 0xE1, 0x00, 0x22] + Array("Exif".utf8) + [0, 0]
            + [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00]  // TIFF header, IFD at offset 8
            + [0x01, 0x00]  // one entry
            + [0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00, 0x00, 0x00]
            + [0x00, 0x00, 0x00, 0x00]  // no next IFD
        bytes.insert(contentsOf: exif, at: 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    package static func video(_ path: String, seconds: Double = 2, size: String = "640x360", extra: [String] = []) throws {
        try make(
            [
                ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=25:duration=\(seconds)",
            ] + extra + [path])
    }
}
