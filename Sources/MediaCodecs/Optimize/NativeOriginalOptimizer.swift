import Foundation
public import MediaCore

#if canImport(Glibc)
import Glibc
#endif

/// The core's `OriginalOptimizer` over libjpeg-turbo (JPEG), libvips (PNG) and FFmpeg's
/// libraries (MP4 and QuickTime). Each result is decoded and compared with its source before it
/// is reported; a result that fails, or any error, leaves no file at `output`.
public struct NativeOriginalOptimizer: OriginalOptimizer {
    public init() {}

    public func optimize(
        path: String, format: MediaFormat, to output: String, request: OptimizationRequest
    ) async throws(DecodeFailure) -> OptimizationResult {
        // Minutes of CPU for a large video: not on Swift's cooperative pool.
        try await onOwnThread { () throws(DecodeFailure) in
            try optimizeNow(path: path, format: format, to: output, request: request)
        }
    }

    /// `optimize` on the calling thread (the decoder worker process has no other work). libvips
    /// must be started (`NativeLibraries.startVips()`) for PNG.
    public func optimizeNow(
        path: String, format: MediaFormat, to output: String, request: OptimizationRequest
    ) throws(DecodeFailure) -> OptimizationResult {
        do throws(OptimizationError) {
            return try optimizeOrExplain(path: path, format: format, to: output, request: request)
        } catch {
            removeFile(output)
            throw DecodeFailure(.failed, "Cannot optimise '\(path)': \(error.description)")
        }
    }

    private func optimizeOrExplain(
        path: String, format: MediaFormat, to output: String, request: OptimizationRequest
    ) throws(OptimizationError) -> OptimizationResult {
        switch request {
        case .lossless:
            switch format {
            case .jpeg:
                let source = try Self.contents(of: path)
                if JPEGStructure.carriesDataAfterPicture(source) {
                    return .notApplicable("it carries data after its picture (a second image or a motion photo's video)")
                }
                let optimized = try JPEGOptimizer.optimize(source: source)
                try Self.write(optimized, to: output)
                return OptimizationResult(method: JPEGOptimizer.method, outputBytes: Int64(optimized.count), verification: "pixels")
            case .png:
                if let reason = PNGChunks.reasonNotToReencode(path: path) { return .notApplicable(reason) }
                try PNGOptimizer.optimize(path: path, to: output)
                return OptimizationResult(method: PNGOptimizer.method, outputBytes: try Self.size(of: output), verification: "pixels")
            case .mp4, .quickTime:
                if let reason = try FaststartRemuxer.reasonNotToCopy(path: path) { return .notApplicable(reason) }
                let indexFirst = TopLevelAtoms.indexComesFirst(path: path)
                try FaststartRemuxer.remux(path: path, to: output, muxer: Self.muxer(for: format))
                return OptimizationResult(
                    method: FaststartRemuxer.method, outputBytes: try Self.size(of: output), verification: "packets",
                    movedIndexFirst: indexFirst == false && TopLevelAtoms.indexComesFirst(path: output) == true)
            default:
                return .notApplicable("\(format.name) files have no lossless optimisation")
            }
        case .reencodeVideo(let codec, let crf, let minimumBitrate, let qualityFloor):
            guard format == .mp4 || format == .quickTime else {
                return .notApplicable("re-encoding applies to MP4 and QuickTime videos only")
            }
            if let reason = try FaststartRemuxer.reasonNotToCopy(path: path) { return .notApplicable(reason) }
            if let reason = try VideoReencoder.reasonNotToReencode(path: path) { return .notApplicable(reason) }
            guard let bitRate = try VideoReencoder.videoBitRate(path: path) else {
                return .notApplicable("its bit rate is not known")
            }
            guard bitRate > minimumBitrate else {
                return .notApplicable("its bit rate (\(bitRate) b/s) is not above \(minimumBitrate) b/s")
            }
            let indexFirst = TopLevelAtoms.indexComesFirst(path: path)
            try VideoReencoder.reencode(path: path, to: output, muxer: Self.muxer(for: format), codec: codec, crf: crf)
            let quality = try LumaPSNR.measure(source: path, result: output)
            guard quality >= qualityFloor else {
                throw OptimizationError(
                    "the re-encoded video measures \(Self.decibels(quality)) dB luma PSNR against the source, "
                        + "below the floor of \(Self.decibels(qualityFloor)) dB")
            }
            return OptimizationResult(
                method: "\(codec.rawValue)-crf\(crf)", outputBytes: try Self.size(of: output), verification: "psnr",
                quality: quality, movedIndexFirst: indexFirst == false && TopLevelAtoms.indexComesFirst(path: output) == true)
        }
    }

    private static func decibels(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    /// libavformat's muxer for the format: QuickTime stays QuickTime.
    static func muxer(for format: MediaFormat) -> String {
        format == .quickTime ? "mov" : "mp4"
    }

    static func contents(of path: String) throws(OptimizationError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OptimizationError("cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        return [UInt8](data)
    }

    static func size(of path: String) throws(OptimizationError) -> Int64 {
        guard let size = FileIO.size(of: path) else {
            throw OptimizationError("cannot examine '\(path)': \(String(cString: strerror(errno)))")
        }
        return size
    }

    /// Writes `bytes` to `path` itself (no temporary file beside it: the caller chose the path).
    static func write(_ bytes: [UInt8], to path: String) throws(OptimizationError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw OptimizationError("cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
        let failure = bytes.withUnsafeBytes { FileIO.writeAll(descriptor, $0) }
        let closed = close(descriptor) == 0
        if let failure { throw OptimizationError("cannot write '\(path)': \(String(cString: strerror(failure)))") }
        if !closed { throw OptimizationError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    }

    /// A partial or refused result must not be mistaken for an optimised original.
    private func removeFile(_ path: String) {
        unlink(path)
    }
}
