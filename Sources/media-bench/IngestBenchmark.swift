import Foundation
import Logging
import MediaCodecs
import MediaCore
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// `swift run -c release media-bench [--images N] [--videos N] [--big-video-mb M] [--out FILE]`
/// `swift run -c release media-bench daemon [--burst N] [--latency N] [--out FILE]` (see
/// `DaemonBenchmark`)
/// `swift run -c release media-bench related [--sizes 2000,100000] [--quick] [--out FILE]` (see
/// `RelatedBenchmark`)
///
/// Ingests N generated images and N generated videos through the library's ingest function and,
/// in the same run on the same files, times the command-line pipeline that does the same work:
/// `sha256sum` + `cp` + `vipsthumbnail` per image, `sha256sum` + `cp` + one `ffmpeg` poster
/// frame per video. Then ingests one large video to show that memory does not grow with file
/// size. Prints a table and writes the figures as JSON. The database is the embedded cluster in
/// a scratch library unless BENCH_DATABASE_URL names a server.
@main
struct IngestBenchmark {
    struct Figure: Codable {
        var name: String
        var value: Double
        var unit: String
        var baseline: Double?
        var baselineName: String?
        /// The issue's goal for the figure, as text, and whether this run met it.
        var goal: String? = nil
        var met: Bool? = nil
    }

    static func main() async throws {
        var all = Array(CommandLine.arguments.dropFirst())
        let rest = Array(all.dropFirst())
        let outputArgument = rest.firstIndex(of: "--out").flatMap { $0 + 1 < rest.count ? rest[$0 + 1] : nil }
        switch all.first {
        case "daemon":
            try report(try await DaemonBenchmark.run(rest), to: outputArgument ?? "bench/daemon-results.json")
            return
        case "scale":
            try report(try await ScaleBenchmark.run(rest), to: outputArgument ?? "bench/scale-results.json")
            return
        case "related":
            try report(try await RelatedBenchmark.run(rest), to: outputArgument ?? "bench/related-results.json")
            return
        case "optimize":
            try report(try await OptimizeBenchmark.run(rest), to: outputArgument ?? "bench/optimize-results.json")
            return
        case "report":
            try BenchReport.run(rest)
            return
        case "ingest":
            all.removeFirst()
        default:
            break
        }
        var images = 40
        var videos = 10
        var bigVideoMB = 300
        var output = "bench/ingest-results.json"
        var arguments = all.makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--images": images = Int(arguments.next() ?? "") ?? images
            case "--videos": videos = Int(arguments.next() ?? "") ?? videos
            case "--big-video-mb": bigVideoMB = Int(arguments.next() ?? "") ?? bigVideoMB
            case "--out": output = arguments.next() ?? output
            default:
                print("usage: media-bench [ingest] [--images N] [--videos N] [--big-video-mb M] [--out FILE]")
                print("       media-bench daemon [--burst N] [--latency N] [--workers N] [--out FILE]")
                print("       media-bench scale [--sizes 10000,100000,1000000] [--queries N] [--runs N] [--out FILE]")
                print(
                    "       media-bench related [--sizes 2000,100000] [--searches N] [--relations wordnet[,library]] "
                        + "[--wordnet DIR] [--quick] [--out FILE]")
                print("       media-bench optimize [--photos N] [--screens N] [--videos N] [--out FILE]")
                print("       media-bench report [--out FILE] RESULTS.json …")
                exit(2)
            }
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning

        let scratch = "/tmp/media-bench-\(getpid())"
        try FileManager.default.createDirectory(
            atPath: scratch + "/samples", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        chmod(scratch, 0o755)
        defer { cleanUp(scratch, logger: logger) }

        print("making \(images) images and \(videos) videos …")
        let imageFiles = try (0..<images).map { index in
            let path = "\(scratch)/samples/image-\(index).jpg"
            try run(["/usr/bin/convert", "-seed", "\(index + 1)", "-size", "1920x1080", "plasma:", "-quality", "90", path])
            return path
        }
        let videoFiles = try (0..<videos).map { index in
            let path = "\(scratch)/samples/video-\(index).mp4"
            try run([
                "/usr/bin/ffmpeg", "-v", "error", "-y", "-f", "lavfi",
                "-i", "testsrc2=size=1280x720:rate=30:duration=6,hue=h=\(index * 30)",
                "-f", "lavfi", "-i", "sine=frequency=\(300 + index * 20):duration=6",
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path,
            ])
            return path
        }

        // The command-line pipeline, per file, on the same files.
        let baselineOut = scratch + "/baseline"
        try FileManager.default.createDirectory(atPath: baselineOut, withIntermediateDirectories: true)
        let imageBaseline = try time {
            for (index, file) in imageFiles.enumerated() {
                try run(["/usr/bin/sha256sum", file])
                try run(["/bin/cp", file, "\(baselineOut)/i\(index).jpg"])
                try run(["/usr/bin/vipsthumbnail", file, "--size", "400x1600", "-o", "\(baselineOut)/i\(index)-thumb.jpg[Q=85,strip]"])
            }
        }
        let videoBaseline = try time {
            for (index, file) in videoFiles.enumerated() {
                try run(["/usr/bin/sha256sum", file])
                try run(["/bin/cp", file, "\(baselineOut)/v\(index).mp4"])
                try run([
                    "/usr/bin/ffmpeg", "-v", "error", "-y", "-ss", "1", "-i", file, "-frames:v", "1",
                    "-vf", "scale=400:-2", "-q:v", "3", "\(baselineOut)/v\(index)-poster.jpg",
                ])
            }
        }

        // The library's ingest, in process.
        let root = scratch + "/library"
        var configuration = LibraryConfiguration(libraryRoot: root, databaseURL: nil)
        if let url = ProcessInfo.processInfo.environment["BENCH_DATABASE_URL"], !url.isEmpty {
            configuration.databaseURL = try DatabaseURL.parse(url, defaultUser: "postgres")
        }
        let (_, connection) = try await LibraryOpener(configuration: configuration, logger: logger).open()
        let ingestor = Ingestor(root: root, decoder: NativeMediaDecoder(), logger: logger)
        func ingestAll(_ files: [String]) async throws -> Double {
            let started = ContinuousClock.now
            for file in files {
                let result = try await ingestor.ingest(IngestRequest(path: file, tags: ["bench"]), on: connection)
                guard result.status == .ingested else {
                    throw MediaError(.databaseError, "\(file): \(result.status) \(result.error?.message ?? "")")
                }
            }
            return seconds(ContinuousClock.now - started)
        }
        let imageIngest = try await ingestAll(imageFiles)
        let videoIngest = try await ingestAll(videoFiles)

        // A large video both ways a drop arrives, each beside `cp` of the same file in the same
        // run: from another filesystem (tmpfs here), copied in, fsynced and verified, against
        // `cp` + `sync`; and from the library's own filesystem, linked in without a copy
        // (`--move`, as a drop folder on the library's drive is), against a plain `cp`. The
        // files are uncompressed video: their size is what was asked for. Peak memory before
        // and after shows that it does not grow with the file.
        let rssBefore = peakResidentMB()
        var bigFigures: [Figure] = []
        if bigVideoMB > 0 {
            let otherFilesystem = "/dev/shm/media-bench-\(getpid())"
            try FileManager.default.createDirectory(atPath: otherFilesystem, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: otherFilesystem) }
            func makeBig(_ path: String, hue: Int) throws -> Double {
                let frameBytes = 1920 * 1080 * 3 / 2
                let frames = max(30, bigVideoMB * 1_000_000 / frameBytes)
                try run([
                    "/usr/bin/ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25,hue=h=\(hue)",
                    "-frames:v", "\(frames)", "-c:v", "rawvideo", "-pix_fmt", "yuv420p", path,
                ])
                return Double(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0) / 1_000_000
            }
            print("making two \(bigVideoMB) MB videos …")
            let foreign = otherFilesystem + "/big-foreign.avi"
            let local = scratch + "/samples/big-local.avi"
            let size = try makeBig(foreign, hue: 0)
            _ = try makeBig(local, hue: 120)

            let copyBaseline = try time {
                try run(["/bin/cp", foreign, baselineOut + "/big-foreign.avi"])
                try run(["/bin/sync", baselineOut + "/big-foreign.avi"])
            }
            unlink(baselineOut + "/big-foreign.avi")
            let copyIngest = try await ingestAll([foreign])
            let rssAfter = peakResidentMB()

            let localBaseline = try time { try run(["/bin/cp", local, baselineOut + "/big-local.avi"]) }
            unlink(baselineOut + "/big-local.avi")
            // What content addressing cannot skip: one SHA-256 pass over the file.
            let hashBaseline = try time { try run(["/usr/bin/sha256sum", local]) }
            let started = ContinuousClock.now
            let moved = try await ingestor.ingest(IngestRequest(path: local, tags: ["bench"], moveSource: true), on: connection)
            guard moved.status == .ingested else { throw MediaError(.databaseError, "\(local): \(moved.status)") }
            moved.removeSourceName()
            let moveIngest = seconds(ContinuousClock.now - started)

            bigFigures = [
                Figure(
                    name: "\(Int(size)) MB video from another filesystem (copy, fsync, verify, poster)", value: copyIngest,
                    unit: "s", baseline: copyBaseline, baselineName: "cp + sync of the same file",
                    goal: "≤ 1.3× baseline", met: copyIngest <= 1.3 * copyBaseline),
                Figure(
                    name: "\(Int(size)) MB video on the library's filesystem (linked in, SHA-256, poster)", value: moveIngest,
                    unit: "s", baseline: localBaseline, baselineName: "cp of the same file",
                    goal: "≤ 0.5× baseline", met: moveIngest <= 0.5 * localBaseline),
                Figure(
                    name: "\(Int(size)) MB video on the library's filesystem, against sha256sum", value: moveIngest,
                    unit: "s", baseline: hashBaseline, baselineName: "sha256sum of the same file"),
                Figure(name: "peak RSS before the large videos", value: rssBefore, unit: "MB", baseline: nil, baselineName: nil),
                Figure(
                    name: "peak RSS after the large videos", value: rssAfter, unit: "MB", baseline: rssBefore,
                    baselineName: "peak RSS before them"),
            ]
        }
        try await connection.close()

        let figures =
            [
                Figure(
                    name: "image ingest", value: Double(images) / imageIngest, unit: "files/s",
                    baseline: Double(images) / imageBaseline, baselineName: "sha256sum + cp + vipsthumbnail",
                    goal: "≥ 2× baseline", met: imageBaseline >= 2 * imageIngest),
                Figure(
                    name: "video ingest", value: Double(videos) / videoIngest, unit: "files/s",
                    baseline: Double(videos) / videoBaseline, baselineName: "sha256sum + cp + ffmpeg poster",
                    goal: "≥ 2× baseline", met: videoBaseline >= 2 * videoIngest),
            ] + bigFigures
        try report(figures, to: output)
    }

    /// Prints the table and writes the figures as JSON.
    static func report(_ figures: [Figure], to output: String) throws {
        print("")
        print(
            "figure".padding(toLength: 50, withPad: " ", startingAt: 0) + "value".padding(toLength: 16, withPad: " ", startingAt: 0)
                + "baseline (same run)")
        for figure in figures {
            let value = "\(round2(figure.value)) \(figure.unit)"
            var line =
                figure.name.padding(toLength: 50, withPad: " ", startingAt: 0) + value.padding(toLength: 16, withPad: " ", startingAt: 0)
            if let baseline = figure.baseline, let name = figure.baselineName {
                // A zero baseline (a remux that saves nothing either way) has no ratio.
                let ratio = baseline == 0 ? "none (baseline 0)" : "\(round2(figure.value / baseline))"
                line += "\(round2(baseline)) \(figure.unit) (\(name)); ratio \(ratio)"
            }
            print(line)
        }
        let directory = (output as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(figures).write(to: URL(fileURLWithPath: output))
        print("\nwrote \(output)")
    }

    static func run(_ arguments: [String]) throws {
        let outcome = try ChildProcess.run(arguments, environment: ProcessInfo.processInfo.environment)
        guard outcome.status == 0 else {
            throw MediaError(.databaseError, "\(arguments.joined(separator: " ")) failed: \(outcome.output)")
        }
    }

    static func time(_ body: () throws -> Void) throws -> Double {
        let started = ContinuousClock.now
        try body()
        return seconds(ContinuousClock.now - started)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func round2(_ value: Double) -> String {
        let scaled = (value * 100).rounded() / 100
        return "\(scaled)"
    }

    static func peakResidentMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    static func cleanUp(_ scratch: String, logger: Logger) {
        _ = try? EmbeddedCluster(libraryRoot: scratch + "/library", logger: logger).stop()
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
