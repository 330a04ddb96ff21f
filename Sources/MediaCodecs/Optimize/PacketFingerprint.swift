import CFFmpeg
import Crypto
import Foundation  // UnsafeRawBufferPointer as DataProtocol, for SHA256

/// What a packet is, to prove a remuxed file carries the same packets as its source: its bytes
/// (as a SHA-256, so a long video's packets need not stay in memory), its timing and its
/// keyframe flag. Times are compared as exact rationals, since the muxer may pick another
/// time base for a stream.
struct PacketFingerprint: Equatable {
    var size: Int
    var digest: SHA256.Digest
    var presentation: Int64?
    var decoding: Int64?
    var duration: Int64
    var isKeyframe: Bool
    var timeBase: AVRational

    init(_ packet: UnsafeMutablePointer<AVPacket>, timeBase: AVRational) {
        let size = Int(packet.pointee.size)
        self.size = size
        digest = SHA256.hash(data: UnsafeRawBufferPointer(start: packet.pointee.data, count: packet.pointee.data == nil ? 0 : size))
        presentation = packet.pointee.pts == Libav.noTimestamp ? nil : packet.pointee.pts
        decoding = packet.pointee.dts == Libav.noTimestamp ? nil : packet.pointee.dts
        duration = packet.pointee.duration
        isKeyframe = packet.pointee.flags & AV_PKT_FLAG_KEY != 0
        self.timeBase = timeBase
    }

    static func == (left: PacketFingerprint, right: PacketFingerprint) -> Bool {
        left.size == right.size && left.digest == right.digest && left.isKeyframe == right.isKeyframe
            && sameTime(left.presentation, left.timeBase, right.presentation, right.timeBase)
            && sameTime(left.decoding, left.timeBase, right.decoding, right.timeBase)
            && sameTime(left.duration, left.timeBase, right.duration, right.timeBase)
    }

    /// How the two differ, for the failure message.
    func difference(from other: PacketFingerprint) -> String {
        if size != other.size || digest != other.digest { return "its bytes differ" }
        if isKeyframe != other.isKeyframe { return "its keyframe flag differs" }
        return "its timing differs (pts \(describe(presentation)) dts \(describe(decoding)) duration \(duration) "
            + "in \(timeBase.num)/\(timeBase.den), against pts \(describe(other.presentation)) "
            + "dts \(describe(other.decoding)) duration \(other.duration) in \(other.timeBase.num)/\(other.timeBase.den))"
    }

    private func describe(_ time: Int64?) -> String { time.map(String.init) ?? "none" }

    private static func sameTime(_ left: Int64?, _ leftBase: AVRational, _ right: Int64?, _ rightBase: AVRational) -> Bool {
        guard let left, let right else { return left == nil && right == nil }
        return Int128(left) * Int128(leftBase.num) * Int128(rightBase.den)
            == Int128(right) * Int128(rightBase.num) * Int128(leftBase.den)
    }
}
