/// Finds the first decoded picture at or after a moment of a video stream.
///
/// Seeking lands on a keyframe at or before the moment, then decoding runs forward to it. Some
/// containers (MPEG program streams have no index) land after the moment instead; then the search
/// seeks 3 s earlier. When that lands late too, when seeking fails, or when the pictures carry no
/// timestamps (raw elementary streams), it decodes from the very beginning of a freshly opened file.
///
/// Where the decoder can skip unreferenced pictures (H.264, single-layer HEVC: `UnreferencedPictures`),
/// each search after a seek first takes the shortcuts of `PosterShortcuts`, which decode a third to a
/// half fewer pictures of usual video with B-frames. Whenever that search ends in anything but a picture
/// certainly found as a full decode finds it, the same stretch is decoded again without shortcuts, so
/// the poster is always the picture a full decode picks.
struct PosterFrameLocator {
    private static let fallbackSeekDistanceMilliseconds: Int64 = 3_000

    let path: String

    func frame(atMilliseconds moment: Int64, input: MediaInput, stream: VideoStreamFacts) throws(VideoError) -> DecodedFrame {
        let target = stream.timestamp(atMilliseconds: moment)
        let earlier = stream.timestamp(atMilliseconds: moment - Self.fallbackSeekDistanceMilliseconds)
        let decoder = try VideoDecoder(for: stream, of: input)
        let shortcuts = decoder.canSkipUnreferencedPictures ? PosterShortcuts(target: target, stream: stream) : nil
        var lastFailure: Int32?
        seeking: for seekPoint in [target, earlier] {
            guard
                let outcome = try searchAfterSeek(
                    to: seekPoint, in: input, with: decoder, stream: stream, until: target, shortcuts: shortcuts)
            else { break }
            switch outcome {
            case .found(let frame, landedLate: false): return frame
            case .found: continue
            case .untimed: break seeking
            case .nothingDecoded(let failure): lastFailure = failure ?? lastFailure
            }
        }
        let freshInput = try MediaInput(path: path)
        let freshDecoder = try VideoDecoder(for: stream, of: freshInput)
        let fromStart = try decodeForward(
            from: freshInput, with: freshDecoder, stream: stream, until: target, fromStart: true, shortcuts: nil)
        switch fromStart {
        case .decided(.found(let frame, _)): return frame
        case .decided(.untimed), .decided(.nothingDecoded(nil)), .shortcutsWereInconclusive:
            throw noPicture(stream, failure: lastFailure)
        case .decided(.nothingDecoded(let failure)):
            throw noPicture(stream, failure: failure)
        }
    }

    /// Seeks to the keyframe before `seekPoint` and decodes forward, first with the shortcuts; when they
    /// leave the outcome in doubt, seeks again and decodes every picture. nil when seeking fails.
    private func searchAfterSeek(
        to seekPoint: Int64, in input: MediaInput, with decoder: VideoDecoder, stream: VideoStreamFacts, until target: Int64,
        shortcuts: PosterShortcuts?
    ) throws(VideoError) -> SearchOutcome? {
        var shortcuts = shortcuts
        while true {
            guard input.seek(stream: stream.index, toKeyframeBefore: seekPoint) else { return nil }
            decoder.flush()
            switch try decodeForward(from: input, with: decoder, stream: stream, until: target, fromStart: false, shortcuts: shortcuts) {
            case .decided(let outcome): return outcome
            case .shortcutsWereInconclusive: shortcuts = nil
            }
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

    private enum Attempt {
        case decided(SearchOutcome)
        /// A shortcut was taken, and the search did not end in a picture certainly found as a full decode
        /// finds it.
        case shortcutsWereInconclusive
    }

    /// Decodes until a picture at or after `target`; at the end of the stream the last picture stands in,
    /// which is what a clip shorter than its stated duration needs. Decoding `fromStart`, pictures without
    /// timestamps are placed by counting them at the stream's frame rate.
    private func decodeForward(
        from input: MediaInput, with decoder: VideoDecoder, stream: VideoStreamFacts, until target: Int64, fromStart: Bool,
        shortcuts: PosterShortcuts?
    ) throws(VideoError) -> Attempt {
        guard let packet = DemuxedPacket(), var candidate = DecodedFrame(), var latest = DecodedFrame() else {
            throw VideoError(kind: .undecodable, message: "Cannot decode '\(path)': out of memory.")
        }
        var picturesDecoded: Int64 = 0
        var latestTimestamp: Int64?
        // Decided by the first picture: was it already past the target?
        var landedLate = false
        var lastFailure: Int32?
        var endOfInput = false
        var skipped = false
        var stoppedAtTarget = false

        func decided(_ outcome: SearchOutcome) -> Attempt {
            skipped || stoppedAtTarget ? .shortcutsWereInconclusive : .decided(outcome)
        }

        while true {
            switch decoder.receive(into: candidate) {
            case .frame:
                let counted = fromStart ? stream.timestamp(ofPictureNumber: picturesDecoded) : nil
                guard let timestamp = candidate.timestamp ?? counted else {
                    // No timestamp and no frame rate: from the start, the first picture is the best guess.
                    return decided(fromStart ? .found(candidate, landedLate: false) : .untimed)
                }
                if picturesDecoded == 0 { landedLate = timestamp > target }
                picturesDecoded += 1
                if timestamp >= target {
                    if skipped || stoppedAtTarget,
                        shortcuts?.isCertainlyFirst(timestamp, after: latestTimestamp, stoppedAtTarget: stoppedAtTarget) != true
                    {
                        return .shortcutsWereInconclusive
                    }
                    return .decided(.found(candidate, landedLate: landedLate))
                }
                swap(&candidate, &latest)
                latestTimestamp = timestamp
            case .needsPacket where !endOfInput:
                switch input.readPacket(into: packet) {
                case .packet where packet.streamIndex == stream.index:
                    let shownAt = packet.presentationTimestamp
                    let skips = shortcuts?.maySkipUnreferencedPicture(shownAt: shownAt) ?? false
                    decoder.skipsUnreferencedPictures = skips
                    skipped = skipped || skips
                    let status = decoder.send(packet)
                    // A corrupt packet is skipped; the decoder resynchronises at the next keyframe.
                    if status < 0 { lastFailure = status }
                    if shortcuts?.stopsAfterPacket(shownAt: shownAt) == true, status >= 0 {
                        stoppedAtTarget = true
                        endOfInput = true
                        decoder.sendEndOfStream()
                    }
                case .packet:
                    continue
                case .endOfInput:
                    endOfInput = true
                    decoder.sendEndOfStream()
                }
            case .needsPacket, .drained:
                return decided(picturesDecoded > 0 ? .found(latest, landedLate: landedLate) : .nothingDecoded(lastFailure: lastFailure))
            case .failed(let status):
                lastFailure = status
                return decided(picturesDecoded > 0 ? .found(latest, landedLate: landedLate) : .nothingDecoded(lastFailure: lastFailure))
            }
        }
    }
}

/// Two ways to reach the poster with fewer decoded pictures, and when a picture found with them is
/// certainly the one a full decode finds. Timestamps are in the stream's time base, as packets carry them.
///
/// - Unreferenced pictures of packets shown at least two pictures before the target cannot be the poster,
///   and no other picture needs them: the decoder skips them (`VideoDecoder.skipsUnreferencedPictures`).
/// - Once the packet shown exactly at the target has been sent, no later packet can hold an earlier
///   poster: the decoder is told the stream ends, so it returns the pictures it holds back for reordering
///   at once instead of after decoding further pictures. Only in progressive video: an interlaced picture
///   may be coded as two fields in two packets, and stopping after the first would leave it half decoded.
struct PosterShortcuts {
    let target: Int64
    let pictureDuration: Int64
    let stopsAtTarget: Bool

    /// nil without a frame rate: then there is no safe distance before the target.
    init?(target: Int64, stream: VideoStreamFacts) {
        guard let pictureDuration = stream.pictureDuration else { return nil }
        self.target = target
        self.pictureDuration = pictureDuration
        self.stopsAtTarget = stream.isProgressive
    }

    /// Never for a packet without a timestamp.
    func maySkipUnreferencedPicture(shownAt timestamp: Int64?) -> Bool {
        guard let timestamp else { return false }
        return timestamp < target - 2 * pictureDuration
    }

    /// Whether to stop sending packets after this one.
    func stopsAfterPacket(shownAt timestamp: Int64?) -> Bool {
        stopsAtTarget && timestamp == target
    }

    /// The shortcuts only leave out pictures that cannot come first at or after the target, unless the
    /// decoder dropped a picture it would otherwise have returned (a reorder buffer found too short). A
    /// picture exactly at the target has nothing before it that could be the poster. Otherwise, after
    /// stopping at the target's packet the picture should have been exactly at the target; and after
    /// skipping, the picture before it must be less than two picture durations earlier, which leaves no
    /// room for a missing one.
    func isCertainlyFirst(_ timestamp: Int64, after previous: Int64?, stoppedAtTarget: Bool) -> Bool {
        if timestamp == target { return true }
        guard !stoppedAtTarget, let previous else { return false }
        return timestamp - previous < 2 * pictureDuration
    }
}
