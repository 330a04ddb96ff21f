import CFFmpeg

/// An opened media file: owns libavformat's demuxer context and answers questions about its streams.
final class MediaInput {
    let path: String
    private let context: UnsafeMutablePointer<AVFormatContext>

    /// Opens the container and reads enough packets to know every stream's codec and size.
    init(path: String) throws(VideoError) {
        Libav.silenceLogging()
        var opened: UnsafeMutablePointer<AVFormatContext>?
        let openStatus = avformat_open_input(&opened, path, nil, nil)
        guard openStatus >= 0, let opened else {
            throw VideoError(
                kind: .unreadable,
                message: "Cannot read video file '\(path)': libavformat could not open it (\(Libav.errorText(openStatus))).")
        }
        let infoStatus = avformat_find_stream_info(opened, nil)
        guard infoStatus >= 0 else {
            var closing: UnsafeMutablePointer<AVFormatContext>? = opened
            avformat_close_input(&closing)
            throw VideoError(
                kind: .unreadable,
                message: "Cannot read video file '\(path)': its streams could not be identified (\(Libav.errorText(infoStatus))).")
        }
        self.path = path
        self.context = opened
    }

    deinit {
        var closing: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&closing)
    }

    /// libavformat's name for the container, e.g. "matroska,webm".
    var containerName: String {
        Libav.string(context.pointee.iformat?.pointee.name) ?? "unknown"
    }

    /// The container's duration in microseconds, when it states one.
    var durationMicroseconds: Int64? {
        let duration = context.pointee.duration
        return duration != Libav.noTimestamp && duration > 0 ? duration : nil
    }

    var bitRate: Int64? {
        context.pointee.bit_rate > 0 ? context.pointee.bit_rate : nil
    }

    /// The main video stream. Cover art in audio files is a one-picture "video" stream; it is not a video.
    func videoStreamIndex() -> Int32? {
        let best = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        if best >= 0, !isAttachedPicture(stream(best)) { return best }
        return (0..<Int32(context.pointee.nb_streams)).first { index in
            let candidate = stream(index)
            return candidate.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO && !isAttachedPicture(candidate)
        }
    }

    /// The audio stream a player would pair with the given video stream.
    func audioStreamIndex(relatedTo videoStream: Int32) -> Int32? {
        let best = av_find_best_stream(context, AVMEDIA_TYPE_AUDIO, -1, videoStream, nil, 0)
        return best >= 0 ? best : nil
    }

    func codecName(ofStream index: Int32) -> String {
        Libav.string(avcodec_get_name(stream(index).pointee.codecpar.pointee.codec_id)) ?? "unknown"
    }

    /// Geometry and timing of a video stream, copied out of libavformat's structures.
    func videoStream(at index: Int32) -> VideoStreamFacts {
        let videoStream = stream(index)
        let parameters = videoStream.pointee.codecpar.pointee
        let frameRate = av_guess_frame_rate(context, videoStream, nil)
        let startTime = videoStream.pointee.start_time
        let duration = videoStream.pointee.duration
        return VideoStreamFacts(
            index: index,
            codecName: codecName(ofStream: index),
            storedWidth: Int(parameters.width),
            storedHeight: Int(parameters.height),
            sampleAspectRatio: av_guess_sample_aspect_ratio(context, videoStream, nil),
            clockwiseRotation: clockwiseRotation(of: videoStream),
            timeBase: videoStream.pointee.time_base,
            startTime: startTime == Libav.noTimestamp ? nil : startTime,
            duration: duration == Libav.noTimestamp || duration <= 0 ? nil : duration,
            frameRate: Libav.isPositive(frameRate) ? frameRate : nil,
            isProgressive: parameters.field_order == AV_FIELD_PROGRESSIVE)
    }

    /// The sample aspect ratio to show a decoded frame with: the container's when it states one,
    /// else the codec's, as ffmpeg's own tools decide.
    func sampleAspectRatio(ofStream index: Int32, frame: DecodedFrame) -> AVRational {
        frame.withFrame { av_guess_sample_aspect_ratio(context, stream(index), $0) }
    }

    /// Lends the stream's codec parameters to set up a decoder; they live as long as this input.
    func withCodecParameters<Result, Failure: Error>(
        ofStream index: Int32, _ body: (UnsafePointer<AVCodecParameters>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(stream(index).pointee.codecpar)
    }

    /// Moves to the last keyframe at or before `timestamp` (in the stream's time base).
    func seek(stream index: Int32, toKeyframeBefore timestamp: Int64) -> Bool {
        av_seek_frame(context, index, timestamp, AVSEEK_FLAG_BACKWARD) >= 0
    }

    enum ReadOutcome {
        case packet
        /// The end of the file, or a read error; a truncated file ends early rather than failing.
        case endOfInput
    }

    func readPacket(into packet: DemuxedPacket) -> ReadOutcome {
        packet.reset()
        let status = packet.withPacket { av_read_frame(context, $0) }
        return status >= 0 ? .packet : .endOfInput
    }

    private func stream(_ index: Int32) -> UnsafeMutablePointer<AVStream> {
        precondition(index >= 0 && index < Int32(context.pointee.nb_streams), "stream index out of range")
        // libavformat fills `streams` with nb_streams non-null pointers.
        return context.pointee.streams[Int(index)]!
    }

    /// The display matrix is stream side data in FFmpeg 5.1 (`av_stream_get_side_data` is removed in 7.0,
    /// where it moves to `codecpar->coded_side_data`).
    private func clockwiseRotation(of stream: UnsafeMutablePointer<AVStream>) -> Int {
        var size = 0
        guard let matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size),
            size >= 9 * MemoryLayout<Int32>.size
        else { return 0 }
        let counterClockwise = matrix.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        return DisplayRotation.clockwiseDegrees(fromCounterClockwise: counterClockwise)
    }

    private func isAttachedPicture(_ stream: UnsafeMutablePointer<AVStream>) -> Bool {
        stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0
    }
}
