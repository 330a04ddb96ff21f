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

    /// The marked-second colours at 1280x720, stored as BT.709 and tagged so: the poster shrinks them to
    /// 400x225, which is where the cheaper RGB conversion applies.
    static func markedSecondHD709(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            VideoFixtureFolder.colourSequence(
                markedSecond, width: 1280, height: 720, rate: 25, extraFilter: ",scale=out_color_matrix=bt709:out_range=tv")
                + h264 + ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"],
            output: "marked-second-hd.mp4")
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

    /// 320x240 pictures that each show their own number, counted from 0, in binary: eight vertical bars
    /// 40 px wide, the least significant bit on the left, light for 1 and dark for 0 (see `PictureNumber`).
    static func counter(rate: String, seconds: Double) -> [String] {
        let bars = "if(mod(floor(N/pow(2,floor(X/40))),2),235,16)"
        return ["-f", "lavfi", "-i", "nullsrc=s=320x240:r=\(rate):d=\(seconds),format=yuv420p,geq=lum='\(bars)':cb=128:cr=128"]
    }

    /// x264 with a fixed I B B B P pattern and no B-pyramid: every B-frame is unreferenced, and the only
    /// keyframe is the first picture, so a poster at 1 s decodes on from there.
    private static let h264BFrames =
        h264 + ["-x264-params", "bframes=3:b-adapt=0:b-pyramid=none:keyint=250:scenecut=0"]

    /// 3 s at `rate` (30 fps unless told), H.264 with unreferenced B-frames: at 30 fps picture 30, shown
    /// at 1 s, is one of them.
    static func counterH264(in folder: VideoFixtureFolder, rate: String = "30") throws -> String {
        try folder.ffmpeg(counter(rate: rate, seconds: 3) + h264BFrames, output: "counter-h264.mp4")
    }

    /// 3 s at 30 fps, HEVC with a B-pyramid (referenced and unreferenced B-pictures), tagged hvc1.
    static func counterHEVC(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            counter(rate: "30", seconds: 3)
                + [
                    "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-tag:v", "hvc1", "-x265-params",
                    "bframes=3:b-adapt=0:b-pyramid=1:keyint=250:min-keyint=250:scenecut=0:log-level=error",
                ],
            output: "counter-hevc.mp4")
    }

    /// 1.5 s at 30 fps, H.264 with unreferenced B-frames: its mid-point, 0.75 s, falls between pictures
    /// 22 and 23.
    static func shortCounterH264(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(counter(rate: "30", seconds: 1.5) + h264BFrames, output: "short-counter.mp4")
    }

    /// Matroska whose 0.8 s of video (pictures 0-23 at 30 fps) is followed by 5 s of audio: the file lasts
    /// 5 s and Matroska states no duration per stream, so the poster is sought at 1 s, after the last picture.
    static func videoEndingBeforeOneSecond(in folder: VideoFixtureFolder) throws -> String {
        try folder.ffmpeg(
            counter(rate: "30", seconds: 0.8) + ["-f", "lavfi", "-i", "sine=frequency=440:duration=5"] + h264BFrames
                + ["-c:a", "aac"],
            output: "video-ending-early.mkv")
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
