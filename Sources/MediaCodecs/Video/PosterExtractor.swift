import CMediaShim

/// Makes a JPEG poster frame for a video, entirely in process.
public enum PosterExtractor {
    /// Videos this short or shorter take their poster from the middle, not at 1 s.
    private static let shortVideoMilliseconds: Int64 = 2_000
    private static let posterMomentMilliseconds: Int64 = 1_000

    /// Poster at 1 s, or at the mid-point when the video is 2 s or shorter; decoded in process with
    /// libavcodec, converted with libswscale to RGB24 (apply the sample aspect ratio), rotated/scaled/padded/encoded with libvips.
    public static func writePoster(
        videoPath: String, jpegPath: String, targetWidth: Int = 400,
        maxHeight: Int = 1600, quality: Int = 85
    ) throws(VideoError) -> (width: Int, height: Int) {
        guard targetWidth > 0, maxHeight > 0, (1...100).contains(quality) else {
            throw VideoError(
                kind: .thumbnailFailed,
                message:
                    "Cannot make a poster for '\(videoPath)': the width (\(targetWidth)) and maximum height (\(maxHeight)) must be positive and the quality (\(quality)) between 1 and 100."
            )
        }
        do {
            try NativeLibraries.startVips()
        } catch {
            throw VideoError(
                kind: .thumbnailFailed, message: "Cannot make a poster for '\(videoPath)': libvips did not start (\(error.description)).")
        }
        let input = try MediaInput(path: videoPath)
        let stream = try input.requireVideoStream()
        let moment = posterMoment(durationMilliseconds: videoDurationMilliseconds(input, stream))
        let frame = try PosterFrameLocator(path: videoPath).frame(atMilliseconds: moment, input: input, stream: stream)
        let picture = try squarePixelRGB(
            of: frame, input: input, stream: stream, targetWidth: targetWidth, maxHeight: maxHeight)
        return try encode(
            picture, rotation: stream.clockwiseRotation, targetWidth: targetWidth, maxHeight: maxHeight, quality: quality,
            videoPath: videoPath, jpegPath: jpegPath)
    }

    private static func posterMoment(durationMilliseconds: Int64?) -> Int64 {
        guard let duration = durationMilliseconds, duration > 0, duration <= shortVideoMilliseconds else {
            return posterMomentMilliseconds
        }
        return duration / 2
    }

    private static func videoDurationMilliseconds(_ input: MediaInput, _ stream: VideoStreamFacts) -> Int64? {
        stream.durationMilliseconds ?? input.durationMicroseconds.map { $0 / 1_000 }
    }

    /// Converts the decoded picture to RGB, stretched to square pixels so anamorphic video keeps its shape;
    /// exactly, unless the poster shows it at half its size or less.
    private static func squarePixelRGB(
        of frame: DecodedFrame, input: MediaInput, stream: VideoStreamFacts, targetWidth: Int, maxHeight: Int
    ) throws(VideoError) -> PackedRGBImage {
        let sampleAspectRatio = input.sampleAspectRatio(ofStream: stream.index, frame: frame)
        let size = SquarePixels.size(width: frame.width, height: frame.height, sampleAspectRatio: sampleAspectRatio)
        let displayed = stream.clockwiseRotation % 180 == 0 ? size : (width: size.height, height: size.width)
        let scale = posterScale(
            displayedWidth: displayed.width, displayedHeight: displayed.height, targetWidth: targetWidth, maxHeight: maxHeight)
        let precision: RGBConverter.Precision = scale <= 0.5 ? .fast : .exact
        guard let converter = RGBConverter(from: frame, toWidth: size.width, height: size.height, precision: precision),
            let picture = converter.convert(frame)
        else {
            throw VideoError(
                kind: .undecodable,
                message: "Cannot decode the \(stream.codecName) video in '\(input.path)': its pictures cannot be converted to RGB.")
        }
        return picture
    }

    /// How much `mshim_rgb_poster_jpeg` scales the displayed picture: to the target width, unless that
    /// makes it taller than the maximum height, then to that height.
    private static func posterScale(displayedWidth: Int, displayedHeight: Int, targetWidth: Int, maxHeight: Int) -> Double {
        min(Double(targetWidth) / Double(displayedWidth), Double(maxHeight) / Double(displayedHeight))
    }

    private static func encode(
        _ picture: PackedRGBImage, rotation: Int, targetWidth: Int, maxHeight: Int, quality: Int,
        videoPath: String, jpegPath: String
    ) throws(VideoError) -> (width: Int, height: Int) {
        var posterWidth: Int32 = 0
        var posterHeight: Int32 = 0
        var message = [CChar](repeating: 0, count: 1024)
        let status = mshim_rgb_poster_jpeg(
            picture.bytes, Int32(picture.width), Int32(picture.height), Int32(rotation),
            Int32(targetWidth), Int32(maxHeight), jpegPath, Int32(quality),
            &posterWidth, &posterHeight, &message, 1024)
        guard status == 0 else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw VideoError(
                kind: .thumbnailFailed,
                message: "Cannot write the poster of '\(videoPath)' to '\(jpegPath)': \(reason.joiningLines).")
        }
        return (Int(posterWidth), Int(posterHeight))
    }
}

extension String {
    /// libvips reports one error per line, each ending in a newline; a message is one sentence.
    fileprivate var joiningLines: String {
        split(whereSeparator: \.isNewline).joined(separator: "; ")
    }
}
