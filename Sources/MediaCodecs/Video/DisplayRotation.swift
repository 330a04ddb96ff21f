/// How a stream must be turned for display, from the angle its display matrix describes.
enum DisplayRotation {
    /// Clockwise degrees, snapped to 0, 90, 180 or 270.
    ///
    /// `av_display_rotation_get` answers counter-clockwise, so the picture is turned by its negation,
    /// as ffmpeg's own tools do. A matrix that is not a rotation (NaN) means no rotation.
    static func clockwiseDegrees(fromCounterClockwise counterClockwise: Double) -> Int {
        guard counterClockwise.isFinite else { return 0 }
        let quarterTurns = Int((-counterClockwise / 90).rounded())
        return ((quarterTurns % 4) + 4) % 4 * 90
    }
}
