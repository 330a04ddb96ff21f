#if canImport(Glibc)
import Glibc
#endif

/// JPEG, losslessly: the same DCT coefficients in progressive scans with optimised Huffman
/// tables, then proven by decoding source and result and comparing every pixel byte.
enum JPEGOptimizer {
    static let method = "jpeg-lossless"

    static func optimize(source: [UInt8]) throws(OptimizationError) -> [UInt8] {
        let optimized = try TurboJPEG(.transform).transcodeLosslessly(source)
        let decoder = try TurboJPEG(.decompress)
        let expected = try decoder.decompress(source)
        let actual = try decoder.decompress(optimized)
        guard samePixels(expected, actual) else {
            throw OptimizationError("the transcoded JPEG decodes to different pixels than the source")
        }
        return optimized
    }

    /// memcmp: tens of megabytes of samples per photo.
    private static func samePixels(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        guard !left.isEmpty else { return true }
        return left.withUnsafeBytes { leftBytes in
            right.withUnsafeBytes { rightBytes in
                memcmp(leftBytes.baseAddress!, rightBytes.baseAddress!, leftBytes.count) == 0
            }
        }
    }
}
