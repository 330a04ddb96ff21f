import Foundation

/// A temporary folder for one test's video fixtures, removed when the test lets go of it.
final class VideoFixtureFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("video-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    /// Runs the ffmpeg command-line tool (test tooling only; the product links the libraries) and
    /// returns the path of the file it wrote.
    @discardableResult
    func ffmpeg(_ arguments: [String], output name: String) throws -> String {
        let output = path(name)
        try FFmpegTool.run(arguments + [output])
        return output
    }

    /// A lavfi source of one solid colour, as ffmpeg input arguments.
    static func colour(_ name: String, width: Int, height: Int, rate: Int, seconds: Double) -> [String] {
        ["-f", "lavfi", "-i", "color=c=\(name):s=\(width)x\(height):r=\(rate):d=\(seconds)"]
    }

    /// Input arguments for solid colours one after the other, then `moreInputs`, and the filter that
    /// joins the colours into the mapped stream [v].
    static func colourSequence(
        _ segments: [(colour: String, seconds: Double)], width: Int, height: Int, rate: Int, extraFilter: String = "",
        moreInputs: [String] = []
    ) -> [String] {
        let inputs = segments.flatMap { colour($0.colour, width: width, height: height, rate: rate, seconds: $0.seconds) }
        let labels = segments.indices.map { "[\($0)]" }.joined()
        let filter = "\(labels)concat=n=\(segments.count):v=1:a=0\(extraFilter)[v]"
        return inputs + moreInputs + ["-filter_complex", filter, "-map", "[v]"]
    }
}

struct FFmpegToolError: Error, CustomStringConvertible {
    let description: String
}

enum FFmpegTool {
    static func run(_ arguments: [String]) throws {
        try FixtureTool.run("/usr/bin/ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + arguments)
    }
}

/// Runs a command-line tool that makes a test's files; its standard error becomes the error.
enum FixtureTool {
    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let name = (executable as NSString).lastPathComponent
            throw FFmpegToolError(description: "\(name) \(arguments.joined(separator: " ")) failed: \(errorText)")
        }
    }
}
