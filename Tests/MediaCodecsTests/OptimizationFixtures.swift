import Foundation
import MediaCodecs
import MediaCore

/// Files for the optimiser's tests, made by ImageMagick's `convert` and the ffmpeg tool (test
/// tooling only; the optimiser links the libraries).
enum OptimizationFixtures {
    static func convert(_ arguments: [String]) throws {
        try FixtureTool.run("/usr/bin/convert", arguments)
    }

    /// A photo-like picture (a seeded plasma: smooth gradients and fine noise, as a camera
    /// gives) saved as a baseline JPEG with the standard Huffman tables, as cameras write it.
    static func cameraLikeJPEG(_ path: String, size: String = "1200x900", extra: [String] = []) throws {
        try convert(
            ["-seed", "7", "-size", size, "plasma:fractal"] + extra
                + ["-quality", "92", "-define", "jpeg:optimize-coding=false", "-interlace", "none", path])
    }

    /// A screenshot-like picture (flat areas, thin lines, a shape) saved with zlib's fastest
    /// setting. No text: the test machines have no fonts for ImageMagick.
    static func lowCompressionPNG(_ path: String, extra: [String] = []) throws {
        try convert(
            [
                "-size", "800x600", "xc:#f0f0f0", "-fill", "#3060c0", "-draw", "rectangle 0,0 799,40",
                "-fill", "black", "-draw", "line 10,100 790,590", "-draw", "line 10,120 790,120",
                "-fill", "#c03030", "-draw", "circle 400,300 450,350",
            ] + extra + ["-define", "png:compression-level=1", "-define", "png:compression-filter=0", path])
    }

    /// `lowCompressionPNG` with a translucent alpha channel, stored as 8-bit RGBA.
    static func lowCompressionPNGWithAlpha(_ path: String) throws {
        try lowCompressionPNG("png32:" + path, extra: ["-alpha", "set", "-channel", "A", "-evaluate", "set", "60%", "+channel"])
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func size(_ path: String) throws -> Int64 {
        Int64(try bytes(path).count)
    }

    /// Inserts APP1 (EXIF with `orientation`) and APP2 (an ICC profile block) after the JPEG's
    /// SOI. The profile's bytes need not be a valid profile: the check is that they survive.
    static func addEXIFOrientationAndICC(_ path: String, orientation: UInt8) throws {
        var bytes = try bytes(path)
        let exif: [UInt8] =
            [0xFF, 0xE1, 0x00, 0x22] + Array("Exif".utf8) + [0, 0]
            + [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00]  // TIFF header, IFD at offset 8
            + [0x01, 0x00]  // one entry
            + [0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00, 0x00, 0x00]
            + [0x00, 0x00, 0x00, 0x00]  // no next IFD
        let profile = (0..<300).map { UInt8($0 % 251) }
        let iccPayload = Array("ICC_PROFILE".utf8) + [0, 1, 1] + profile
        let icc: [UInt8] = [0xFF, 0xE2, UInt8((iccPayload.count + 2) >> 8), UInt8((iccPayload.count + 2) & 0xFF)] + iccPayload
        bytes.insert(contentsOf: exif + icc, at: 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The JPEG's marker segments before its first scan, as (marker, payload).
    static func jpegSegments(_ bytes: [UInt8]) -> [(marker: UInt8, payload: [UInt8])] {
        var segments: [(marker: UInt8, payload: [UInt8])] = []
        var offset = 2
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard offset + 2 + length <= bytes.count else { break }
            segments.append((marker, Array(bytes[offset + 4..<offset + 2 + length])))
            if marker == 0xDA { break }  // start of scan
            offset += 2 + length
        }
        return segments
    }

    /// The value of EXIF tag 0x0112 in a little-endian APP1 block as `addEXIFOrientationAndICC` writes it.
    static func exifOrientation(_ bytes: [UInt8]) -> UInt8? {
        guard let exif = jpegSegments(bytes).first(where: { $0.marker == 0xE1 && $0.payload.starts(with: Array("Exif".utf8)) })
        else { return nil }
        let payload = exif.payload
        for index in payload.indices.dropLast(8) where payload[index] == 0x12 && payload[index + 1] == 0x01 {
            return payload[index + 8]
        }
        return nil
    }

    /// The decoder worker is `mediad --decoder-worker`, built beside the test bundle.
    static func workerCommand() -> [String] {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        return [directory.appendingPathComponent("mediad").path, "--decoder-worker", "--memory-limit", String(4 << 30)]
    }
}

extension OptimizationFixtures {
    /// A PNG's bit depth and colour type, from its IHDR chunk (which always comes first).
    static func pngDepthAndColourType(_ path: String) throws -> (depth: UInt8, colourType: UInt8) {
        let bytes = try bytes(path)
        return (bytes[24], bytes[25])
    }

    /// The top-level atom names of an MP4 file.
    static func topLevelAtoms(_ path: String) throws -> [String] {
        let bytes = try bytes(path)
        var names: [String] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            var size = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            names.append(String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self))
            if size == 1 { size = bytes[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) } }
            guard size >= 8 else { break }
            offset += size
        }
        return names
    }

    /// H.264 with AAC as ffmpeg writes it by default: the index (`moov`) after the media data.
    static func videoWithTrailingIndex(_ path: String, seconds: Int = 2, videoArguments: [String] = ["-crf", "23"]) throws {
        try FFmpegTool.run(
            [
                "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=\(seconds)",
                "-f", "lavfi", "-i", "sine=frequency=440:duration=\(seconds)",
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            ] + videoArguments + ["-c:a", "aac", "-shortest", path])
    }
}
