/// Why a video could not be probed or given a poster.
public struct VideoError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// libavformat cannot open the file or make sense of its container.
        case unreadable
        /// The file opens but holds no video stream (audio only, or only cover art).
        case noVideoStream
        /// The video stream has no decoder, or decoding it gives no picture.
        case undecodable
        /// A frame was decoded but the JPEG poster could not be made or written.
        case thumbnailFailed
    }

    public let kind: Kind
    /// A sentence naming the file and the reason.
    public let message: String
    public var description: String { message }

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
}
