import MediaCodecs
import Testing

@Suite struct NativeLibrariesTests {
    @Test func librariesStartAndReportTheirVersions() throws {
        try NativeLibraries.startVips()
        try NativeLibraries.startVips()  // a second start is a no-op, not an error
        let versions = NativeLibraries.versions()
        #expect(versions.libvips.split(separator: ".").count == 3)
        #expect(versions.libavformat.split(separator: ".").count == 3)
        #expect(!versions.ffmpeg.isEmpty)
    }
}
