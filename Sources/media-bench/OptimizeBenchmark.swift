import Foundation
import MediaCodecs
import MediaCore

#if canImport(Glibc)
import Glibc
#endif

/// `media-bench optimize [--photos N] [--screens N] [--videos N] [--out FILE]`
///
/// Issue 20's benchmark: the original optimiser against the command-line tools on the same
/// corpus, in the same run. The corpus is made here: camera-like baseline JPEG photos (quality
/// 92, standard Huffman tables), PNG screenshots saved at zlib level 1, and H.264/AAC MP4s
/// with their index at the end, as ffmpeg writes them by default. Reported per kind: the share
/// of bytes saved and seconds per GB of input, ours against `jpegtran -copy all -optimize
/// -progressive`, `optipng -o2` and `ffmpeg -c copy -movflags +faststart`.
enum OptimizeBenchmark {
    struct Kind {
        var name: String
        var format: MediaFormat
        var files: [String]
        var tool: String
        var toolCommand: (_ input: String, _ output: String) -> [String]
    }

    static func run(_ arguments: [String]) async throws -> [IngestBenchmark.Figure] {
        var photos = 12
        var screens = 12
        var videos = 4
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--photos": photos = Int(iterator.next() ?? "") ?? photos
            case "--screens": screens = Int(iterator.next() ?? "") ?? screens
            case "--videos": videos = Int(iterator.next() ?? "") ?? videos
            case "--out": _ = iterator.next()
            default:
                print("usage: media-bench optimize [--photos N] [--screens N] [--videos N] [--out FILE]")
                exit(2)
            }
        }
        try NativeLibraries.startVips()
        let scratch = "/tmp/media-bench-optimize-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch + "/corpus", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        print("making \(photos) photos, \(screens) screenshots and \(videos) videos …")
        let photoFiles = try (0..<photos).map { index in
            let path = "\(scratch)/corpus/photo-\(index).jpg"
            try IngestBenchmark.run([
                "/usr/bin/convert", "-seed", "\(index + 1)", "-size", "3000x2000", "plasma:fractal", "-blur", "0x0.6",
                "-quality", "92", "-define", "jpeg:optimize-coding=false", "-interlace", "none", path,
            ])
            return path
        }
        let screenFiles = try (0..<screens).map { index in
            let path = "\(scratch)/corpus/screen-\(index).png"
            try IngestBenchmark.run([
                "/usr/bin/convert", "-size", "1920x1080", "xc:#f4f4f4", "-fill", "#2d5fa8", "-draw", "rectangle 0,0 1919,64",
                "-fill", "#ffffff", "-draw", "rectangle \(80 + index * 10),120 1100,900", "-fill", "#222222",
                // Rows of thin lines stand for text: the benchmark machines may have no fonts.
                "-draw", "line 100,160 \(900 - index * 20),160", "-draw", "line 100,200 1000,200", "-draw", "line 100,240 700,240",
                "-fill", "#c0392b", "-draw", "circle 1500,500 1500,\(600 + index * 5)",
                "-define", "png:compression-level=1", "-define", "png:compression-filter=0", path,
            ])
            return path
        }
        let videoFiles = try (0..<videos).map { index in
            let path = "\(scratch)/corpus/video-\(index).mp4"
            try IngestBenchmark.run([
                "/usr/bin/ffmpeg", "-v", "error", "-y", "-f", "lavfi",
                "-i", "testsrc2=size=1280x720:rate=30:duration=10,hue=h=\(index * 30)",
                "-f", "lavfi", "-i", "sine=frequency=\(300 + index * 20):duration=10",
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path,
            ])
            return path
        }

        let kinds = [
            Kind(
                name: "JPEG", format: .jpeg, files: photoFiles, tool: "jpegtran -copy all -optimize -progressive",
                toolCommand: { ["/usr/bin/jpegtran", "-copy", "all", "-optimize", "-progressive", "-outfile", $1, $0] }),
            Kind(
                name: "PNG", format: .png, files: screenFiles, tool: "optipng -o2",
                toolCommand: { ["/usr/bin/optipng", "-quiet", "-o2", "-out", $1, $0] }),
            Kind(
                name: "MP4", format: .mp4, files: videoFiles, tool: "ffmpeg -c copy -movflags +faststart",
                toolCommand: {
                    ["/usr/bin/ffmpeg", "-v", "error", "-y", "-i", $0, "-map", "0", "-c", "copy", "-movflags", "+faststart", $1]
                }),
        ]
        let optimizer = NativeOriginalOptimizer()
        var figures: [IngestBenchmark.Figure] = []
        for kind in kinds {
            let inputBytes = kind.files.reduce(Int64(0)) { $0 + (FileIO.size(of: $1) ?? 0) }
            let ours = scratch + "/ours-" + kind.name
            let theirs = scratch + "/tool-" + kind.name
            try FileManager.default.createDirectory(atPath: ours, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: theirs, withIntermediateDirectories: true)
            var ourBytes: Int64 = 0
            var indexMoved = 0
            let ourSeconds = try IngestBenchmark.time {
                for (index, file) in kind.files.enumerated() {
                    let output = "\(ours)/\(index).\(kind.format.canonicalExtension)"
                    let result = try optimizer.optimizeNow(path: file, format: kind.format, to: output, request: .lossless)
                    ourBytes += result.outputBytes
                    if result.movedIndexFirst { indexMoved += 1 }
                }
            }
            var toolBytes: Int64 = 0
            let toolSeconds = try IngestBenchmark.time {
                for (index, file) in kind.files.enumerated() {
                    let output = "\(theirs)/\(index).\(kind.format.canonicalExtension)"
                    try IngestBenchmark.run(kind.toolCommand(file, output))
                    toolBytes += FileIO.size(of: output) ?? 0
                }
            }
            let gigabytes = Double(inputBytes) / 1e9
            func saved(_ bytes: Int64) -> Double { 100 * Double(inputBytes - bytes) / Double(inputBytes) }
            figures.append(
                IngestBenchmark.Figure(
                    name: "optimize \(kind.name): bytes saved (\(kind.files.count) files, \(megabytes(inputBytes)) MB)",
                    value: saved(ourBytes), unit: "%", baseline: saved(toolBytes), baselineName: kind.tool))
            figures.append(
                IngestBenchmark.Figure(
                    name: "optimize \(kind.name): time per GB of input", value: ourSeconds / gigabytes, unit: "s/GB",
                    baseline: toolSeconds / gigabytes, baselineName: kind.tool))
            if kind.format == .mp4 {
                // A remux saves next to nothing; its gain is the index a player reads first.
                figures.append(
                    IngestBenchmark.Figure(
                        name: "optimize MP4: files given their index first", value: Double(indexMoved), unit: "files"))
            }
        }
        return figures
    }

    private static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f", Double(bytes) / 1e6)
    }
}
