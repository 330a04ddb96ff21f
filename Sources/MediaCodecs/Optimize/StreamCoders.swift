import CFFmpeg

/// Owns one AVFrame for the optimiser's loops.
final class OwnedFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() throws(OptimizationError) {
        guard let frame = av_frame_alloc() else { throw OptimizationError("out of memory") }
        pointer = frame
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&freeing)
    }
}

/// Owns a libavcodec context, a decoder or an encoder, and frees it however the work ends.
final class CodecContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    /// A decoder for `stream`, on one thread (the worker already runs beside other work).
    init(decoding stream: UnsafeMutablePointer<AVStream>) throws(OptimizationError) {
        let parameters = stream.pointee.codecpar!
        let codecName = Libav.string(avcodec_get_name(parameters.pointee.codec_id)) ?? "unknown"
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            throw OptimizationError("this FFmpeg build has no decoder for \(codecName)")
        }
        guard let context = avcodec_alloc_context3(codec) else { throw OptimizationError("out of memory") }
        pointer = context
        let copyStatus = avcodec_parameters_to_context(context, parameters)
        guard copyStatus >= 0 else { throw OptimizationError("cannot set up the \(codecName) decoder (\(Libav.errorText(copyStatus)))") }
        context.pointee.pkt_timebase = stream.pointee.time_base
        context.pointee.thread_count = 1
        let openStatus = avcodec_open2(context, codec, nil)
        guard openStatus >= 0 else { throw OptimizationError("cannot open the \(codecName) decoder (\(Libav.errorText(openStatus)))") }
    }

    /// An encoder named `encoderName` (`libx264`, `libx265`), set up by `configure` before it is
    /// opened with `options` (its private options: `crf`, `preset`).
    init(
        encoder encoderName: String, options: [String: String], configure: (UnsafeMutablePointer<AVCodecContext>) -> Void
    ) throws(OptimizationError) {
        guard let codec = avcodec_find_encoder_by_name(encoderName) else {
            throw OptimizationError("this FFmpeg build has no \(encoderName) encoder")
        }
        guard let context = avcodec_alloc_context3(codec) else { throw OptimizationError("out of memory") }
        pointer = context
        configure(context)
        if let formats = codec.pointee.pix_fmts {
            var index = 0
            var supported = false
            while formats[index] != AV_PIX_FMT_NONE {
                if formats[index] == context.pointee.pix_fmt { supported = true }
                index += 1
            }
            guard supported else {
                throw OptimizationError(
                    "\(encoderName) cannot encode pictures of pixel format \(context.pointee.pix_fmt.rawValue) without converting them")
            }
        }
        var dictionary: OpaquePointer? = nil
        defer { av_dict_free(&dictionary) }
        for (key, value) in options { av_dict_set(&dictionary, key, value, 0) }
        let openStatus = avcodec_open2(context, codec, &dictionary)
        guard openStatus >= 0 else { throw OptimizationError("cannot open \(encoderName) (\(Libav.errorText(openStatus)))") }
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&freeing)
    }

    enum Receive {
        case ready
        case needsInput
        case drained
    }

    /// `avcodec_receive_frame` / `avcodec_receive_packet`'s status as an outcome; errors throw.
    static func outcome(of status: Int32, doing what: String) throws(OptimizationError) -> Receive {
        switch status {
        case 0...: return .ready
        case Libav.tryAgain: return .needsInput
        case Libav.endOfFile: return .drained
        default: throw OptimizationError("\(what) failed (\(Libav.errorText(status)))")
        }
    }
}

/// The decoded pictures of a file's main video stream, one at a time in presentation order.
final class VideoFrameSource {
    let reader: ContainerReader
    let streamIndex: Int32
    private let decoder: CodecContext
    private let packet: OwnedPacket
    private var inputEnded = false

    init(path: String) throws(OptimizationError) {
        reader = try ContainerReader(path: path)
        guard let index = reader.videoStreamIndex() else { throw OptimizationError("'\(path)' has no video stream") }
        streamIndex = index
        decoder = try CodecContext(decoding: reader.stream(index))
        packet = try OwnedPacket()
    }

    /// Decodes the next picture into `frame`: false when there are no more.
    func next(into frame: OwnedFrame) throws(OptimizationError) -> Bool {
        while true {
            av_frame_unref(frame.pointer)
            switch try CodecContext.outcome(of: avcodec_receive_frame(decoder.pointer, frame.pointer), doing: "decoding") {
            case .ready: return true
            case .drained: return false
            case .needsInput:
                if inputEnded { return false }
                if try reader.read(into: packet.pointer) {
                    guard packet.pointer.pointee.stream_index == streamIndex else { continue }
                    let status = avcodec_send_packet(decoder.pointer, packet.pointer)
                    guard status >= 0 else { throw OptimizationError("decoding failed (\(Libav.errorText(status)))") }
                } else {
                    inputEnded = true
                    _ = avcodec_send_packet(decoder.pointer, nil)
                }
            }
        }
    }
}
