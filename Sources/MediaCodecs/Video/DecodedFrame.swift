import CFFmpeg

/// Owns one AVFrame: a decoded picture, or the RGB picture swscale converts it to.
final class DecodedFrame {
    private let frame: UnsafeMutablePointer<AVFrame>

    /// nil only when memory runs out.
    init?() {
        guard let frame = av_frame_alloc() else { return nil }
        self.frame = frame
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&freeing)
    }

    var width: Int { Int(frame.pointee.width) }
    var height: Int { Int(frame.pointee.height) }
    var pixelFormat: AVPixelFormat { AVPixelFormat(rawValue: frame.pointee.format) }
    var colorSpace: AVColorSpace { frame.pointee.colorspace }
    var colorRange: AVColorRange { frame.pointee.color_range }

    /// The frame's presentation time in its stream's time base, as libavcodec best guesses it.
    var timestamp: Int64? {
        let guess = frame.pointee.best_effort_timestamp
        return guess == Libav.noTimestamp ? nil : guess
    }

    /// Copies the first plane's rows without their alignment padding: for packed formats such as RGB24
    /// that plane is the whole picture.
    func packedFirstPlane(bytesPerPixel: Int) -> [UInt8] {
        let rowBytes = width * bytesPerPixel
        let stride = Int(frame.pointee.linesize.0)
        guard let source = frame.pointee.data.0, rowBytes > 0, height > 0, stride >= rowBytes else { return [] }
        return [UInt8](unsafeUninitializedCapacity: rowBytes * height) { destination, initialized in
            for row in 0..<height {
                let target = destination.baseAddress! + row * rowBytes
                target.initialize(from: source + row * stride, count: rowBytes)
            }
            initialized = rowBytes * height
        }
    }

    /// Lends the AVFrame to a libav call for the duration of `body`.
    func withFrame<Result>(_ body: (UnsafeMutablePointer<AVFrame>) throws -> Result) rethrows -> Result {
        try body(frame)
    }
}
