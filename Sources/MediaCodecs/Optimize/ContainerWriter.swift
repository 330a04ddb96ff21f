import CFFmpeg

/// A muxer writing one file: owns libavformat's output context and the file it opened, and
/// closes both however it ends.
final class ContainerWriter {
    let path: String
    private let context: UnsafeMutablePointer<AVFormatContext>
    private var fileOpen = false

    /// `muxer` is libavformat's short name: `mp4` or `mov`.
    init(path: String, muxer: String) throws(OptimizationError) {
        Libav.silenceLogging()
        var allocated: UnsafeMutablePointer<AVFormatContext>?
        let status = avformat_alloc_output_context2(&allocated, nil, muxer, path)
        guard status >= 0, let allocated else {
            throw OptimizationError("libavformat has no \(muxer) muxer (\(Libav.errorText(status)))")
        }
        self.path = path
        self.context = allocated
    }

    deinit {
        if fileOpen { avio_closep(&context.pointee.pb) }
        avformat_free_context(context)
    }

    /// Whether the muxer wants codec headers out of band (MP4's avcC): an encoder must be told.
    var wantsGlobalHeader: Bool {
        (context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0
    }

    /// A new stream carrying the same coded data as `source`: codec parameters, time base,
    /// frame rate, disposition, metadata and side data (the display matrix among them). The
    /// codec tag is kept when the muxer accepts it (`hvc1` stays `hvc1`), as ffmpeg's copy does.
    @discardableResult
    func addStream(copying source: UnsafeMutablePointer<AVStream>) throws(OptimizationError) -> Int32 {
        let stream = try addStream(parameters: UnsafePointer(source.pointee.codecpar), timeBase: source.pointee.time_base)
        copyDescription(of: source, to: stream)
        return stream.pointee.index
    }

    /// A new stream for an encoder's output (its parameters), described like `source`.
    @discardableResult
    func addStream(
        encodedAs parameters: UnsafePointer<AVCodecParameters>, timeBase: AVRational, describedLike source: UnsafeMutablePointer<AVStream>
    ) throws(OptimizationError) -> Int32 {
        let stream = try addStream(parameters: parameters, timeBase: timeBase)
        copyDescription(of: source, to: stream)
        return stream.pointee.index
    }

    private func addStream(
        parameters: UnsafePointer<AVCodecParameters>, timeBase: AVRational
    ) throws(OptimizationError) -> UnsafeMutablePointer<AVStream> {
        guard let stream = avformat_new_stream(context, nil) else { throw OptimizationError("out of memory") }
        let status = avcodec_parameters_copy(stream.pointee.codecpar, parameters)
        guard status >= 0 else { throw OptimizationError("cannot copy codec parameters (\(Libav.errorText(status)))") }
        let tags = context.pointee.oformat.pointee.codec_tag
        let sourceTag = parameters.pointee.codec_tag
        let codec = parameters.pointee.codec_id
        var muxerTag: UInt32 = 0
        let keepsTag =
            tags == nil || av_codec_get_id(tags, sourceTag) == codec || av_codec_get_tag2(tags, codec, &muxerTag) == 0
        stream.pointee.codecpar.pointee.codec_tag = keepsTag ? sourceTag : 0
        stream.pointee.time_base = timeBase
        return stream
    }

    private func copyDescription(of source: UnsafeMutablePointer<AVStream>, to stream: UnsafeMutablePointer<AVStream>) {
        stream.pointee.avg_frame_rate = source.pointee.avg_frame_rate
        stream.pointee.r_frame_rate = source.pointee.r_frame_rate
        stream.pointee.sample_aspect_ratio = source.pointee.sample_aspect_ratio
        stream.pointee.disposition = source.pointee.disposition
        av_dict_copy(&stream.pointee.metadata, source.pointee.metadata, 0)
        for index in 0..<Int(source.pointee.nb_side_data) {
            let sideData = source.pointee.side_data[index]
            guard let data = sideData.data, let copy = av_stream_new_side_data(stream, sideData.type, sideData.size) else {
                continue
            }
            copy.update(from: data, count: sideData.size)
        }
    }

    func copyMetadata(_ metadata: OpaquePointer?) {
        av_dict_copy(&context.pointee.metadata, metadata, 0)
    }

    /// Opens the file and writes the header; `options` are the muxer's (`movflags`).
    func begin(options: [String: String]) throws(OptimizationError) {
        let openStatus = avio_open(&context.pointee.pb, path, AVIO_FLAG_WRITE)
        guard openStatus >= 0 else { throw OptimizationError("cannot create '\(path)' (\(Libav.errorText(openStatus)))") }
        fileOpen = true
        var dictionary: OpaquePointer? = nil
        defer { av_dict_free(&dictionary) }
        for (key, value) in options { av_dict_set(&dictionary, key, value, 0) }
        let status = avformat_write_header(context, &dictionary)
        guard status >= 0 else { throw OptimizationError("the muxer refused the streams (\(Libav.errorText(status)))") }
    }

    func timeBase(ofStream index: Int32) -> AVRational {
        // libavformat fills `streams` with nb_streams non-null pointers.
        context.pointee.streams[Int(index)]!.pointee.time_base
    }

    /// Writes a packet whose timestamps are already in the output stream's time base; the muxer
    /// takes its data (the packet is left blank).
    func write(_ packet: UnsafeMutablePointer<AVPacket>) throws(OptimizationError) {
        let status = av_interleaved_write_frame(context, packet)
        guard status >= 0 else { throw OptimizationError("writing '\(path)' failed (\(Libav.errorText(status)))") }
    }

    /// Writes the index (for `faststart`, moves it before the media data) and closes the file.
    func finish() throws(OptimizationError) {
        let status = av_write_trailer(context)
        guard status >= 0 else { throw OptimizationError("finishing '\(path)' failed (\(Libav.errorText(status)))") }
        let closeStatus = avio_closep(&context.pointee.pb)
        fileOpen = false
        guard closeStatus >= 0 else { throw OptimizationError("closing '\(path)' failed (\(Libav.errorText(closeStatus)))") }
    }
}
