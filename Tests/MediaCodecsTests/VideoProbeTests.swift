import MediaCodecs
import Testing

@Suite struct VideoProbeTests {
    @Test func h264WithAACReportsItsStreamsAndContainer() throws {
        let folder = try VideoFixtureFolder()
        let info = try VideoProbe.probe(path: try VideoClipFixtures.h264WithAAC(in: folder))
        #expect(info.width == 640 && info.height == 360)
        #expect((4_950...5_100).contains(info.durationMs))
        #expect(abs((info.fps ?? 0) - 30) < 0.01)
        #expect(info.videoCodec == "h264")
        #expect(info.audioCodec == "aac")
        #expect(info.hasAudio)
        #expect((info.bitrate ?? 0) > 0)
        #expect(info.rotationDegrees == 0)
        #expect(info.containerName == "mov,mp4,m4a,3gp,3g2,mj2")
    }

    @Test func h264WithoutAudioHasNoAudioCodec() throws {
        let folder = try VideoFixtureFolder()
        let info = try VideoProbe.probe(path: try VideoClipFixtures.h264Silent(in: folder))
        #expect(!info.hasAudio)
        #expect(info.audioCodec == nil)
        #expect(info.videoCodec == "h264")
        #expect(info.width == 320 && info.height == 240)
        #expect((2_950...3_100).contains(info.durationMs))
    }

    /// ffmpeg 5.1's rotate=90 tag becomes a display matrix that turns the picture 90° counter-clockwise,
    /// that is 270° clockwise; the stored 640x360 is shown as 360x640.
    @Test func rotationMetadataGivesThePortraitDisplayedSize() throws {
        let folder = try VideoFixtureFolder()
        let info = try VideoProbe.probe(path: try VideoClipFixtures.rotatedH264(in: folder))
        #expect(info.rotationDegrees == 270)
        #expect(info.width == 360 && info.height == 640)
    }

    @Test func vp9WithOpusInWebM() throws {
        let folder = try VideoFixtureFolder()
        let info = try VideoProbe.probe(path: try VideoClipFixtures.vp9WithOpus(in: folder))
        #expect(info.videoCodec == "vp9")
        #expect(info.audioCodec == "opus")
        #expect(info.containerName == "matroska,webm")
        #expect(info.width == 320 && info.height == 180)
        #expect((2_950...3_100).contains(info.durationMs))
        #expect(abs((info.fps ?? 0) - 25) < 0.01)
    }

    @Test func hevcTaggedHvc1() throws {
        let folder = try VideoFixtureFolder()
        let info = try VideoProbe.probe(path: try VideoClipFixtures.hevc(in: folder))
        #expect(info.videoCodec == "hevc")
        #expect(!info.hasAudio)
        #expect(info.width == 320 && info.height == 240)
        #expect(abs((info.fps ?? 0) - 24) < 0.01)
    }

    /// 720x576 with square-pixel maths would be 5:4; its sample aspect ratio 64:45 makes it 16:9.
    @Test func anamorphicMPEG2ReportsTheDisplayedWidth() throws {
        let folder = try VideoFixtureFolder()
        let info = try VideoProbe.probe(path: try VideoClipFixtures.anamorphicMPEG2(in: folder))
        #expect(info.width == 1024 && info.height == 576)
        #expect(info.videoCodec == "mpeg2video")
        #expect(info.audioCodec == "mp2")
        #expect(info.containerName == "mpeg")
        #expect((2_900...3_200).contains(info.durationMs))
        #expect((info.bitrate ?? 0) > 0)
    }

    @Test func halfSecondClipReportsItsDuration() throws {
        let folder = try VideoFixtureFolder()
        let info = try VideoProbe.probe(path: try VideoClipFixtures.halfSecond(in: folder))
        #expect((450...550).contains(info.durationMs))
    }
}
