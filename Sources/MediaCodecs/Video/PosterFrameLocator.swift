/// Finds the first decoded picture at or after a moment of a video stream.
///
/// Seeking lands on a keyframe at or before the moment, then decoding runs forward to it. Some
/// containers (MPEG program streams have no index) land after the moment instead; then the search
/// seeks 3 s earlier. When that lands late too, when seeking fails, or when the pictures carry no
/// timestamps (raw elementary streams), it decodes from the very beginning of a freshly opened file.
struct PosterFrameLocator {
    private static let fallbackSeekDistanceMilliseconds: Int64 = 3_000

    let path: String

    func frame(atMilliseconds moment: Int64, input: MediaInput, stream: VideoStreamFacts) throws(VideoError) -> DecodedFrame {
        let target = stream.timestamp(atMilliseconds: moment)
        let earlier = stream.timestamp(atMilliseconds: moment - Self.fallbackSeekDistanceMilliseconds)
        let decoder = try VideoDecoder(for: stream, of: input)
        var lastFailure: Int32?
        seeking: for seekPoint in [target, earlier] {
            guard input.seek(stream: stream.index, toKeyframeBefore: seekPoint) else { break }
            decoder.flush()
            switch try decodeForward(from: input, with: decoder, stream: stream, until: target, fromStart: false) {
            case .found(let frame, landedLate: false): return frame
            case .found: continue
            case .untimed: break seeking
            case .nothingDecoded(let failure): lastFailure = failure ?? lastFailure
            }
        }
        let freshInput = try MediaInput(path: path)
        let freshDecoder = try VideoDecoder(for: stream, of: freshInput)
        switch try decodeForward(from: freshInput, with: freshDecoder, stream: stream, until: target, fromStart: true) {
        case .found(let frame, _): return frame
        case .untimed, .nothingDecoded(nil):
            throw noPicture(stream, failure: lastFailure)
        case .nothingDecoded(let failure):
            throw noPicture(stream, failure: failure)
        }
    }

    private func noPicture(_ stream: VideoStreamFacts, failure: Int32?) -> VideoError {
        let reason = failure.map { " (\(Libav.errorText($0)))" } ?? ""
        return VideoError(
            kind: .undecodable,
            message: "Cannot decode the \(stream.codecName) video in '\(path)': no picture could be decoded\(reason).")
    }

    private enum SearchOutcome {
        /// `landedLate`: the first picture after the seek was already past the target, so an earlier
        /// one may have been the right poster.
        case found(DecodedFrame, landedLate: Bool)
        /// After a seek, a picture without a timestamp cannot be placed in time.
        case untimed
        case nothingDecoded(lastFailure: Int32?)
    }

    /// Decodes until a picture at or after `target`; at the end of the stream the last picture stands in,
    /// which is what a clip shorter than its stated duration needs. Decoding `fromStart`, pictures without
    /// timestamps are placed by counting them at the stream's frame rate.
    private func decodeForward(
        from input: MediaInput, with decoder: VideoDecoder, stream: VideoStreamFacts, until target: Int64, fromStart: Bool
    ) throws(VideoError) -> SearchOutcome {
        guard let packet = DemuxedPacket(), var candidate = DecodedFrame(), var latest = DecodedFrame() else {
            throw VideoError(kind: .undecodable, message: "Cannot decode '\(path)': out of memory.")
        }
        var picturesDecoded: Int64 = 0
        // Decided by the first picture: was it already past the target?
        var landedLate = false
        var lastFailure: Int32?
        var endOfInput = false

        while true {
            switch decoder.receive(into: candidate) {
            case .frame:
                let counted = fromStart ? stream.timestamp(ofPictureNumber: picturesDecoded) : nil
                guard let timestamp = candidate.timestamp ?? counted else {
                    // No timestamp and no frame rate: from the start, the first picture is the best guess.
                    return fromStart ? .found(candidate, landedLate: false) : .untimed
                }
                if picturesDecoded == 0 { landedLate = timestamp > target }
                picturesDecoded += 1
                if timestamp >= target { return .found(candidate, landedLate: landedLate) }
                swap(&candidate, &latest)
            case .needsPacket where !endOfInput:
                switch input.readPacket(into: packet) {
                case .packet where packet.streamIndex == stream.index:
                    let status = decoder.send(packet)
                    // A corrupt packet is skipped; the decoder resynchronises at the next keyframe.
                    if status < 0 { lastFailure = status }
                case .packet:
                    continue
                case .endOfInput:
                    endOfInput = true
                    decoder.sendEndOfStream()
                }
            case .needsPacket, .drained:
                return picturesDecoded > 0 ? .found(latest, landedLate: landedLate) : .nothingDecoded(lastFailure: lastFailure)
            case .failed(let status):
                lastFailure = status
                return picturesDecoded > 0 ? .found(latest, landedLate: landedLate) : .nothingDecoded(lastFailure: lastFailure)
            }
        }
    }
}
