/// Reads a video file's container and stream headers in process with libavformat.
public enum VideoProbe {
    public static func probe(path: String) throws(VideoError) -> VideoInfo {
        let input = try MediaInput(path: path)
        let stream = try input.requireVideoStream()
        let audioStream = input.audioStreamIndex(relatedTo: stream.index)
        let audioCodec = audioStream.map { input.codecName(ofStream: $0) }
        let displayed = stream.displayedSize
        let durationMs = input.durationMicroseconds.map { $0 / 1_000 } ?? stream.durationMilliseconds ?? 0
        return VideoInfo(
            width: displayed.width,
            height: displayed.height,
            durationMs: durationMs,
            fps: stream.framesPerSecond,
            videoCodec: stream.codecName,
            audioCodec: audioCodec,
            bitrate: input.bitRate,
            hasAudio: audioCodec != nil,
            rotationDegrees: stream.clockwiseRotation,
            containerName: input.containerName)
    }
}

extension MediaInput {
    /// The main video stream's facts, or the reason there is no usable one.
    func requireVideoStream() throws(VideoError) -> VideoStreamFacts {
        guard let index = videoStreamIndex() else {
            throw VideoError(
                kind: .noVideoStream,
                message: "'\(path)' has no video stream (the \(containerName) container holds only other media).")
        }
        let stream = videoStream(at: index)
        guard stream.storedWidth > 0, stream.storedHeight > 0 else {
            throw VideoError(
                kind: .undecodable,
                message: "Cannot decode the \(stream.codecName) video in '\(path)': its picture size is unknown.")
        }
        return stream
    }
}
