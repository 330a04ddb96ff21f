import CFFmpeg
import Foundation

/// The luma PSNR of a re-encoded video against its source: both decoded, and the Y planes of
/// corresponding pictures compared (every picture of a short video; about 300 spread over a
/// long one). One figure over all compared pictures, from their mean squared error, as
/// ffmpeg's `psnr` filter reports its average.
enum LumaPSNR {
    /// What identical pictures score (their error is zero).
    static let identical = 100.0

    /// Formats whose first plane is 8-bit luma at full picture size.
    static let measurableFormats = Set<Int32>(
        [
            AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUV444P,
            AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_NV12, AV_PIX_FMT_NV21,
        ].map(\.rawValue))

    static func measure(source: String, result: String) throws(OptimizationError) -> Double {
        let original = try VideoFrameSource(path: source)
        let encoded = try VideoFrameSource(path: result)
        let frameCount = Int(original.reader.stream(original.streamIndex).pointee.nb_frames)
        let stride = max(1, frameCount / 300)
        let originalFrame = try OwnedFrame()
        let encodedFrame = try OwnedFrame()
        var squaredError: Double = 0
        var samples: Double = 0
        var index = 0
        while true {
            let hasOriginal = try original.next(into: originalFrame)
            let hasEncoded = try encoded.next(into: encodedFrame)
            guard hasOriginal == hasEncoded else {
                throw OptimizationError("the re-encoded video has a different number of pictures than the source")
            }
            guard hasOriginal else { break }
            if index % stride == 0 {
                squaredError += try lumaSquaredError(originalFrame.pointer, encodedFrame.pointer)
                samples += Double(originalFrame.pointer.pointee.width) * Double(originalFrame.pointer.pointee.height)
            }
            index += 1
        }
        guard samples > 0 else { throw OptimizationError("the source video has no pictures to compare") }
        guard squaredError > 0 else { return identical }
        return 10 * log10(255 * 255 / (squaredError / samples))
    }

    private static func lumaSquaredError(
        _ left: UnsafeMutablePointer<AVFrame>, _ right: UnsafeMutablePointer<AVFrame>
    ) throws(OptimizationError) -> Double {
        let width = Int(left.pointee.width)
        let height = Int(left.pointee.height)
        guard width == Int(right.pointee.width), height == Int(right.pointee.height) else {
            throw OptimizationError(
                "the re-encoded pictures are \(right.pointee.width)x\(right.pointee.height), the source's \(width)x\(height)")
        }
        guard left.pointee.format == right.pointee.format, measurableFormats.contains(left.pointee.format) else {
            throw OptimizationError("PSNR is measured on 8-bit YUV pictures only")
        }
        guard let leftPlane = left.pointee.data.0, let rightPlane = right.pointee.data.0 else {
            throw OptimizationError("a decoded picture has no luma plane")
        }
        let leftStride = Int(left.pointee.linesize.0)
        let rightStride = Int(right.pointee.linesize.0)
        var total: UInt64 = 0
        for row in 0..<height {
            let leftRow = leftPlane + row * leftStride
            let rightRow = rightPlane + row * rightStride
            var rowTotal: UInt64 = 0
            for column in 0..<width {
                let difference = Int32(leftRow[column]) - Int32(rightRow[column])
                rowTotal &+= UInt64(difference * difference)
            }
            total &+= rowTotal
        }
        return Double(total)
    }
}
