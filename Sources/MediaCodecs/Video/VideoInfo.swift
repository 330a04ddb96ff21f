/// What probing a video file reports, as a viewer would see it.
public struct VideoInfo: Sendable, Equatable {
    /// Displayed width: after the sample aspect ratio and the rotation metadata.
    public let width: Int
    /// Displayed height: after the sample aspect ratio and the rotation metadata.
    public let height: Int
    /// 0 when neither the container nor the stream states a duration (raw elementary streams).
    public let durationMs: Int64
    public let fps: Double?
    /// libavcodec's codec name, e.g. "h264", "hevc", "vp9", "mpeg2video".
    public let videoCodec: String
    /// nil when there is no audio stream.
    public let audioCodec: String?
    /// Bits per second of the whole container, when known.
    public let bitrate: Int64?
    public let hasAudio: Bool
    /// Clockwise rotation applied for display: 0, 90, 180 or 270.
    public let rotationDegrees: Int
    /// libavformat's input format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mpeg", "avi".
    public let containerName: String

    public init(
        width: Int, height: Int, durationMs: Int64, fps: Double?, videoCodec: String, audioCodec: String?,
        bitrate: Int64?, hasAudio: Bool, rotationDegrees: Int, containerName: String
    ) {
        self.width = width
        self.height = height
        self.durationMs = durationMs
        self.fps = fps
        self.videoCodec = videoCodec
        self.audioCodec = audioCodec
        self.bitrate = bitrate
        self.hasAudio = hasAudio
        self.rotationDegrees = rotationDegrees
        self.containerName = containerName
    }
}
