import CFFmpeg

/// Converts a stored picture size to the size it is shown at once its sample aspect ratio is applied.
enum SquarePixels {
    /// Stretching beyond this is taken as a broken header rather than a real anamorphic format; it
    /// also bounds the memory of the converted frame.
    private static let plausibleStretch = 1.0 / 16...16.0

    /// Keeps the height and widens or narrows the width, as ffmpeg reports display sizes
    /// (720x576 with SAR 64:45 is shown at 1024x576).
    static func size(width: Int, height: Int, sampleAspectRatio: AVRational) -> (width: Int, height: Int) {
        guard Libav.isPositive(sampleAspectRatio) else { return (width, height) }
        let stretch = av_q2d(sampleAspectRatio)
        guard plausibleStretch.contains(stretch) else { return (width, height) }
        return (max(1, Int((Double(width) * stretch).rounded())), height)
    }
}
