import MediaCodecs
import Testing

@Suite struct VideoPosterTests {
    /// Writes the poster, checks the size it reports against the JPEG's real size and the JPEG's coding,
    /// and returns the decoded poster.
    private func poster(of video: String, in folder: VideoFixtureFolder) throws -> RGBPicture {
        let jpeg = folder.path("poster.jpg")
        let size = try PosterExtractor.writePoster(videoPath: video, jpegPath: jpeg)
        let structure = try JPEGStructure(fileAt: jpeg)
        #expect(structure.isBaseline && !structure.isProgressive)
        #expect(!structure.hasExif)
        let picture = try RGBPicture(imageAt: jpeg, scratch: folder)
        #expect(picture.width == size.width && picture.height == size.height)
        return picture
    }

    @Test func landscapeVideoFillsTheWidth() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.h264WithAAC(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 225)
        #expect(picture.centre.isClose(to: .green), "centre is \(picture.centre)")
        #expect(picture.pixel(x: 1, y: 112).isClose(to: .green), "no bars on a poster that fills the width")
    }

    @Test func videoWithoutAudio() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.h264Silent(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 300)
        #expect(picture.centre.isClose(to: .white), "centre is \(picture.centre)")
    }

    /// The red block must land in the same corner as in the frame the ffmpeg tool shows, which applies
    /// the display matrix itself.
    @Test func rotatedVideoGivesAPortraitPosterTurnedLikeFFmpegShowsIt() throws {
        let folder = try VideoFixtureFolder()
        let video = try VideoClipFixtures.rotatedH264(in: folder)
        let picture = try poster(of: video, in: folder)
        #expect(picture.width == 400 && picture.height == 711)

        let reference = try RGBPicture(
            imageAt: try folder.ffmpeg(["-i", video, "-frames:v", "1"], output: "reference.png"), scratch: folder)
        #expect(reference.height > reference.width)
        func redCorners(_ picture: RGBPicture) -> [Bool] {
            let inset = 10
            let corners = [
                (inset, inset), (picture.width - inset, inset), (inset, picture.height - inset),
                (picture.width - inset, picture.height - inset),
            ]
            return corners.map { picture.pixel(x: $0.0, y: $0.1).isClose(to: .red, tolerance: 60) }
        }
        #expect(redCorners(picture) == redCorners(reference))
        #expect(redCorners(picture).filter { $0 }.count == 1)
    }

    @Test func vp9WebM() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.vp9WithOpus(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 225)
        #expect(picture.centre.isClose(to: .red), "centre is \(picture.centre)")
    }

    @Test func hevc() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.hevc(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 300)
        #expect(picture.centre.isClose(to: .blue), "centre is \(picture.centre)")
    }

    /// Red before 1 s, blue from 1 s to 1.2 s, green after: only a frame at 1 s is blue.
    @Test func posterIsTakenAtOneSecond() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.markedSecondH264(in: folder), in: folder)
        #expect(picture.centre.isClose(to: .blue), "centre is \(picture.centre)")
    }

    /// Shrunk to less than half its size, the picture is converted to RGB the cheap way; its colours must
    /// still be converted with the BT.709 matrix it is tagged with.
    @Test func hdVideoShrunkForItsPosterKeepsItsColours() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.markedSecondHD709(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 225)
        #expect(picture.centre.isClose(to: .blue, tolerance: 12), "centre is \(picture.centre)")
    }

    /// The program stream starts at about 0.5 s and has no index; a poster at 1 s must add the start
    /// time and must not settle for a keyframe after the target. The sample aspect ratio makes it 16:9.
    @Test func anamorphicMPEG2ProgramStreamIsSeekedToOneSecondAndWidened() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.anamorphicMPEG2(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 225)
        #expect(picture.centre.isClose(to: .blue), "centre is \(picture.centre)")
    }

    @Test func shortClipUsesItsMidPoint() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.halfSecond(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 300)
        #expect(picture.centre.isClose(to: .blue), "centre is \(picture.centre)")
    }

    @Test func singlePictureVideoIsDrainedFromTheDecoder() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.singleFrame(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 300)
        #expect(picture.centre.isClose(to: .blue), "centre is \(picture.centre)")
    }

    @Test func rawH264StreamWithoutContainer() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.markedSecondRawH264(in: folder), in: folder)
        #expect(picture.width == 400 && picture.height == 300)
        #expect(picture.centre.isClose(to: .blue), "centre is \(picture.centre)")
    }

    /// 100x1000 would be 400x4000 at full width: it is fitted into 400x1600 and centred on black bars.
    @Test func veryTallVideoIsFittedAndPaddedNotCropped() throws {
        let folder = try VideoFixtureFolder()
        let picture = try poster(of: try VideoClipFixtures.h264Silent(in: folder, colour: "white", width: 100, height: 1000), in: folder)
        #expect(picture.width == 400 && picture.height == 1600)
        #expect(picture.pixel(x: 0, y: 800).isClose(to: .black, tolerance: 8), "left edge is \(picture.pixel(x: 0, y: 800))")
        #expect(picture.pixel(x: 399, y: 800).isClose(to: .black, tolerance: 8))
        #expect(picture.centre.isClose(to: .white), "centre is \(picture.centre)")
        // The picture is 160 wide (100 * 1600 / 1000), so its top and bottom rows are kept.
        #expect(picture.pixel(x: 200, y: 2).isClose(to: .white))
        #expect(picture.pixel(x: 200, y: 1597).isClose(to: .white))
        #expect(picture.pixel(x: 110, y: 800).isClose(to: .black, tolerance: 8))
        #expect(picture.pixel(x: 130, y: 800).isClose(to: .white))
    }

    @Test func unwritableDestinationIsAThumbnailFailure() throws {
        let folder = try VideoFixtureFolder()
        let video = try VideoClipFixtures.h264Silent(in: folder)
        let error = #expect(throws: VideoError.self) {
            try PosterExtractor.writePoster(videoPath: video, jpegPath: folder.path("missing-folder/poster.jpg"))
        }
        #expect(error?.kind == .thumbnailFailed)
        #expect(error?.message.contains(video) == true)
    }

    @Test(arguments: [(0, 1600, 85), (400, 0, 85), (400, 1600, 0), (400, 1600, 101)])
    func impossiblePosterSettingsAreRefused(width: Int, maxHeight: Int, quality: Int) throws {
        let folder = try VideoFixtureFolder()
        let error = #expect(throws: VideoError.self) {
            try PosterExtractor.writePoster(
                videoPath: folder.path("any.mp4"), jpegPath: folder.path("poster.jpg"),
                targetWidth: width, maxHeight: maxHeight, quality: quality)
        }
        #expect(error?.kind == .thumbnailFailed)
    }

    @Test func postersForTheSameFileCanBeMadeConcurrently() async throws {
        let folder = try VideoFixtureFolder()
        let video = try VideoClipFixtures.markedSecondH264(in: folder)
        let jpegs = (0..<4).map { folder.path("concurrent-\($0).jpg") }
        let sizes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for jpeg in jpegs {
                group.addTask { try PosterExtractor.writePoster(videoPath: video, jpegPath: jpeg) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(sizes.allSatisfy { $0 == (400, 300) })
        for jpeg in jpegs {
            #expect(try RGBPicture(imageAt: jpeg, scratch: folder).centre.isClose(to: .blue))
        }
    }
}
