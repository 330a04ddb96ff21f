import Foundation
import MediaCodecs
import Testing

/// Files that are not usable videos must give a VideoError, never a crash or a poster.
@Suite struct VideoFailureTests {
    private func expectFailure(_ path: String, in folder: VideoFixtureFolder, kind expectedKind: VideoError.Kind? = nil) {
        let probeError = #expect(throws: VideoError.self) { try VideoProbe.probe(path: path) }
        let jpeg = folder.path("poster.jpg")
        let posterError = #expect(throws: VideoError.self) { try PosterExtractor.writePoster(videoPath: path, jpegPath: jpeg) }
        for error in [probeError, posterError] {
            #expect(error?.message.contains(path) == true, "message names the file: \(String(describing: error))")
            if let expectedKind { #expect(error?.kind == expectedKind) }
        }
        #expect(!FileManager.default.fileExists(atPath: jpeg))
    }

    @Test func htmlRenamedToMP4() throws {
        let folder = try VideoFixtureFolder()
        let path = folder.path("page.mp4")
        let html = "<!DOCTYPE html>\n<html><head><title>Not a video</title></head><body><p>Hello</p></body></html>\n"
        try Data(String(repeating: html, count: 20).utf8).write(to: URL(fileURLWithPath: path))
        expectFailure(path, in: folder)
    }

    @Test func firstKilobyteOfAnMP4() throws {
        let folder = try VideoFixtureFolder()
        let whole = try Data(contentsOf: URL(fileURLWithPath: try VideoClipFixtures.h264WithAAC(in: folder)))
        let path = folder.path("truncated.mp4")
        try whole.prefix(1_024).write(to: URL(fileURLWithPath: path))
        expectFailure(path, in: folder)
    }

    @Test func missingFileIsUnreadable() throws {
        let folder = try VideoFixtureFolder()
        expectFailure(folder.path("absent.mp4"), in: folder, kind: .unreadable)
    }

    @Test func audioOnlyHasNoVideoStream() throws {
        let folder = try VideoFixtureFolder()
        expectFailure(try VideoClipFixtures.audioOnly(in: folder), in: folder, kind: .noVideoStream)
    }

    @Test func coverArtIsNotAVideoStream() throws {
        let folder = try VideoFixtureFolder()
        expectFailure(try VideoClipFixtures.audioWithCoverArt(in: folder), in: folder, kind: .noVideoStream)
    }
}
