import CFFmpeg

/// MP4 and QuickTime, losslessly: every stream copied packet for packet into a new file whose
/// index comes first (`movflags=+faststart`), then proven by demuxing the result and comparing
/// each stream's packets (bytes, timestamps, duration, keyframe flag) with the source's.
enum FaststartRemuxer {
    static let method = "mp4-faststart"

    /// Why the file's streams cannot all be copied into a new MP4 or QuickTime file, or nil:
    /// chapters (not copied) and streams libavformat has no codec for (QuickTime's `mebx`
    /// metadata tracks) would be lost.
    static func reasonNotToCopy(path: String) throws(OptimizationError) -> String? {
        let input = try ContainerReader(path: path)
        if input.chapterCount > 0 { return "it has chapters, which the copy would lose" }
        for index in 0..<input.streamCount where input.stream(index).pointee.codecpar.pointee.codec_id == AV_CODEC_ID_NONE {
            return "its stream \(index) is of a kind libavformat cannot copy"
        }
        return nil
    }

    static func remux(path: String, to output: String, muxer: String) throws(OptimizationError) {
        let expected = try copyPackets(from: path, to: output, muxer: muxer)
        try verify(output, carries: expected)
    }

    /// Copies and returns the fingerprints of each source stream's packets.
    private static func copyPackets(
        from path: String, to output: String, muxer: String
    ) throws(OptimizationError)
        -> [[PacketFingerprint]]
    {
        let input = try ContainerReader(path: path)
        let writer = try ContainerWriter(path: output, muxer: muxer)
        for index in 0..<input.streamCount {
            try writer.addStream(copying: input.stream(index))
        }
        writer.copyMetadata(input.metadata)
        try writer.begin(options: ["movflags": "+faststart"])
        var fingerprints = [[PacketFingerprint]](repeating: [], count: Int(input.streamCount))
        let packet = try OwnedPacket()
        while try input.read(into: packet.pointer) {
            let stream = packet.pointer.pointee.stream_index
            let sourceBase = input.timeBase(ofStream: stream)
            fingerprints[Int(stream)].append(PacketFingerprint(packet.pointer, timeBase: sourceBase))
            av_packet_rescale_ts(packet.pointer, sourceBase, writer.timeBase(ofStream: stream))
            packet.pointer.pointee.pos = -1
            try writer.write(packet.pointer)
        }
        try writer.finish()
        return fingerprints
    }

    private static func verify(_ output: String, carries expected: [[PacketFingerprint]]) throws(OptimizationError) {
        let result = try ContainerReader(path: output)
        guard Int(result.streamCount) == expected.count else {
            throw OptimizationError("the remuxed file has \(result.streamCount) streams, the source \(expected.count)")
        }
        var position = [Int](repeating: 0, count: expected.count)
        let packet = try OwnedPacket()
        while try result.read(into: packet.pointer) {
            let stream = Int(packet.pointer.pointee.stream_index)
            let actual = PacketFingerprint(packet.pointer, timeBase: result.timeBase(ofStream: Int32(stream)))
            guard position[stream] < expected[stream].count else {
                throw OptimizationError("the remuxed file has more packets in stream \(stream) than the source")
            }
            let wanted = expected[stream][position[stream]]
            guard actual == wanted else {
                throw OptimizationError(
                    "packet \(position[stream]) of stream \(stream) differs from the source: \(actual.difference(from: wanted))")
            }
            position[stream] += 1
        }
        for stream in expected.indices where position[stream] != expected[stream].count {
            throw OptimizationError(
                "the remuxed file has \(position[stream]) packets in stream \(stream), the source \(expected[stream].count)")
        }
    }
}
