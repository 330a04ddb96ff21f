import CFFmpeg

/// Owns one AVPacket, reused for every packet read from a file.
final class DemuxedPacket {
    private let packet: UnsafeMutablePointer<AVPacket>

    /// nil only when memory runs out.
    init?() {
        guard let packet = av_packet_alloc() else { return nil }
        self.packet = packet
    }

    deinit {
        var freeing: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&freeing)
    }

    var streamIndex: Int32 { packet.pointee.stream_index }

    /// When the packet's picture is shown, in its stream's time base; nil when the container does not say.
    var presentationTimestamp: Int64? {
        let pts = packet.pointee.pts
        return pts == Libav.noTimestamp ? nil : pts
    }

    /// Drops the previous packet's data before the next read.
    func reset() {
        av_packet_unref(packet)
    }

    /// Lends the AVPacket to a libav call for the duration of `body`.
    func withPacket<Result>(_ body: (UnsafeMutablePointer<AVPacket>) throws -> Result) rethrows -> Result {
        try body(packet)
    }
}
