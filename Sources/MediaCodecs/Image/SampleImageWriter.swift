import CMediaShim

/// Generated pictures for `mediaq seed`, made in process with libvips (no ImageMagick needed):
/// a diagonal gradient between two colours with a band pattern that `variant` shifts, so
/// every call with a different variant gives different bytes.
public enum SampleImageWriter {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Writes a `width` × `height` JPEG to `path`.
    public static func writeJPEG(
        to path: String, width: Int, height: Int, from: (UInt8, UInt8, UInt8), to target: (UInt8, UInt8, UInt8),
        variant: Int, quality: Int = 88
    ) throws(Failure) {
        do {
            try NativeLibraries.startVips()
        } catch {
            throw Failure(description: "libvips did not start: \(error)")
        }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let span = max(1, width + height)
        let bands = 6 + variant % 11
        for y in 0..<height {
            for x in 0..<width {
                let t = (x + y) * 255 / span
                let stripe = ((x * bands / max(1, width)) + (y * 3 / max(1, height)) + variant) % 2 == 0 ? 0 : 24
                let offset = (y * width + x) * 3
                rgb[offset] = mix(from.0, target.0, t, stripe)
                rgb[offset + 1] = mix(from.1, target.1, t, stripe)
                rgb[offset + 2] = mix(from.2, target.2, t, stripe)
            }
        }
        var outWidth: Int32 = 0
        var outHeight: Int32 = 0
        var message = [CChar](repeating: 0, count: 1024)
        // The poster writer at the picture's own width: no scaling, no padding, a plain JPEG.
        let status = mshim_rgb_poster_jpeg(
            rgb, Int32(width), Int32(height), 0, Int32(width), Int32(height), path, Int32(quality),
            &outWidth, &outHeight, &message, 1024)
        guard status == 0 else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Failure(description: "cannot write \(path): \(reason)")
        }
    }

    private static func mix(_ a: UInt8, _ b: UInt8, _ t: Int, _ stripe: Int) -> UInt8 {
        let value = (Int(a) * (255 - t) + Int(b) * t) / 255 - stripe
        return UInt8(max(0, min(255, value)))
    }
}
