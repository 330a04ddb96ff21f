import CFFmpeg

/// Owns a libavcodec decoder for one video stream.
final class VideoDecoder {
    private let context: UnsafeMutablePointer<AVCodecContext>

    init(for stream: VideoStreamFacts, of input: MediaInput) throws(VideoError) {
        let path = input.path
        func failure(_ reason: String) -> VideoError {
            VideoError(kind: .undecodable, message: "Cannot decode the \(stream.codecName) video in '\(path)': \(reason).")
        }
        context = try input.withCodecParameters(ofStream: stream.index) {
            (parameters) throws(VideoError) -> UnsafeMutablePointer<AVCodecContext> in
            guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
                throw failure("this FFmpeg build has no decoder for it")
            }
            guard let context = avcodec_alloc_context3(codec) else { throw failure("out of memory") }
            var opening: UnsafeMutablePointer<AVCodecContext>? = context
            let copyStatus = avcodec_parameters_to_context(context, parameters)
            guard copyStatus >= 0 else {
                avcodec_free_context(&opening)
                throw failure(Libav.errorText(copyStatus))
            }
            context.pointee.pkt_timebase = stream.timeBase
            // One thread: the daemon already decodes several files side by side, and frame threading
            // holds pictures back until several packets are in, which only delays a single poster.
            context.pointee.thread_count = 1
            let openStatus = avcodec_open2(context, codec, nil)
            guard openStatus >= 0 else {
                avcodec_free_context(&opening)
                throw failure(Libav.errorText(openStatus))
            }
            return context
        }
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&freeing)
    }

    /// Hands a packet to the decoder; a negative result means libav rejected it (e.g. corrupt data).
    func send(_ packet: DemuxedPacket) -> Int32 {
        packet.withPacket { avcodec_send_packet(context, $0) }
    }

    /// Tells the decoder no more packets come, so it releases the pictures it still holds.
    func sendEndOfStream() {
        _ = avcodec_send_packet(context, nil)
    }

    enum ReceiveOutcome: Equatable {
        case frame
        case needsPacket
        case drained
        case failed(Int32)
    }

    func receive(into frame: DecodedFrame) -> ReceiveOutcome {
        let status = frame.withFrame { avcodec_receive_frame(context, $0) }
        switch status {
        case 0...: return .frame
        case Libav.tryAgain: return .needsPacket
        case Libav.endOfFile: return .drained
        default: return .failed(status)
        }
    }

    /// Forgets buffered pictures after a seek, and leaves the drained state.
    func flush() {
        avcodec_flush_buffers(context)
    }
}
