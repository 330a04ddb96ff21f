/// The clips the video tests probe and make posters of, each made by the ffmpeg tool on demand.
enum VideoClipFixtures {
    private static let h264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]

    /// 640x360, 5 s, 30 fps, H.264 with AAC audio, solid green.
    static func h264WithAAC(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colour("green", width: 640, height: 360, rate: 30, seconds: 5)
                + ["-f", "lavfi", "-i", "sine=frequency=440:duration=5"] + h264 + ["-c:a", "aac", "-shortest"],
            output: "h264-aac.mp4")
    }

    /// H.264 only, 320x240, 3 s, of the given colour and size.
    static func h264Silent(in folder: VideoFixtureFolder, colour: String = "white", width: Int = 320, height: Int = 240) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colour(colour, width: width, height: height, rate: 25, seconds: 3) + h264,
            output: "h264-\(width)x\(height).mp4")
    }

    /// 640x360 blue with a red block in the stored top-left corner, tagged rotate=90. ffmpeg 5.1 only
    /// writes that display matrix when copying the stream, so the clip is encoded first, then remuxed.
    static func rotatedH264(in folder: VideoFixtureFolder) throws -> String {
        let plain = try folder.ffmpeg(
            ["-f", "lavfi", "-i", "color=c=blue:s=640x360:r=30:d=3,drawbox=x=0:y=0:w=160:h=90:color=red:t=fill"] + h264,
            output: "unrotated.mp4")
        return try folder.ffmpeg(["-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90"], output: "rotated.mp4")
    }

    /// 320x180, 3 s, VP9 with Opus audio in WebM.
    static func vp9WithOpus(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colour("red", width: 320, height: 180, rate: 25, seconds: 3)
                + ["-f", "lavfi", "-i", "sine=frequency=440:duration=3:sample_rate=48000"]
                + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus", "-shortest"],
            output: "vp9-opus.webm")
    }

    /// 320x240, 3 s, HEVC tagged hvc1 (as Apple devices write it), no audio.
    static func hevc(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colour("blue", width: 320, height: 240, rate: 24, seconds: 3)
                + ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p"],
            output: "hevc.mp4")
    }

    /// Red for the first second, blue for 0.2 s, then green: a poster taken exactly at 1 s is blue,
    /// one taken at the start is red, one from a keyframe after 1.2 s is green.
    static let markedSecond: [(colour: String, seconds: Double)] = [("red", 1), ("blue", 0.2), ("green", 1.8)]

    static func markedSecondH264(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colourSequence(markedSecond, width: 320, height: 240, rate: 25) + h264,
            output: "marked-second.mp4")
    }

    /// 720x576 anamorphic 16:9 (SAR 64:45) MPEG-2 with MP2 audio in an MPEG program stream, coloured
    /// like `markedSecond`. The muxer starts the streams at about 0.5 s, and keyframes come every
    /// 0.48 s, so a seek that lands late reaches the green part.
    static func anamorphicMPEG2(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colourSequence(
                markedSecond, width: 720, height: 576, rate: 25, extraFilter: ",setsar=64/45",
                moreInputs: ["-f", "lavfi", "-i", "sine=frequency=440:duration=3"])
                + ["-map", "\(markedSecond.count)"]
                + ["-c:v", "mpeg2video", "-g", "12", "-b:v", "4M", "-c:a", "mp2", "-f", "mpeg"],
            output: "anamorphic.mpg")
    }

    /// 0.5 s at 20 fps: red 0.2 s, blue 0.1 s, green 0.2 s. Its mid-point (0.25 s) is blue.
    static func halfSecond(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colourSequence([("red", 0.2), ("blue", 0.1), ("green", 0.2)], width: 320, height: 240, rate: 20) + h264,
            output: "half-second.mp4")
    }

    /// The marked-second colours as a raw H.264 elementary stream: no container, no index, and
    /// timestamps only as the parser infers them.
    static func markedSecondRawH264(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colourSequence(markedSecond, width: 320, height: 240, rate: 25) + h264 + ["-f", "h264"],
            output: "marked-second.h264")
    }

    /// One picture only: H.264 decoders hold it back until told the stream has ended.
    static func singleFrame(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colour("blue", width: 320, height: 240, rate: 25, seconds: 1) + ["-frames:v", "1"] + h264,
            output: "single-frame.mp4")
    }

    /// AAC audio only.
    static func audioOnly(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac"], output: "audio.m4a")
    }

    /// MP3 with cover art: libavformat lists the picture as a video stream marked as attached.
    static func audioWithCoverArt(in folder: VideoFixtureFolder) throws -> String {
        let cover = try folder.ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=200x200:d=1", "-frames:v", "1"], output: "cover.png")
        return try folder.ffmpeg(
            [
                "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-i", cover, "-map", "0", "-map", "1",
                "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic", "-id3v2_version", "3",
            ],
            output: "song.mp3")
    }
}
