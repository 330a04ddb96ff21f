import Foundation
import MediaCore

#if canImport(Glibc)
import Glibc
#endif

/// `media-bench report [--out bench/results.json] RESULTS.json …`
///
/// Gathers the figures of the other subcommands' JSON files into one document with the machine
/// they ran on, adds the issue's goal to the figures that have one (ingest and daemon figures are
/// named by their benchmarks, which predate the goals), and prints the table.
enum BenchReport {
    struct Document: Codable {
        let machine: String
        let date: String
        let figures: [IngestBenchmark.Figure]
    }

    static func run(_ arguments: [String]) throws {
        var output = "bench/results.json"
        var inputs: [String] = []
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            if argument == "--out" { output = iterator.next() ?? output } else { inputs.append(argument) }
        }
        var figures: [IngestBenchmark.Figure] = []
        for input in inputs {
            guard let data = FileManager.default.contents(atPath: input) else {
                print("report: \(input) is missing (that benchmark did not run); its figures are left out")
                continue
            }
            figures += try JSONDecoder().decode([IngestBenchmark.Figure].self, from: data).map(withGoal)
        }
        let document = Document(
            machine: machine(), date: ISO8601DateFormatter().string(from: Date()), figures: figures)
        print("")
        print("machine: \(document.machine)")
        print(row(["figure", "value", "baseline (same run)", "ratio", "goal", "met"]))
        print(row(["---", "---", "---", "---", "---", "---"]))
        for figure in figures {
            let baseline = figure.baseline.map { "\(IngestBenchmark.round2($0)) \(figure.unit) (\(figure.baselineName ?? ""))" } ?? "—"
            let ratio = figure.baseline.map { IngestBenchmark.round2(figure.value / $0) + "×" } ?? "—"
            print(
                row([
                    figure.name, "\(IngestBenchmark.round2(figure.value)) \(figure.unit)", baseline, ratio, figure.goal ?? "—",
                    figure.met.map { $0 ? "yes" : "no" } ?? "—",
                ]))
        }
        let directory = (output as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(document).write(to: URL(fileURLWithPath: output))
        print("\nwrote \(output)")
    }

    static func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }

    /// The goals for the ingest and daemon figures.
    static func withGoal(_ figure: IngestBenchmark.Figure) -> IngestBenchmark.Figure {
        var figure = figure
        guard figure.goal == nil else { return figure }
        let ratio = figure.baseline.map { figure.value / $0 }
        switch figure.name {
        case "image ingest", "video ingest":
            figure.goal = "≥ 2× baseline"
            figure.met = ratio.map { $0 >= 2 }
        case let name where name.hasPrefix("mediad burst of"):
            figure.goal = "≥ 0.8× baseline"
            figure.met = ratio.map { $0 >= 0.8 }
        case "drop close → row visible, p95":
            figure.goal = "≤ 250 ms"
            figure.met = figure.value <= 250
        case "mediad resident memory after the burst":
            figure.goal = "≤ 150 MB"
            figure.met = figure.value <= 150
        default:
            break
        }
        return figure
    }

    /// CPU model, cores, memory and OS, as /proc and /etc tell them.
    static func machine() -> String {
        func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        let cpu =
            read("/proc/cpuinfo").split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown CPU"
        let memoryKB =
            read("/proc/meminfo").split(separator: "\n").first { $0.hasPrefix("MemTotal") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } } ?? 0
        let os =
            read("/etc/os-release").split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
        let load = read("/proc/loadavg").split(separator: " ").prefix(3).joined(separator: " ")
        return
            "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Int((memoryKB / 1_048_576).rounded())) GiB, \(os); load average at the end: \(load)"
    }
}
