/// What the core needs to rewrite a stored original smaller without changing what it shows.
/// The core decides which assets, whether a result is worth keeping and how it replaces the
/// original; an implementation (MediaCodecs' native optimiser, run in a decoder worker process)
/// writes the candidate file and proves it equal to the source.
public protocol OriginalOptimizer: Sendable {
    /// Writes an optimised copy of the file at `path` (of `format`) to `output`, then decodes it
    /// and compares it with the source before answering. Never touches `path`.
    ///
    /// Throws `DecodeFailure` when the source cannot be read or the result fails its check
    /// (`.failed`, with the reason), or when the worker crashed or hung. Returns
    /// `OptimizationResult.notApplicable` (no file written) when the format or the request does
    /// not apply to this file: a GIF, a video under the bitrate ceiling.
    func optimize(
        path: String, format: MediaFormat, to output: String, request: OptimizationRequest
    ) async throws(DecodeFailure)
        -> OptimizationResult
}

/// How far an optimisation may go.
public enum OptimizationRequest: Sendable, Equatable, Codable {
    /// Same pixels, same frames: JPEG coefficients re-coded (optimised Huffman tables,
    /// progressive), PNG re-compressed, MP4/MOV remuxed with the index first (streams copied).
    case lossless
    /// Videos only, and only when asked: re-encoded with `codec` at `crf`, same resolution,
    /// for videos whose bitrate exceeds `minimumBitrate`; refused when the quality measured
    /// against the source falls below `qualityFloor` (PSNR in dB, luma, over sampled frames).
    case reencodeVideo(codec: VideoCodecChoice, crf: Int, minimumBitrate: Int64, qualityFloor: Double)
}

public enum VideoCodecChoice: String, Sendable, Equatable, Codable {
    case h264, hevc
}

/// What an optimiser did.
public struct OptimizationResult: Sendable, Equatable, Codable {
    /// A short stable name of the transformation, recorded per asset: `jpeg-lossless`,
    /// `png-lossless`, `mp4-faststart`, `h264-crf23`, `hevc-crf28`.
    public var method: String
    /// Bytes written to `output`; 0 when not applicable.
    public var outputBytes: Int64
    /// How the result was proven: `pixels` (every decoded pixel equal), `packets` (every
    /// packet's bytes and timing equal), or `psnr` (lossy, see `quality`).
    public var verification: String
    /// Lossy only: the measured quality (PSNR, dB).
    public var quality: Double?
    /// Videos: whether the source had its index (moov) after its media data, and the output
    /// has it first. A gain of its own, since players then start without reading the file's end.
    public var movedIndexFirst: Bool
    /// Nothing was written: the request does not apply to this file (`reason` says why).
    public var applicable: Bool
    public var reason: String?

    public init(
        method: String, outputBytes: Int64, verification: String, quality: Double? = nil, movedIndexFirst: Bool = false,
        applicable: Bool = true, reason: String? = nil
    ) {
        self.method = method
        self.outputBytes = outputBytes
        self.verification = verification
        self.quality = quality
        self.movedIndexFirst = movedIndexFirst
        self.applicable = applicable
        self.reason = reason
    }

    public static func notApplicable(_ reason: String) -> OptimizationResult {
        OptimizationResult(method: "none", outputBytes: 0, verification: "none", applicable: false, reason: reason)
    }
}
