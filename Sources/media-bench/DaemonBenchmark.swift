import Crypto
import Foundation
import Logging
import MediaCodecs
import MediaCore
import PostgresNIO
import MediaTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `media-bench daemon [--burst N] [--latency N] [--workers N] [--out FILE]`
///
/// `mediad` against the ingest function it calls, in the same run on the same kind of files:
/// - the ingest function's own throughput: N distinct pictures (each with its sidecar's tags)
///   ingested in process by as many concurrent tasks as the daemon has workers;
/// - a burst: the same number of drops (sidecar first, then the picture renamed in) put into the
///   drop folder of a running `mediad` at once, timed to the last receipt;
/// - the daemon's resident memory after the burst (and its decoder workers');
/// - close-to-row latency: single drops one after another, from the rename to the asset row being
///   visible in the database, beside the ingest function's own time for such a file.
enum DaemonBenchmark {
    static func run(_ arguments: [String]) async throws -> [IngestBenchmark.Figure] {
        var burstSize = 10_000
        var latencySamples = 100
        var workerCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--burst": burstSize = Int(iterator.next() ?? "") ?? burstSize
            case "--latency": latencySamples = Int(iterator.next() ?? "") ?? latencySamples
            case "--workers": workerCount = Int(iterator.next() ?? "") ?? workerCount
            case "--out": _ = iterator.next()  // read by the caller
            default:
                print("usage: media-bench daemon [--burst N] [--latency N] [--workers N] [--out FILE]")
                exit(2)
            }
        }
        var quiet = Logger(label: "bench")
        quiet.logLevel = .warning
        let logger = quiet
        let workers = workerCount
        let burst = burstSize
        let scratch = "/tmp/media-bench-daemon-\(getpid())"
        try FileManager.default.createDirectory(
            atPath: scratch + "/staging", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        chmod(scratch, 0o755)
        defer {
            _ = try? EmbeddedCluster(libraryRoot: scratch + "/function-library", logger: logger).stop()
            _ = try? EmbeddedCluster(libraryRoot: scratch + "/daemon-library", logger: logger).stop()
            try? FileManager.default.removeItem(atPath: scratch)
        }

        print("making \(burst) distinct pictures …")
        let base = try basePicture(scratch)
        let functionFiles = scratch + "/function-files"
        try FileManager.default.createDirectory(atPath: functionFiles, withIntermediateDirectories: true)
        for index in 0..<burst {
            try Data(DistinctPNG.make(from: base, text: "function \(index)")).write(
                to: URL(fileURLWithPath: "\(functionFiles)/p\(index).png"))
        }

        // 1. The ingest function, in process, `workers` at a time.
        let functionRoot = scratch + "/function-library"
        let (_, functionConnection) = try await LibraryOpener(
            configuration: LibraryConfiguration(libraryRoot: functionRoot, databaseURL: nil), logger: logger
        ).open()
        try await functionConnection.close()
        let functionURL = EmbeddedCluster(libraryRoot: functionRoot, logger: logger).url
        let ingestor = Ingestor(root: functionRoot, decoder: NativeMediaDecoder(), logger: logger)
        print("ingest function: \(burst) files, \(workers) at a time …")
        let functionStarted = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    let connection = try await DatabaseConnector(url: functionURL, logger: logger).connect()
                    do {
                        for index in stride(from: worker, to: burst, by: workers) {
                            let request = IngestRequest(
                                path: "\(functionFiles)/p\(index).png", tags: ["bench", "burst"], provider: "pexels",
                                moveSource: true)
                            let result = try await ingestor.ingest(request, on: connection)
                            guard result.status == .ingested else {
                                throw MediaError(.databaseError, "p\(index).png: \(result.error?.message ?? "\(result.status)")")
                            }
                        }
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                    try await connection.close()
                }
            }
            try await group.waitForAll()
        }
        let functionSeconds = IngestBenchmark.seconds(ContinuousClock.now - functionStarted)

        // The ingest function's time for one file of the latency run.
        var singleTimes: [Double] = []
        do {
            let connection = try await DatabaseConnector(url: functionURL, logger: logger).connect()
            for index in 0..<min(latencySamples, 50) {
                let path = "\(functionFiles)/single-\(index).png"
                try Data(DistinctPNG.make(from: base, text: "single \(index)")).write(to: URL(fileURLWithPath: path))
                let started = ContinuousClock.now
                _ = try await ingestor.ingest(IngestRequest(path: path, tags: ["bench"], moveSource: true), on: connection)
                singleTimes.append(IngestBenchmark.seconds(ContinuousClock.now - started) * 1000)
            }
            try await connection.close()
        }

        // 2. mediad: a burst of the same size.
        let daemonRoot = scratch + "/daemon-library"
        let drop = scratch + "/drop"
        let staging = scratch + "/staging"
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        let mediad = ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        let daemonPath = (mediad as NSString).deletingLastPathComponent + "/mediad"
        let notify = try NotifyReceiver(path: scratch + "/notify.sock")
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        for key in environment.keys where key.hasPrefix("MEDIAD_") || key == "DATABASE_URL" || key == "MEDIA_CONFIG" {
            environment.removeValue(forKey: key)
        }
        let daemon = try ChildProcess.spawn(
            [daemonPath, "--library-root", daemonRoot, "--drop-dir", drop, "--workers", "\(workers)", "--log-level", "warning"],
            environment: environment)
        defer {
            daemon.signal(SIGKILL)
            _ = daemon.wait()
        }
        guard notify.receive(until: { $0.contains("READY=1") }, timeout: 120) != nil else {
            daemon.signal(SIGKILL)
            throw MediaError(.databaseError, "mediad did not become ready: \(daemon.wait().output)")
        }
        print("mediad: a burst of \(burst) drops …")
        for index in 0..<burst {
            let name = "d\(index).png"
            try Data(DistinctPNG.make(from: base, text: "daemon \(index)")).write(to: URL(fileURLWithPath: "\(staging)/\(name)"))
            try Data(#"{"tags": ["bench", "burst"], "provider": "pexels"}"#.utf8)
                .write(to: URL(fileURLWithPath: "\(staging)/\(name).json"))
        }
        let burstStarted = ContinuousClock.now
        for index in 0..<burst {
            let name = "d\(index).png"
            rename("\(staging)/\(name).json", "\(drop)/\(name).json")
            rename("\(staging)/\(name)", "\(drop)/\(name)")
        }
        let receipts = drop + "/.receipts"
        // Resident memory as the burst goes: once the warm-up is over (its first few hundred
        // drops grow the allocator's arenas by about 5 MB), and at the end. A burst under a
        // few thousand drops measures mostly the warm-up.
        let warmedUp = min(burst / 2, max(burst / 10, 1000))
        var early: (drops: Int, megabytes: Double)?
        while true {
            let done = (try? FileManager.default.contentsOfDirectory(atPath: receipts).count) ?? 0
            if early == nil && done >= warmedUp { early = (done, residentMB(pid: daemon.pid).current) }
            if done >= burst { break }
            try await Task.sleep(for: .milliseconds(100))
            if IngestBenchmark.seconds(ContinuousClock.now - burstStarted) > 3600 {
                throw MediaError(.databaseError, "burst took over an hour")
            }
        }
        let burstSeconds = IngestBenchmark.seconds(ContinuousClock.now - burstStarted)
        let rss = residentMB(pid: daemon.pid)
        let growth = early.map { ($0.megabytes, (rss.current - $0.megabytes) * 1000 / Double(max(1, burst - $0.drops))) }
        let workerRSS = ProcessTable.children(of: daemon.pid).map { residentMB(pid: $0).current }.reduce(0, +)

        // 3. Close-to-row latency, one drop at a time.
        print("mediad: \(latencySamples) single drops …")
        let url = EmbeddedCluster(libraryRoot: daemonRoot, logger: logger).url
        let watcher = try await DatabaseConnector(url: url, logger: logger).connect()
        var latencies: [Double] = []
        for index in 0..<latencySamples {
            let name = "single-\(index).png"
            let bytes = DistinctPNG.make(from: base, text: "latency \(index)")
            let sha = SHA256.hash(data: bytes).map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
            try Data(#"{"tags": ["bench"]}"#.utf8).write(to: URL(fileURLWithPath: "\(drop)/\(name).json"))
            try Data(bytes).write(to: URL(fileURLWithPath: "\(staging)/\(name)"))
            let started = ContinuousClock.now
            rename("\(staging)/\(name)", "\(drop)/\(name)")
            while true {
                let rows = try await watcher.query("SELECT count(*)::int FROM asset WHERE sha256 = \(sha)", logger: logger)
                var found = 0
                for try await count in rows.decode(Int.self) { found = count }
                if found > 0 { break }
                try await Task.sleep(for: .milliseconds(1))
                if IngestBenchmark.seconds(ContinuousClock.now - started) > 60 {
                    throw MediaError(.databaseError, "\(name) never showed up")
                }
            }
            latencies.append(IngestBenchmark.seconds(ContinuousClock.now - started) * 1000)
        }
        try await watcher.close()
        daemon.signal(SIGTERM)

        let functionRate = Double(burst) / functionSeconds
        let daemonRate = Double(burst) / burstSeconds
        return [
            .init(
                name: "mediad burst of \(burst) drops", value: daemonRate, unit: "files/s",
                baseline: functionRate, baselineName: "ingest function, \(workers) at a time"),
            .init(
                name: "drop close → row visible, p50", value: percentile(latencies, 0.5), unit: "ms",
                baseline: percentile(singleTimes, 0.5), baselineName: "ingest function, one file, p50"),
            .init(
                name: "drop close → row visible, p95", value: percentile(latencies, 0.95), unit: "ms",
                baseline: percentile(singleTimes, 0.95), baselineName: "ingest function, one file, p95"),
            .init(name: "mediad resident memory after the burst", value: rss.current, unit: "MB", baseline: nil, baselineName: nil),
            .init(
                name: "mediad resident memory after \(warmedUp) drops", value: growth?.0 ?? 0, unit: "MB", baseline: nil,
                baselineName: nil),
            .init(
                name: "mediad memory growth from drop \(warmedUp) to the end of the burst", value: growth?.1 ?? 0, unit: "KB/drop",
                baseline: nil, baselineName: nil, goal: "not growing (< 0.25 KB/drop)", met: (growth?.1 ?? 0) < 0.25),
            .init(name: "mediad peak resident memory", value: rss.peak, unit: "MB", baseline: nil, baselineName: nil),
            .init(name: "decoder workers' resident memory after the burst", value: workerRSS, unit: "MB", baseline: nil, baselineName: nil),
        ]
    }

    static func basePicture(_ scratch: String) throws -> [UInt8] {
        let path = scratch + "/base.png"
        try IngestBenchmark.run(["/usr/bin/convert", "-size", "640x360", "plasma:", "-seed", "7", path])
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }

    /// VmRSS and VmHWM of a process, in MB.
    static func residentMB(pid: Int32) -> (current: Double, peak: Double) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            let kilobytes = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? 0
            return kilobytes / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}
