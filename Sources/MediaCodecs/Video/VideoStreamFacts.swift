import CFFmpeg

/// A video stream's geometry and timing, copied out of libavformat so no pointer outlives the input.
struct VideoStreamFacts {
    let index: Int32
    let codecName: String
    /// Coded picture size, before the sample aspect ratio and rotation.
    let storedWidth: Int
    let storedHeight: Int
    let sampleAspectRatio: AVRational
    let clockwiseRotation: Int
    let timeBase: AVRational
    /// In `timeBase` units; nil when the container does not say.
    let startTime: Int64?
    let duration: Int64?
    /// libavformat's best guess of the frame rate, when it has one.
    let frameRate: AVRational?
    /// The decoder reported whole progressive pictures while the stream was probed; false when it saw
    /// interlaced pictures or could not tell.
    let isProgressive: Bool

    var framesPerSecond: Double? { frameRate.map(av_q2d) }

    /// Converts a time since the start of the stream into a timestamp in the stream's time base.
    func timestamp(atMilliseconds milliseconds: Int64) -> Int64 {
        (startTime ?? 0) + av_rescale_q(milliseconds, AVRational(num: 1, den: 1000), timeBase)
    }

    /// Where the picture `index` (counted from the first, in display order) belongs, for streams that
    /// carry no timestamps; nil without a frame rate.
    func timestamp(ofPictureNumber index: Int64) -> Int64? {
        guard let frameRate else { return nil }
        return (startTime ?? 0) + av_rescale_q(index, AVRational(num: frameRate.den, den: frameRate.num), timeBase)
    }

    /// How long one picture lasts at the guessed frame rate, in the stream's time base; nil without a frame
    /// rate or when the time base is too coarse to tell.
    var pictureDuration: Int64? {
        guard let frameRate else { return nil }
        let duration = av_rescale_q(1, AVRational(num: frameRate.den, den: frameRate.num), timeBase)
        return duration > 0 ? duration : nil
    }

    var durationMilliseconds: Int64? {
        duration.map { av_rescale_q($0, timeBase, AVRational(num: 1, den: 1000)) }
    }

    /// The size a viewer sees: square pixels, then the display rotation.
    var displayedSize: (width: Int, height: Int) {
        let square = SquarePixels.size(width: storedWidth, height: storedHeight, sampleAspectRatio: sampleAspectRatio)
        return clockwiseRotation % 180 == 0 ? square : (square.height, square.width)
    }
}
