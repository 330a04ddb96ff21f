import MediaCodecs
import Testing

/// The poster is the first picture shown at or after its moment, exactly as a full decode finds it, also
/// where the decoder skips the unreferenced pictures before the moment. The clips show each picture's
/// number (`VideoClipFixtures.counter`), so a neighbouring picture is told apart from the right one.
@Suite struct VideoPosterFrameTests {
    private func posterPictureNumber(of video: String, in folder: VideoFixtureFolder) throws -> Int {
        let jpeg = folder.path("poster.jpg")
        let size = try PosterExtractor.writePoster(videoPath: video, jpegPath: jpeg)
        #expect(size.width == 400 && size.height == 300)
        return try PictureNumber(reading: RGBPicture(imageAt: jpeg, scratch: folder)).value
    }

    /// Picture 30 is an unreferenced B-frame: skipping it, or taking a neighbour, gives another number.
    @Test func h264PosterIsThePictureAtOneSecond() throws {
        let folder = try VideoFixtureFolder()
        #expect(try posterPictureNumber(of: try VideoClipFixtures.counterH264(in: folder), in: folder) == 30)
    }

    @Test func hevcPosterIsThePictureAtOneSecond() throws {
        let folder = try VideoFixtureFolder()
        #expect(try posterPictureNumber(of: try VideoClipFixtures.counterHEVC(in: folder), in: folder) == 30)
    }

    /// At 29.97 fps no picture is shown at exactly 1 s: picture 29 is at 0.968 s, picture 30 at 1.001 s.
    @Test func posterBetweenPicturesIsTheFirstOneAfter() throws {
        let folder = try VideoFixtureFolder()
        #expect(try posterPictureNumber(of: try VideoClipFixtures.counterH264(in: folder, rate: "30000/1001"), in: folder) == 30)
    }

    /// 1.5 s long: the mid-point 0.75 s lies between picture 22 (0.733 s) and picture 23 (0.767 s).
    @Test func shortClipPosterIsTheFirstPictureAfterItsMidPoint() throws {
        let folder = try VideoFixtureFolder()
        #expect(try posterPictureNumber(of: try VideoClipFixtures.shortCounterH264(in: folder), in: folder) == 23)
    }

    /// The video ends before 1 s: its last picture stands in.
    @Test func lastPictureStandsInWhenTheVideoEndsBeforeTheMoment() throws {
        let folder = try VideoFixtureFolder()
        #expect(try posterPictureNumber(of: try VideoClipFixtures.videoEndingBeforeOneSecond(in: folder), in: folder) == 23)
    }
}

/// Reads the number a `VideoClipFixtures.counter` picture shows, from a 400 px wide poster of it: eight
/// bars 50 px wide, sampled at their centres.
struct PictureNumber {
    let value: Int

    init(reading picture: RGBPicture) throws {
        var value = 0
        for bit in 0..<8 {
            let sample = picture.pixel(x: bit * picture.width / 8 + picture.width / 16, y: picture.height / 2)
            if sample.isClose(to: .white, tolerance: 64) {
                value |= 1 << bit
            } else if !sample.isClose(to: .black, tolerance: 64) {
                throw FFmpegToolError(description: "bar \(bit) of the picture number is neither light nor dark: \(sample)")
            }
        }
        self.value = value
    }
}
