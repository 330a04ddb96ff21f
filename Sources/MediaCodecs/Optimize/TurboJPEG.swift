import CTurboJPEG

/// Owns one TurboJPEG instance (a transformer or a decompressor) and frees it with `tjDestroy`.
final class TurboJPEG {
    enum Role {
        case transform, decompress
    }

    /// The header facts `tjDecompressHeader3` reads.
    struct Header {
        var width: Int
        var height: Int
        var colorspace: TJCS
    }

    private let handle: tjhandle

    init(_ role: Role) throws(OptimizationError) {
        let created: tjhandle? =
            switch role {
            case .transform: tjInitTransform()
            case .decompress: tjInitDecompress()
            }
        guard let created else { throw OptimizationError("libjpeg-turbo could not start (out of memory)") }
        handle = created
    }

    deinit {
        tjDestroy(handle)
    }

    /// Re-codes the JPEG's DCT coefficients without decoding them: Huffman tables computed for
    /// this image (libjpeg always optimises them in progressive mode) and progressive scans. Every
    /// marker is copied (TJXOPT_COPYNONE not set), so EXIF, ICC, XMP and IPTC stay. Warnings
    /// (a truncated or damaged stream) are errors: a damaged file is left as it is.
    func transcodeLosslessly(_ jpeg: [UInt8]) throws(OptimizationError) -> [UInt8] {
        var transform = tjtransform()
        transform.op = Int32(TJXOP_NONE.rawValue)
        transform.options = TJXOPT_PROGRESSIVE
        var output: UnsafeMutablePointer<UInt8>? = nil
        var outputSize: UInt = 0
        let status = jpeg.withUnsafeBufferPointer { source in
            tjTransform(handle, source.baseAddress, UInt(source.count), 1, &output, &outputSize, &transform, TJFLAG_STOPONWARNING)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else {
            throw OptimizationError("libjpeg-turbo could not transcode the JPEG: \(lastError)")
        }
        return [UInt8](UnsafeBufferPointer(start: output, count: Int(outputSize)))
    }

    func header(of jpeg: [UInt8]) throws(OptimizationError) -> Header {
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let status = jpeg.withUnsafeBufferPointer { source in
            tjDecompressHeader3(handle, source.baseAddress, UInt(source.count), &width, &height, &subsampling, &colorspace)
        }
        guard status == 0 else { throw OptimizationError("libjpeg-turbo could not read the JPEG header: \(lastError)") }
        return Header(width: Int(width), height: Int(height), colorspace: TJCS(rawValue: UInt32(colorspace)))
    }

    /// Decodes the whole picture in the pixel format that loses nothing of what the file stores:
    /// CMYK for CMYK and YCCK files (decoded to RGB they would be converted), gray for gray, RGB
    /// otherwise.
    func decompress(_ jpeg: [UInt8]) throws(OptimizationError) -> [UInt8] {
        let header = try header(of: jpeg)
        let (pixelFormat, bytesPerPixel): (TJPF, Int) =
            switch header.colorspace {
            case TJCS_CMYK, TJCS_YCCK: (TJPF_CMYK, 4)
            case TJCS_GRAY: (TJPF_GRAY, 1)
            default: (TJPF_RGB, 3)
            }
        var pixels = [UInt8](repeating: 0, count: header.width * header.height * bytesPerPixel)
        let status = jpeg.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                tjDecompress2(
                    handle, source.baseAddress, UInt(source.count), target.baseAddress, Int32(header.width), 0,
                    Int32(header.height), Int32(pixelFormat.rawValue), TJFLAG_STOPONWARNING)
            }
        }
        guard status == 0 else { throw OptimizationError("libjpeg-turbo could not decode the JPEG: \(lastError)") }
        return pixels
    }

    private var lastError: String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: text)
    }
}
