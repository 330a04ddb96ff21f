import CFFmpeg

/// Owns a libavcodec decoder for one video stream.
final class VideoDecoder {
    private let context: UnsafeMutablePointer<AVCodecContext>
    /// Whether `skipsUnreferencedPictures` is honoured for this stream (see `UnreferencedPictures`).
    let canSkipUnreferencedPictures: Bool

    init(for stream: VideoStreamFacts, of input: MediaInput) throws(VideoError) {
        let path = input.path
        func failure(_ reason: String) -> VideoError {
            VideoError(kind: .undecodable, message: "Cannot decode the \(stream.codecName) video in '\(path)': \(reason).")
        }
        canSkipUnreferencedPictures = input.withCodecParameters(ofStream: stream.index) { parameters in
            let size = Int(parameters.pointee.extradata_size)
            let extradata = parameters.pointee.extradata.map { [UInt8](UnsafeBufferPointer(start: $0, count: max(size, 0))) } ?? []
            return UnreferencedPictures.canBeSkipped(codec: parameters.pointee.codec_id, extradata: extradata)
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
            // One thread. The daemon already decodes two files side by side on two cores. Measured on
            // 1280x720 H.264 posters (FFmpeg 5.1): slice threading gains nothing on the usual one-slice
            // pictures, and two frame threads cut one poster's time by ~12-15% but cost 15-30% more CPU
            // (each thread holds a picture back, so more pictures are decoded past the poster), which
            // made two posters in parallel ~10% slower.
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

    /// Forgets buffered pictures after a seek, and leaves the drained state; pictures are no longer skipped.
    func flush() {
        avcodec_flush_buffers(context)
        skipsUnreferencedPictures = false
    }

    /// While true, the packets sent next have their unreferenced pictures skipped: never decoded, never
    /// returned. Pictures other pictures refer to are still decoded exactly, so every picture that is
    /// returned is the same as without skipping. The H.264 and HEVC decoders read the setting for each
    /// packet as it is sent (one thread, so nothing is decoded later). Only honoured when
    /// `canSkipUnreferencedPictures`.
    var skipsUnreferencedPictures: Bool {
        get { context.pointee.skip_frame == AVDISCARD_NONREF }
        set { context.pointee.skip_frame = newValue && canSkipUnreferencedPictures ? AVDISCARD_NONREF : AVDISCARD_DEFAULT }
    }
}
