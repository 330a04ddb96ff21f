import CFFmpeg

/// A demuxer for the optimiser: owns libavformat's input context and lends its streams to the
/// remuxer and the re-encoder. Unlike `MediaInput` (posters), a read error is an error here: a
/// copy must not silently end where the source could not be read.
final class ContainerReader {
    let path: String
    private let context: UnsafeMutablePointer<AVFormatContext>

    init(path: String) throws(OptimizationError) {
        Libav.silenceLogging()
        var opened: UnsafeMutablePointer<AVFormatContext>?
        let openStatus = avformat_open_input(&opened, path, nil, nil)
        guard openStatus >= 0, let opened else {
            throw OptimizationError("libavformat could not open it (\(Libav.errorText(openStatus)))")
        }
        let infoStatus = avformat_find_stream_info(opened, nil)
        guard infoStatus >= 0 else {
            var closing: UnsafeMutablePointer<AVFormatContext>? = opened
            avformat_close_input(&closing)
            throw OptimizationError("its streams could not be identified (\(Libav.errorText(infoStatus)))")
        }
        self.path = path
        self.context = opened
    }

    deinit {
        var closing: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&closing)
    }

    var streamCount: Int32 { Int32(context.pointee.nb_streams) }

    var chapterCount: Int { Int(context.pointee.nb_chapters) }

    /// The container's overall bit rate (bits per second), when known.
    var bitRate: Int64? { context.pointee.bit_rate > 0 ? context.pointee.bit_rate : nil }

    func stream(_ index: Int32) -> UnsafeMutablePointer<AVStream> {
        precondition(index >= 0 && index < streamCount, "stream index out of range")
        // libavformat fills `streams` with nb_streams non-null pointers.
        return context.pointee.streams[Int(index)]!
    }

    func timeBase(ofStream index: Int32) -> AVRational { stream(index).pointee.time_base }

    /// The main video stream, not cover art.
    func videoStreamIndex() -> Int32? {
        (0..<streamCount).first { index in
            let candidate = stream(index).pointee
            return candidate.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
                && candidate.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }
    }

    /// The global metadata, lent to be copied into an output.
    var metadata: OpaquePointer? { context.pointee.metadata }

    /// Reads the next packet into `packet`: true, or false at the end of the file; a read error throws.
    func read(into packet: UnsafeMutablePointer<AVPacket>) throws(OptimizationError) -> Bool {
        av_packet_unref(packet)
        let status = av_read_frame(context, packet)
        if status == Libav.endOfFile { return false }
        guard status >= 0 else { throw OptimizationError("reading '\(path)' failed (\(Libav.errorText(status)))") }
        return true
    }
}

/// Owns one AVPacket for the optimiser's loops.
final class OwnedPacket {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() throws(OptimizationError) {
        guard let packet = av_packet_alloc() else { throw OptimizationError("out of memory") }
        pointer = packet
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&freeing)
    }
}
