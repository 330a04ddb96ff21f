import Foundation
import MediaCodecs
import MediaCore
import MediaIsolation
import Testing

@Suite struct JPEGOptimizationTests {
    let optimizer = NativeOriginalOptimizer()

    @Test func cameraLikeBaselineJPEGShrinksWithIdenticalPixels() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("photo.jpg")
        let output = folder.path("photo.optimized.jpg")
        try OptimizationFixtures.cameraLikeJPEG(source)
        let result = try await optimizer.optimize(path: source, format: .jpeg, to: output, request: .lossless)
        #expect(result.applicable)
        #expect(result.method == "jpeg-lossless")
        #expect(result.verification == "pixels")
        let written = try OptimizationFixtures.size(output)
        #expect(result.outputBytes == written)
        #expect(try written < OptimizationFixtures.size(source) * 98 / 100)
        // Progressive: the first frame header is SOF2.
        #expect(OptimizationFixtures.jpegSegments(try OptimizationFixtures.bytes(output)).contains { $0.marker == 0xC2 })
    }

    @Test func rotatedJPEGKeepsItsOrientationAndICCProfile() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("rotated.jpg")
        let output = folder.path("rotated.optimized.jpg")
        try OptimizationFixtures.cameraLikeJPEG(source, size: "600x400")
        try OptimizationFixtures.addEXIFOrientationAndICC(source, orientation: 6)
        _ = try await optimizer.optimize(path: source, format: .jpeg, to: output, request: .lossless)
        let before = try OptimizationFixtures.bytes(source)
        let after = try OptimizationFixtures.bytes(output)
        #expect(OptimizationFixtures.exifOrientation(after) == 6)
        func metadata(_ bytes: [UInt8]) -> [[UInt8]] {
            OptimizationFixtures.jpegSegments(bytes).filter { $0.marker == 0xE1 || $0.marker == 0xE2 }.map(\.payload)
        }
        #expect(metadata(after) == metadata(before))
        #expect(metadata(after).count == 2)
    }

    @Test(arguments: ["CMYK", "Gray"])
    func otherColourSpacesKeepTheirPixels(colorspace: String) async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("\(colorspace).jpg")
        let output = folder.path("\(colorspace).optimized.jpg")
        try OptimizationFixtures.cameraLikeJPEG(source, size: "500x300", extra: ["-colorspace", colorspace])
        // The optimiser proves pixel identity itself (in CMYK or gray, the file's own samples).
        let result = try await optimizer.optimize(path: source, format: .jpeg, to: output, request: .lossless)
        #expect(result.verification == "pixels")
        #expect(try OptimizationFixtures.size(output) < OptimizationFixtures.size(source))
    }

    @Test func corruptJPEGFailsAndLeavesNoOutput() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("corrupt.jpg")
        let output = folder.path("corrupt.optimized.jpg")
        try OptimizationFixtures.cameraLikeJPEG(source, size: "400x300")
        let whole = try OptimizationFixtures.bytes(source)
        try Data(whole.prefix(whole.count / 2)).write(to: URL(fileURLWithPath: source))
        let failure = await #expect(throws: DecodeFailure.self) {
            try await optimizer.optimize(path: source, format: .jpeg, to: output, request: .lossless)
        }
        #expect(failure?.reason == .failed)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func jpegWithDataAfterItsPictureIsNotApplicable() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("motion.jpg")
        let output = folder.path("motion.optimized.jpg")
        try OptimizationFixtures.cameraLikeJPEG(source, size: "400x300")
        // A motion photo appends its video after the picture's EOI.
        let appended = try OptimizationFixtures.bytes(source) + [0, 0, 0, 0x18] + Array("ftypmp42".utf8) + [UInt8](repeating: 7, count: 64)
        try Data(appended).write(to: URL(fileURLWithPath: source))
        let result = try await optimizer.optimize(path: source, format: .jpeg, to: output, request: .lossless)
        #expect(!result.applicable)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func gifIsNotApplicable() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("anim.gif")
        let output = folder.path("anim.optimized.gif")
        try OptimizationFixtures.convert(["-size", "64x64", "xc:red", "xc:blue", source])
        let result = try await optimizer.optimize(path: source, format: .gif, to: output, request: .lossless)
        #expect(!result.applicable)
        #expect(result.reason != nil)
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}

@Suite struct DecoderPoolOptimizationTests {
    @Test func workerOptimizesAJPEG() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("photo.jpg")
        let output = folder.path("photo.optimized.jpg")
        try OptimizationFixtures.cameraLikeJPEG(source, size: "640x480")
        var settings = DecoderPool.Settings(command: OptimizationFixtures.workerCommand())
        settings.optimizeTimeout = .seconds(120)
        let pool = DecoderPool(settings: settings)
        defer { pool.shutdown() }
        let result = try await pool.optimize(path: source, format: .jpeg, to: output, request: .lossless)
        #expect(result.method == "jpeg-lossless")
        #expect(result.outputBytes == (try OptimizationFixtures.size(output)))
        let gif = try await pool.optimize(path: source, format: .gif, to: output + ".gif", request: .lossless)
        #expect(!gif.applicable)
    }

    @Test func workerCrashingWhileOptimizingIsNeverQuarantined() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("crash.jpg")
        try Data("MEDIAD-FAULT:crash".utf8).write(to: URL(fileURLWithPath: source))
        // The worker plants the fault only with the variable set: set for its command alone.
        let command = ["/usr/bin/env", "\(DecoderServer.faultInjectionVariable)=1"] + OptimizationFixtures.workerCommand()
        let pool = DecoderPool(settings: DecoderPool.Settings(command: command))
        defer { pool.shutdown() }
        for _ in 0..<2 {
            let failure = await #expect(throws: DecodeFailure.self) {
                try await pool.optimize(path: source, format: .jpeg, to: folder.path("out.jpg"), request: .lossless)
            }
            #expect(failure?.reason == .crashed)
        }
    }

    @Test func oldRepliesWithoutAnOptimizationStillDecode() throws {
        let old = Data(#"{"thumbnail":{"width":10,"height":5}}"#.utf8)
        let reply = try JSONDecoder().decode(DecodeReply.self, from: old)
        #expect(reply.optimized == nil)
        #expect(reply.thumbnail != nil)
    }
}

@Suite struct PNGOptimizationTests {
    let optimizer = NativeOriginalOptimizer()

    @Test func lowCompressionScreenshotShrinksWithIdenticalPixels() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("screen.png")
        let output = folder.path("screen.optimized.png")
        try OptimizationFixtures.lowCompressionPNG(source)
        let result = try await optimizer.optimize(path: source, format: .png, to: output, request: .lossless)
        #expect(result.method == "png-lossless")
        #expect(result.verification == "pixels")
        #expect(result.outputBytes == (try OptimizationFixtures.size(output)))
        #expect(result.outputBytes < (try OptimizationFixtures.size(source)) * 98 / 100)
    }

    @Test func sixteenBitPNGStaysSixteenBit() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("deep.png")
        let output = folder.path("deep.optimized.png")
        try OptimizationFixtures.convert(
            ["-size", "300x200", "gradient:#102030-#f0e0d0", "-depth", "16", "-define", "png:compression-level=1", "png48:" + source])
        #expect(try OptimizationFixtures.pngDepthAndColourType(source) == (16, 2))
        // Identity of every 16-bit sample is the optimiser's own check; it throws otherwise.
        _ = try await optimizer.optimize(path: source, format: .png, to: output, request: .lossless)
        #expect(try OptimizationFixtures.pngDepthAndColourType(output) == (16, 2))
    }

    @Test func pngWithAlphaKeepsItsAlpha() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("alpha.png")
        let output = folder.path("alpha.optimized.png")
        try OptimizationFixtures.lowCompressionPNGWithAlpha(source)
        let sourceKind = try OptimizationFixtures.pngDepthAndColourType(source)
        #expect(sourceKind == (8, 6))
        // Identity of every sample, alpha included, is the optimiser's own check; it throws otherwise.
        _ = try await optimizer.optimize(path: source, format: .png, to: output, request: .lossless)
        let outputKind = try OptimizationFixtures.pngDepthAndColourType(output)
        #expect(outputKind == (8, 6), "the output is depth \(outputKind.depth), colour type \(outputKind.colourType)")
    }
}

extension PNGOptimizationTests {
    @Test func animatedPNGIsNotApplicable() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("animated.png")
        try FFmpegTool.run(["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=5:duration=1", "-f", "apng", "-plays", "0", source])
        let result = try await optimizer.optimize(path: source, format: .png, to: folder.path("out.png"), request: .lossless)
        #expect(!result.applicable)
        #expect(result.reason?.contains("animated") == true)
    }

    @Test func pngWithANonSRGBGammaIsNotApplicable() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("gamma.png")
        try OptimizationFixtures.lowCompressionPNG(source, extra: ["-set", "gamma", "1.0"])
        let result = try await optimizer.optimize(path: source, format: .png, to: folder.path("out.png"), request: .lossless)
        #expect(!result.applicable)
        #expect(result.reason?.contains("gamma") == true)
    }
}

@Suite struct VideoOptimizationTests {
    let optimizer = NativeOriginalOptimizer()

    @Test func trailingIndexMovesFirstWithIdenticalPackets() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("trailing.mp4")
        let output = folder.path("trailing.optimized.mp4")
        try OptimizationFixtures.videoWithTrailingIndex(source)
        let atoms = try OptimizationFixtures.topLevelAtoms(source)
        #expect(atoms.firstIndex(of: "mdat")! < atoms.firstIndex(of: "moov")!)
        // Packet identity (bytes, pts, dts, duration, keyframe flag) is the optimiser's own check.
        let result = try await optimizer.optimize(path: source, format: .mp4, to: output, request: .lossless)
        #expect(result.method == "mp4-faststart")
        #expect(result.verification == "packets")
        #expect(result.movedIndexFirst)
        let moved = try OptimizationFixtures.topLevelAtoms(output)
        #expect(moved.firstIndex(of: "moov")! < moved.firstIndex(of: "mdat")!)

        // Already index-first: the copy is still proven, but nothing was moved.
        let again = try await optimizer.optimize(path: output, format: .mp4, to: folder.path("again.mp4"), request: .lossless)
        #expect(!again.movedIndexFirst)
    }

    @Test func rotatedQuickTimeKeepsItsRotation() async throws {
        let folder = try VideoFixtureFolder()
        let output = folder.path("phone.optimized.mov")
        // ffmpeg 5.1 writes the display matrix only when copying a stream: encoded, then remuxed.
        let plain = try folder.ffmpeg(
            [
                "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt",
                "yuv420p",
            ],
            output: "plain.mov")
        let source = try folder.ffmpeg(["-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90"], output: "phone.mov")
        // ffmpeg's rotate=90 is counter-clockwise: shown turned 270° clockwise.
        let rotation = try VideoProbe.probe(path: source).rotationDegrees
        #expect(rotation == 270)
        let result = try await optimizer.optimize(path: source, format: .quickTime, to: output, request: .lossless)
        #expect(result.verification == "packets")
        #expect(try VideoProbe.probe(path: output).rotationDegrees == rotation)
        #expect(try VideoProbe.probe(path: output).containerName == "mov,mp4,m4a,3gp,3g2,mj2")
    }

    @Test func hevcReencodeIsTaggedForApplePlayers() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("master.mp4")
        let output = folder.path("master.hevc.mp4")
        try OptimizationFixtures.videoWithTrailingIndex(source, seconds: 1, videoArguments: ["-crf", "4"])
        let request = OptimizationRequest.reencodeVideo(codec: .hevc, crf: 28, minimumBitrate: 1_000_000, qualityFloor: 30)
        let result = try await optimizer.optimize(path: source, format: .mp4, to: output, request: request)
        #expect(result.method == "hevc-crf28")
        #expect((result.quality ?? 0) >= 30)
        #expect(try VideoProbe.probe(path: output).videoCodec == "hevc")
        let bytes = try OptimizationFixtures.bytes(output)
        #expect(bytes.indices.dropLast(4).contains { bytes[$0..<$0 + 4].elementsEqual("hvc1".utf8) })
    }

    @Test func highBitrateVideoAtCRF23PassesA30dBFloor() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("master.mp4")
        let output = folder.path("master.h264.mp4")
        try OptimizationFixtures.videoWithTrailingIndex(source, videoArguments: ["-crf", "4"])
        let request = OptimizationRequest.reencodeVideo(codec: .h264, crf: 23, minimumBitrate: 1_000_000, qualityFloor: 30)
        let result = try await optimizer.optimize(path: source, format: .mp4, to: output, request: request)
        #expect(result.method == "h264-crf23")
        #expect(result.verification == "psnr")
        #expect((result.quality ?? 0) >= 30)
        #expect(result.movedIndexFirst)
        #expect(result.outputBytes < (try OptimizationFixtures.size(source)) / 2)
    }

    @Test func crf51IsRefusedByA40dBFloor() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("master.mp4")
        let output = folder.path("master.crf51.mp4")
        try OptimizationFixtures.videoWithTrailingIndex(source, videoArguments: ["-crf", "4"])
        let request = OptimizationRequest.reencodeVideo(codec: .h264, crf: 51, minimumBitrate: 1_000_000, qualityFloor: 40)
        let failure = await #expect(throws: DecodeFailure.self) {
            try await optimizer.optimize(path: source, format: .mp4, to: output, request: request)
        }
        #expect(failure?.reason == .failed)
        #expect(failure?.message.contains("below the floor of 40.00 dB") == true)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func videoUnderTheBitrateCeilingIsNotApplicable() async throws {
        let folder = try VideoFixtureFolder()
        let source = folder.path("small.mp4")
        try OptimizationFixtures.videoWithTrailingIndex(source)
        let request = OptimizationRequest.reencodeVideo(codec: .h264, crf: 23, minimumBitrate: 50_000_000, qualityFloor: 30)
        let result = try await optimizer.optimize(path: source, format: .mp4, to: folder.path("out.mp4"), request: request)
        #expect(!result.applicable)
        #expect(!FileManager.default.fileExists(atPath: folder.path("out.mp4")))
    }
}
