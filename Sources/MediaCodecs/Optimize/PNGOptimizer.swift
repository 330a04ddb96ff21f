import CMediaShim

/// PNG, losslessly: re-encoded by libvips at zlib's strongest level with every row filter
/// tried, same bands and bit depth, metadata kept; proven by decoding both files and comparing
/// every sample (16-bit samples and alpha included).
enum PNGOptimizer {
    static let method = "png-lossless"

    static func optimize(path: String, to output: String) throws(OptimizationError) {
        do {
            try NativeLibraries.startVips()
        } catch {
            throw OptimizationError("libvips did not start: \(error)")
        }
        var message = [CChar](repeating: 0, count: 512)
        guard mshim_png_recompress(path, output, &message, 512) == 0 else {
            throw OptimizationError("libvips could not re-encode the PNG: \(CText.string(message))")
        }
        var identical: Int32 = 0
        var difference = [CChar](repeating: 0, count: 256)
        guard mshim_images_identical(path, output, &identical, &difference, 256, &message, 512) == 0 else {
            throw OptimizationError("libvips could not compare the re-encoded PNG with the source: \(CText.string(message))")
        }
        guard identical == 1 else {
            throw OptimizationError("the re-encoded PNG is not the source: \(CText.string(difference))")
        }
    }
}
