import MediaCore

/// JPEG, losslessly: the same DCT coefficients in progressive scans with optimised Huffman
/// tables, then proven by decoding source and result and comparing every pixel byte.
enum JPEGOptimizer {
    static let method = "jpeg-lossless"

    static func optimize(source: [UInt8]) throws(OptimizationError) -> [UInt8] {
        let optimized = try TurboJPEG(.transform).transcodeLosslessly(source)
        let decoder = try TurboJPEG(.decompress)
        let expected = try decoder.decompress(source)
        let actual = try decoder.decompress(optimized)
        guard expected == actual else {
            throw OptimizationError("the transcoded JPEG decodes to different pixels than the source")
        }
        return optimized
    }
}
