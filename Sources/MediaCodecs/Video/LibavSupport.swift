import CFFmpeg

/// Process-wide libav settings and the small conversions every libav wrapper needs.
enum Libav {
    /// libav logs to stderr by default. Every failure reaches the caller as a `VideoError`, so its own
    /// lines would only repeat them, and corrupt streams make decoders log many lines per frame.
    private static let loggingSilenced: Void = av_log_set_level(AV_LOG_QUIET)

    /// Silences libav's log once per process; cheap to call before every use.
    static func silenceLogging() {
        _ = loggingSilenced
    }

    /// libav's sentence for a negative error code, e.g. "Invalid data found when processing input".
    static func errorText(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard av_strerror(code, &buffer, 256) == 0 else { return "libav error \(code)" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A constant C string owned by libav (codec and format names), or nil.
    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(validatingCString: pointer)
    }

    static let noTimestamp: Int64 = cff_nopts_value()
    static let endOfFile: Int32 = cff_averror_eof()
    static let tryAgain: Int32 = cff_averror(EAGAIN)

    static func isPositive(_ ratio: AVRational) -> Bool { ratio.num > 0 && ratio.den > 0 }
}
