import CFFmpeg
import MediaCore

/// Videos, lossily and only when asked: the main video stream re-encoded with libx264 or
/// libx265 at a constant rate factor, same size, pixel format, frame timing and colour
/// description; every other stream copied; index first. The caller measures the result.
enum VideoReencoder {
    static func encoderName(for codec: VideoCodecChoice) -> String {
        switch codec {
        case .h264: "libx264"
        case .hevc: "libx265"
        }
    }

    /// Why the video is not re-encoded, or nil: its quality could not be measured (PSNR is
    /// computed on 8-bit YUV pictures), or it has more than one video stream.
    static func reasonNotToReencode(path: String) throws(OptimizationError) -> String? {
        let reader = try ContainerReader(path: path)
        guard let index = reader.videoStreamIndex() else { return "it has no video stream" }
        let videoStreams = (0..<reader.streamCount).filter {
            reader.stream($0).pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
                && reader.stream($0).pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }
        if videoStreams.count > 1 { return "it has \(videoStreams.count) video streams" }
        let pixelFormat = reader.stream(index).pointee.codecpar.pointee.format
        if !LumaPSNR.measurableFormats.contains(pixelFormat) {
            return "its pictures are not 8-bit YUV, on which the quality check is measured"
        }
        return nil
    }

    /// The video stream's bit rate (bits per second), else the container's; nil when neither is known.
    static func videoBitRate(path: String) throws(OptimizationError) -> Int64? {
        let reader = try ContainerReader(path: path)
        guard let index = reader.videoStreamIndex() else { throw OptimizationError("it has no video stream") }
        let streamRate = reader.stream(index).pointee.codecpar.pointee.bit_rate
        return streamRate > 0 ? streamRate : reader.bitRate
    }

    static func reencode(
        path: String, to output: String, muxer: String, codec: VideoCodecChoice, crf: Int
    ) throws(OptimizationError) {
        let input = try ContainerReader(path: path)
        guard let videoIndex = input.videoStreamIndex() else { throw OptimizationError("it has no video stream") }
        let videoStream = input.stream(videoIndex)
        let decoder = try CodecContext(decoding: videoStream)
        let writer = try ContainerWriter(path: output, muxer: muxer)
        let encoder = try CodecContext(
            encoder: encoderName(for: codec),
            options: ["crf": String(crf), "preset": "medium", "threads": "2"]
        ) { context in
            let decoded = decoder.pointer.pointee
            context.pointee.width = decoded.width
            context.pointee.height = decoded.height
            context.pointee.pix_fmt = decoded.pix_fmt
            context.pointee.sample_aspect_ratio = decoded.sample_aspect_ratio
            context.pointee.color_range = decoded.color_range
            context.pointee.color_primaries = decoded.color_primaries
            context.pointee.color_trc = decoded.color_trc
            context.pointee.colorspace = decoded.colorspace
            context.pointee.chroma_sample_location = decoded.chroma_sample_location
            context.pointee.time_base = videoStream.pointee.time_base
            context.pointee.framerate = videoStream.pointee.avg_frame_rate
            if writer.wantsGlobalHeader { context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        }
        // Output streams in the source's order: the video from the encoder, the rest copied.
        var outputIndex = [Int32](repeating: -1, count: Int(input.streamCount))
        for index in 0..<input.streamCount {
            if index == videoIndex {
                guard let parameters = avcodec_parameters_alloc() else { throw OptimizationError("out of memory") }
                var freeing: UnsafeMutablePointer<AVCodecParameters>? = parameters
                defer { avcodec_parameters_free(&freeing) }
                avcodec_parameters_from_context(parameters, encoder.pointer)
                // Apple's players want HEVC in MP4 tagged `hvc1` (parameter sets in the header).
                if codec == .hevc { parameters.pointee.codec_tag = fourCC("hvc1") }
                outputIndex[Int(index)] = try writer.addStream(
                    encodedAs: parameters, timeBase: encoder.pointer.pointee.time_base, describedLike: videoStream)
            } else {
                outputIndex[Int(index)] = try writer.addStream(copying: input.stream(index))
            }
        }
        writer.copyMetadata(input.metadata)
        try writer.begin(options: ["movflags": "+faststart"])

        let packet = try OwnedPacket()
        let frame = try OwnedFrame()
        let encoded = try OwnedPacket()
        let videoOutput = outputIndex[Int(videoIndex)]

        func drainEncoder() throws(OptimizationError) {
            while true {
                let status = avcodec_receive_packet(encoder.pointer, encoded.pointer)
                switch try CodecContext.outcome(of: status, doing: "encoding") {
                case .needsInput, .drained: return
                case .ready:
                    encoded.pointer.pointee.stream_index = videoOutput
                    av_packet_rescale_ts(encoded.pointer, encoder.pointer.pointee.time_base, writer.timeBase(ofStream: videoOutput))
                    try writer.write(encoded.pointer)
                }
            }
        }
        func drainDecoder() throws(OptimizationError) {
            while true {
                let status = avcodec_receive_frame(decoder.pointer, frame.pointer)
                switch try CodecContext.outcome(of: status, doing: "decoding") {
                case .needsInput, .drained: return
                case .ready:
                    frame.pointer.pointee.pts = frame.pointer.pointee.best_effort_timestamp
                    // The encoder chooses picture types itself.
                    frame.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
                    let sent = avcodec_send_frame(encoder.pointer, frame.pointer)
                    av_frame_unref(frame.pointer)
                    guard sent >= 0 else { throw OptimizationError("encoding failed (\(Libav.errorText(sent)))") }
                    try drainEncoder()
                }
            }
        }

        while try input.read(into: packet.pointer) {
            let stream = packet.pointer.pointee.stream_index
            if stream == videoIndex {
                let status = avcodec_send_packet(decoder.pointer, packet.pointer)
                guard status >= 0 else { throw OptimizationError("decoding failed (\(Libav.errorText(status)))") }
                try drainDecoder()
            } else {
                let target = outputIndex[Int(stream)]
                av_packet_rescale_ts(packet.pointer, input.timeBase(ofStream: stream), writer.timeBase(ofStream: target))
                packet.pointer.pointee.stream_index = target
                packet.pointer.pointee.pos = -1
                try writer.write(packet.pointer)
            }
        }
        _ = avcodec_send_packet(decoder.pointer, nil)
        try drainDecoder()
        _ = avcodec_send_frame(encoder.pointer, nil)
        try drainEncoder()
        try writer.finish()
    }

    private static func fourCC(_ text: StaticString) -> UInt32 {
        let bytes = UnsafeBufferPointer(start: text.utf8Start, count: 4)
        return UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }
}
