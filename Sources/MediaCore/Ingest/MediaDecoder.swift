/// What the core needs from the native media libraries. The core decides; an implementation
/// (MediaCodecs' `NativeMediaDecoder`, over libvips and FFmpeg) reads and draws.
public protocol MediaDecoder: Sendable {
    /// Reads the file's header: displayed size, pages, and for videos duration and streams.
    /// Must not decode a whole image: the pixel limit is checked on what this returns.
    func probe(path: String, format: MediaFormat) async throws(DecodeFailure) -> ProbedMedia

    /// Writes the library's JPEG thumbnail (an image) or poster frame (a video) of `path`.
    func writeThumbnail(of path: String, kind: MediaFormat.Kind, to jpegPath: String) async throws(DecodeFailure) -> ThumbnailSize
}

public struct ThumbnailSize: Sendable, Equatable, Codable {
    public let width: Int
    public let height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// A decoder's verdict on a file it cannot use.
public struct DecodeFailure: Error, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable, Codable {
        /// The bytes are not a valid file of the format (truncated, corrupt).
        case undecodable
        /// A container with no video stream that can be decoded.
        case noVideoStream
        /// Reading or writing failed for a reason outside the file (a thumbnail could not be written).
        case failed
        /// The decoder died on the file (in its own process, so nothing else did). Worth one
        /// more try later: it may have been starved of memory by other work.
        case crashed
        /// The decoder gave no answer within its time limit and was killed. Worth one more try
        /// later, as a crash.
        case hung
        /// The decoder died or hung on this file twice: it is set aside, never tried again.
        case quarantined
    }

    public let reason: Reason
    public let message: String
    public var description: String { message }

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }
}

/// A file's measurements, in displayed terms.
public struct ProbedMedia: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int
    public var pageCount: Int = 1
    public var durationMs: Int64?
    public var fps: Double?
    public var videoCodec: String?
    public var audioCodec: String?
    public var bitrate: Int64?
    public var hasAudio: Bool?
    /// Images: the keywords written into the file (IPTC, XMP, EXIF), as written, not yet
    /// normalised. Absent from the replies of older decoder workers, which read none.
    public var keywords: [String]?

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}
