import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import MediaIsolation
import PostgresNIO

struct OptimizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Rewrite stored originals smaller without changing what they show (docs/optimize.md).",
        discussion: """
            Lossless by default: JPEGs re-coded from their DCT coefficients (optimised Huffman \
            tables, progressive), PNGs compressed harder, MP4/MOV remuxed with the index first. Each \
            copy is decoded and compared with the original (same pixels, same packets) before it \
            replaces anything, and kept only when it saves media.optimizeMinSaving (2 %) or, for a \
            video, moved its index to the front without growing. The asset keeps its identity (the \
            download's SHA-256: dedupe, known, receipts); its row and metadata file record the stored \
            hash and size. Works through the assets never tried, oldest first; a kill at any point \
            leaves the old original or the new one, and the next command finishes the step. One \
            optimisation that takes longer than media.optimizeTimeoutSeconds (600) is stopped and \
            reported failed, its original untouched; a failed one is not tried again unless \
            --retry-failed asks.

            --reencode-video CRF is lossy and only when asked: videos whose bitrate exceeds \
            --min-bitrate (8000000) are re-encoded with --codec (h264) at that CRF, same \
            resolution, and the copy is refused when its PSNR against the original is below \
            --quality-floor (38 dB). The method and the measured quality are recorded per asset.

            Progress on standard error. With --json: {"ok", "dryRun", "examined", "optimized", \
            "notWorthIt", "notApplicable", "failed", "busy", "image": {"optimized", "bytesBefore", \
            "bytesAfter", "bytesSaved"}, "video": {…}, "bytesSaved", "seconds", "assets": [{"id", \
            "kind", "path", "outcome", "method", "bytesBefore", "bytesAfter", "quality", "reason"}]}.

            Exit codes: 0 done (also when copies were not worth keeping); 1 some originals could \
            not be optimised (each left as it was; listed); 2 usage; 75 database or library root \
            unavailable (run it again: it goes on where it stopped).
            """)

    @OptionGroup var options: CommonOptions

    @Flag(help: "Write and measure the copies in .tmp, report what would be saved, replace nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("Stop after this many originals.", valueName: "n"))
    var limit: Int?

    @Flag(
        help: """
            Try again the originals whose optimisation failed before, instead of the untried ones \
            (after raising media.optimizeTimeoutSeconds, say).
            """)
    var retryFailed = false

    @Option(help: ArgumentHelp("Re-encode videos at this CRF (0–51): lossy, only when asked.", valueName: "crf"))
    var reencodeVideo: Int?

    @Option(help: ArgumentHelp("The re-encoding's codec: h264 or hevc.", valueName: "codec"))
    var codec: String?

    @Option(help: ArgumentHelp("Re-encode only videos above this bitrate (bits per second).", valueName: "bps"))
    var minBitrate: Int64?

    @Option(help: ArgumentHelp("Refuse a re-encoded copy whose PSNR is below this (dB).", valueName: "db"))
    var qualityFloor: Double?

    static let defaultMinimumBitrate: Int64 = 8_000_000
    static let defaultQualityFloor = 38.0

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let crf = reencodeVideo, !(0...51).contains(crf) { throw ValidationError("--reencode-video takes a CRF from 0 to 51") }
        if reencodeVideo == nil && (codec != nil || minBitrate != nil || qualityFloor != nil) {
            throw ValidationError("--codec, --min-bitrate and --quality-floor go with --reencode-video")
        }
        if retryFailed && reencodeVideo != nil {
            throw ValidationError("--retry-failed retries lossless optimisations; --reencode-video works through every video")
        }
        if let codec, VideoCodecChoice(rawValue: codec) == nil { throw ValidationError("--codec is h264 or hevc") }
        if let minBitrate, minBitrate < 0 { throw ValidationError("--min-bitrate must be 0 or more") }
        if let qualityFloor, !(qualityFloor > 0 && qualityFloor < 100) {
            throw ValidationError("--quality-floor is a PSNR in dB, above 0 and below 100")
        }
    }

    var request: OptimizationRequest {
        guard let crf = reencodeVideo else { return .lossless }
        return .reencodeVideo(
            codec: codec.flatMap(VideoCodecChoice.init(rawValue:)) ?? .h264, crf: crf,
            minimumBitrate: minBitrate ?? Self.defaultMinimumBitrate, qualityFloor: qualityFloor ?? Self.defaultQualityFloor)
    }

    func run() async throws {
        let logger = options.makeLogger()
        let bar = ProgressBar(json: options.json)
        let summary: OriginalOptimization.Summary
        do throws(MediaError) {
            let configuration = try await options.library.load()
            let pool = try DecoderPool.forCommands(configuration)
            defer { pool.shutdown() }
            pool.setOptimizeTimeout(configuration.optimizeTimeout)
            let pause = ProcessInfo.processInfo.environment["MEDIAQ_OPTIMIZE_PAUSE_MS"].flatMap(Int.init)
            let request = request
            let dryRun = dryRun
            let limit = limit
            let retryFailed = retryFailed
            let json = options.json
            summary = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (library, connection) throws(MediaError) in
                var optimization = OriginalOptimization(
                    root: library.root.path, optimizer: pool, request: request,
                    minimumSaving: configuration.optimizeMinSaving, dryRun: dryRun, logger: logger)
                optimization.pauseBeforeRename = pause.map { .milliseconds($0) }
                optimization.retryFailed = retryFailed
                return try await optimization.run(on: connection, limit: limit) { done, total, outcome in
                    bar.show("optimize", done, total)
                    if !bar.enabled && !json {
                        printError("\(done)/\(total) \(outcome.path): \(Self.describe(outcome))")
                    }
                }
            }
            bar.clear()
        } catch {
            bar.clear()
            throw fail(error, program: "mediaq optimize", json: options.json)
        }
        if options.json {
            JSONOutput.print(OKReport(summary, ok: summary.failed == 0))
        } else {
            for asset in summary.assets where asset.outcome == .failed {
                print("failed  \(asset.id)  \(asset.path)  \(asset.reason ?? "")")
            }
            print(Self.text(summary))
        }
        if summary.failed > 0 { throw ExitCode(ExitStatus.failure) }
    }

    static func describe(_ outcome: OriginalOptimization.AssetOutcome) -> String {
        switch outcome.outcome {
        case .optimized:
            "\(outcome.method ?? "") \(ByteCount.format(outcome.bytesBefore)) → \(ByteCount.format(outcome.bytesAfter))"
        default:
            outcome.outcome.rawValue.replacingOccurrences(of: "_", with: " ") + (outcome.reason.map { ": " + $0 } ?? "")
        }
    }

    static func text(_ summary: OriginalOptimization.Summary) -> String {
        let verb = summary.dryRun ? "would save" : "saved"
        var lines = [
            "\(summary.examined) original(s): \(summary.optimized) \(summary.dryRun ? "would be " : "")optimised, "
                + "\(summary.notWorthIt) not worth it, \(summary.notApplicable) not applicable, \(summary.failed) failed"
                + (summary.busy > 0 ? ", \(summary.busy) busy" : "")
        ]
        for (kind, line) in [("images", summary.image), ("videos", summary.video)] where line.optimized > 0 {
            lines.append(
                "\(kind): \(verb) \(ByteCount.format(line.bytesSaved)) (\(ByteCount.format(line.bytesBefore)) → "
                    + "\(ByteCount.format(line.bytesAfter))) in \(line.optimized)")
        }
        lines.append("\(verb) \(ByteCount.format(summary.bytesSaved)) in \(String(format: "%.1f", summary.seconds)) s")
        return lines.joined(separator: "\n")
    }
}
