import Foundation
import Logging
import MediaCore
import PostgresNIO
import MediaTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `media-bench scale [--sizes 10000,100000,1000000] [--queries N] [--runs N] [--out FILE]`
///
/// One synthetic library (`SyntheticLibrary`) in a scratch root with its embedded PostgreSQL,
/// grown through the sizes; at each size:
/// - search in the database: N searches of 1–3 tags drawn from the library's own tag
///   popularity (so popular tags are asked for most), videos or images, with or without an
///   aspect and a minimum size, timed from the call to the last decoded row on one open
///   connection (the repository's `search`, both of its steps), with prepared statements as
///   `mediaq plan` uses them, and again with every statement planned afresh as a one-off
///   `mediaq search` runs it;
/// - at 100,000 (or the size nearest it): whole `mediaq search … --json` processes beside
///   `psql -Atc 'select 1'` over the same socket, and `mediaq plan` of a 50-segment script whose
///   segments are all covered;
/// - at the largest size: GC's plan to free 10 % of the library, and `mediad` from start to
///   READY=1.
enum ScaleBenchmark {
    static func run(_ arguments: [String]) async throws -> [IngestBenchmark.Figure] {
        var sizes = [10_000, 100_000, 1_000_000]
        var queryCount = 300
        var runs = 30
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--sizes": sizes = (iterator.next() ?? "").split(separator: ",").compactMap { Int($0) }.sorted()
            case "--queries": queryCount = Int(iterator.next() ?? "") ?? queryCount
            case "--runs": runs = Int(iterator.next() ?? "") ?? runs
            case "--out": _ = iterator.next()  // read by the caller
            default:
                print("usage: media-bench scale [--sizes 10000,100000,1000000] [--queries N] [--runs N] [--out FILE]")
                exit(2)
            }
        }
        var quiet = Logger(label: "bench")
        quiet.logLevel = .warning
        let logger = quiet
        let scratch = "/tmp/media-bench-scale-\(getpid())"
        // BENCH_ROOT=DIR grows (or reuses) the library there and keeps it: a 1M library takes
        // about 13 minutes to make.
        let given = ProcessInfo.processInfo.environment["BENCH_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
        let root = given ?? scratch + "/library"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        chmod(scratch, 0o755)
        // BENCH_KEEP=1 keeps the library (and its running cluster) for `mediaq search --explain`.
        let keep = ProcessInfo.processInfo.environment["BENCH_KEEP"] == "1" || given != nil
        defer {
            if keep {
                print("scale: kept the library at \(root)")
                if given != nil { try? FileManager.default.removeItem(atPath: scratch) }
            } else {
                _ = try? EmbeddedCluster(libraryRoot: root, logger: logger).stop()
                try? FileManager.default.removeItem(atPath: scratch)
            }
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let binaries = (executable as NSString).deletingLastPathComponent
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys
        where key.hasPrefix("MEDIAD_") || key.hasPrefix("MEDIAQ_") || key == "DATABASE_URL"
            || key == "MEDIA_CONFIG" || key == "LIBRARY_ROOT"
        {
            environment.removeValue(forKey: key)
        }

        let childEnvironment = environment
        let processRuns = runs
        let configuration = LibraryConfiguration(libraryRoot: root, databaseURL: nil)
        let (library, connection) = try await LibraryOpener(configuration: configuration, logger: logger).open()
        _ = library
        var figures: [IngestBenchmark.Figure] = []
        var searchP95: [Int: Double] = [:]
        do {
            let generator = SyntheticLibrary(connection: connection, logger: logger)
            // As `mediaq plan` searches: many searches on one connection, each shape prepared
            // once; and as a one-off `mediaq search` does, every statement planned afresh.
            let repository = SearchRepository(
                connection: connection, logger: logger, root: root, statements: PreparedStatements(connection: connection))
            let oneOff = SearchRepository(connection: connection, logger: logger, root: root)
            let middle = sizes.min { abs($0 - 100_000) < abs($1 - 100_000) } ?? 0
            for size in sizes {
                print("scale: growing the library to \(size) assets …")
                let started = Date()
                try await generator.grow(to: size)
                print("scale: \(size) assets in \(round2(Date().timeIntervalSince(started))) s")
                let label = sizeLabel(size)

                var random = SplitMix64(state: 8)
                let requests = (0..<queryCount).map { _ in randomRequest(using: &random) }
                for request in requests.prefix(20) { _ = try await repository.search(request) }  // warm the cache
                func timed(_ repository: SearchRepository) async throws -> [Double] {
                    var times: [Double] = []
                    for request in requests {
                        let begin = DispatchTime.now().uptimeNanoseconds
                        _ = try await repository.search(request)
                        times.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6)
                    }
                    return times
                }
                let times = try await timed(repository)
                let oneOffTimes = try await timed(oneOff)
                let p95 = DaemonBenchmark.percentile(times, 0.95)
                // The slowest few, to see which shapes bound p95 (docs/search.md explains them).
                for (time, request) in zip(times, requests).sorted(by: { $0.0 > $1.0 }).prefix(slowestShown) {
                    print("scale:   \(round2(time)) ms  \(describe(request))")
                }
                searchP95[size] = p95
                figures.append(
                    .init(
                        name: "search in the database, p50, \(label)", value: DaemonBenchmark.percentile(times, 0.5), unit: "ms",
                        baseline: nil, baselineName: nil))
                figures.append(
                    .init(
                        name: "search in the database, p95, \(label)", value: p95, unit: "ms", baseline: nil, baselineName: nil,
                        goal: size == middle ? "≤ 5 ms" : nil, met: size == middle ? p95 <= 5 : nil))
                figures.append(
                    .init(
                        name: "search, statements planned each time, p50, \(label)", value: DaemonBenchmark.percentile(oneOffTimes, 0.5),
                        unit: "ms", baseline: nil, baselineName: nil))
                figures.append(
                    .init(
                        name: "search, statements planned each time, p95, \(label)", value: DaemonBenchmark.percentile(oneOffTimes, 0.95),
                        unit: "ms", baseline: nil, baselineName: nil))

                if size == sizes.last {
                    figures.append(try await gcPlanFigure(connection: connection, root: root, logger: logger, label: label))
                }
                if size == middle {
                    figures += try await onOwnThread {
                        try processFigures(
                            root: root, binaries: binaries, environment: childEnvironment, runs: processRuns, label: label, scratch: scratch
                        )
                    }
                }
            }
            if let smallest = sizes.first, let largest = sizes.last, largest > smallest,
                let small = searchP95[smallest], let large = searchP95[largest]
            {
                figures.append(
                    .init(
                        name: "search p95 growth, \(sizeLabel(largest)) / \(sizeLabel(smallest))", value: large / small, unit: "×",
                        baseline: nil, baselineName: nil, goal: "≤ 4×", met: large / small <= 4))
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        if let largest = sizes.last {
            let label = sizeLabel(largest)
            figures.append(
                try await onOwnThread {
                    try readyFigure(root: root, binaries: binaries, environment: childEnvironment, scratch: scratch, label: label)
                })
        }
        return figures
    }

    /// How many of the slowest searches each size prints (BENCH_SLOWEST, default 5).
    static var slowestShown: Int { Int(ProcessInfo.processInfo.environment["BENCH_SLOWEST"] ?? "") ?? 5 }

    static func describe(_ request: SearchRequest) -> String {
        var words = ["\(request.kind.rawValue)s", "--tags", request.tags.terms.joined(separator: ",")]
        if let aspect = request.aspect { words += ["--aspect", String(round2(aspect))] }
        if request.minWidth > 0 { words += ["--min-width", String(request.minWidth)] }
        if let duration = request.minDurationMs { words += ["--min-duration", String(duration / 1000)] }
        return words.joined(separator: " ")
    }

    /// 1–3 tags from the library's popularity; half videos, half with an aspect; some with a
    /// minimum size or duration, as gather asks.
    static func randomRequest(using random: inout SplitMix64) -> SearchRequest {
        let tags = (0..<Int.random(in: 1...3, using: &random)).map { _ in
            SyntheticLibrary.tagName(rank: SyntheticLibrary.drawRank(using: &random))
        }
        let kind: MediaFormat.Kind = Bool.random(using: &random) ? .video : .image
        var request = SearchRequest(
            kind: kind, tags: QueryTags(tags), aspect: [nil, 9.0 / 16, 16.0 / 9, 1.0].randomElement(using: &random)!)
        if Int.random(in: 0..<4, using: &random) == 0 { request.minWidth = 1080 }
        if kind == .video && Bool.random(using: &random) { request.minDurationMs = 5_000 }
        return request
    }

    static func processFigures(
        root: String, binaries: String, environment: [String: String], runs: Int, label: String, scratch: String
    ) throws -> [IngestBenchmark.Figure] {
        let mediaq = binaries + "/mediaq"
        let socketDirectory = EmbeddedCluster(libraryRoot: root, logger: Logger(label: "bench")).directory
        func time(_ command: [String]) throws -> Double {
            let begin = DispatchTime.now().uptimeNanoseconds
            let outcome = try ChildProcess.run(command, environment: environment)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6
            guard outcome.status == 0 else {
                throw MediaError(.databaseError, "\(command.joined(separator: " ")) failed: \(outcome.output)")
            }
            return elapsed
        }
        print("scale: whole mediaq search processes beside psql, \(runs) runs each …")
        let searches = [
            ["videos", "--tags", "nature", "--aspect", "9:16"],
            ["images", "--tags", "city,night"],
            ["videos", "--tags", "beach,sunset", "--min-width", "1080", "--min-duration", "5", "--aspect", "9:16"],
        ]
        var mediaqTimes: [Double] = []
        var psqlTimes: [Double] = []
        for run in 0..<(runs + 3) {
            let search = searches[run % searches.count]
            let mediaqTime = try time([mediaq, "search"] + search + ["--json", "--library-root", root])
            let psqlTime = try time([
                "/usr/bin/psql", "-X", "-h", socketDirectory, "-p", "5432", "-U", EmbeddedCluster.superuser,
                "-d", EmbeddedCluster.databaseName, "-Atc", "select 1",
            ])
            if run >= 3 {  // the first runs warm the page cache
                mediaqTimes.append(mediaqTime)
                psqlTimes.append(psqlTime)
            }
        }
        let mediaqP95 = DaemonBenchmark.percentile(mediaqTimes, 0.95)
        let psqlP95 = DaemonBenchmark.percentile(psqlTimes, 0.95)

        print("scale: mediaq plan of 50 covered segments, \(runs / 3) runs …")
        let script = scratch + "/plan-script.json"
        let segments = (0..<50).map { index -> String in
            let tag = SyntheticLibrary.tagName(rank: 1 + index % 40)
            return #"{"id": "s\#(index)", "tags": ["\#(tag)"], "durationSeconds": 3, "media": ["video", "image"]}"#
        }
        try Data(#"{"aspect": "9:16", "segments": [\#(segments.joined(separator: ", "))]}"#.utf8)
            .write(to: URL(fileURLWithPath: script))
        // Each run also without marking the picks used, interleaved, so that the share of the
        // time that marking costs is measured in the same conditions.
        var planTimes: [Double] = []
        var lookTimes: [Double] = []
        for run in 0..<(max(3, runs / 3) + 1) {
            for marking in [true, false] {
                let begin = DispatchTime.now().uptimeNanoseconds
                let outcome = try ChildProcess.run(
                    [mediaq, "plan", script, "--json", "--library-root", root] + (marking ? [] : ["--no-mark-used"]),
                    environment: environment)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6
                guard outcome.status == 0,
                    outcome.output.contains(#""complete":true"#) || outcome.output.contains(#""complete" : true"#)
                else {
                    throw MediaError(.databaseError, "mediaq plan did not cover every segment: \(outcome.output.prefix(2000))")
                }
                if run > 0 {
                    if marking { planTimes.append(elapsed) } else { lookTimes.append(elapsed) }
                }
            }
        }
        let planP95 = DaemonBenchmark.percentile(planTimes, 0.95)
        return [
            .init(
                name: "mediaq search --json process, p50, \(label)", value: DaemonBenchmark.percentile(mediaqTimes, 0.5), unit: "ms",
                baseline: DaemonBenchmark.percentile(psqlTimes, 0.5), baselineName: "psql -Atc 'select 1', same socket, p50"),
            .init(
                name: "mediaq search --json process, p95, \(label)", value: mediaqP95, unit: "ms",
                baseline: psqlP95, baselineName: "psql -Atc 'select 1', same socket, p95",
                goal: "≤ 2× baseline", met: mediaqP95 <= 2 * psqlP95),
            .init(
                name: "mediaq plan, 50 covered segments, p50, \(label)", value: DaemonBenchmark.percentile(planTimes, 0.5), unit: "ms",
                baseline: nil, baselineName: nil),
            .init(
                name: "mediaq plan, 50 covered segments, p95, \(label)", value: planP95, unit: "ms",
                baseline: nil, baselineName: nil, goal: "≤ 250 ms", met: planP95 <= 250),
            .init(
                name: "mediaq plan --no-mark-used, 50 covered segments, p50, \(label)",
                value: DaemonBenchmark.percentile(lookTimes, 0.5), unit: "ms", baseline: nil, baselineName: nil),
            .init(
                name: "mediaq plan --no-mark-used, 50 covered segments, p95, \(label)",
                value: DaemonBenchmark.percentile(lookTimes, 0.95), unit: "ms", baseline: nil, baselineName: nil),
        ]
    }

    /// GC's plan (`GarbageCollector.plan`, as `mediaq gc --dry-run` and the daemon's collector
    /// make it) down to 90 % of the library's size, three times; the median.
    static func gcPlanFigure(
        connection: PostgresConnection, root: String, logger: Logger, label: String
    ) async throws -> IngestBenchmark.Figure {
        print("scale: GC plan to free 10 % at \(label) …")
        let collector = GarbageCollector(connection: connection, root: root, logger: logger)
        let used = try await MaintenanceRepository(connection: connection, logger: logger).usedBytes()
        var times: [Double] = []
        var planned = 0
        for _ in 0..<3 {
            let begin = DispatchTime.now().uptimeNanoseconds
            let plan = try await collector.plan(policy: GCPolicy(targetBytes: used / 10 * 9))
            times.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6)
            planned = plan.victims.count
            guard plan.reachesTarget else { throw MediaError(.databaseError, "the GC plan did not reach its target") }
        }
        print("scale:   plans \(planned) removals")
        let median = DaemonBenchmark.percentile(times, 0.5)
        return .init(
            name: "GC plan to free 10 %, \(label), median of 3", value: median, unit: "ms",
            baseline: nil, baselineName: nil, goal: "≤ 2000 ms", met: median <= 2000)
    }

    /// `mediad` from its start to READY=1, three times; the median.
    static func readyFigure(
        root: String, binaries: String, environment: [String: String], scratch: String, label: String
    ) throws -> IngestBenchmark.Figure {
        print("scale: mediad start to READY=1 at \(label) …")
        let drop = scratch + "/drop"
        try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: true)
        var times: [Double] = []
        for run in 0..<4 {
            let notify = try NotifyReceiver(path: scratch + "/notify-\(run).sock")
            var daemonEnvironment = environment
            daemonEnvironment["NOTIFY_SOCKET"] = notify.path
            let begin = DispatchTime.now().uptimeNanoseconds
            let daemon = try ChildProcess.spawn(
                [binaries + "/mediad", "--library-root", root, "--drop-dir", drop, "--log-level", "warning"],
                environment: daemonEnvironment)
            let ready = notify.receive(until: { $0.contains("READY=1") }, timeout: 60) != nil
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6
            daemon.signal(SIGTERM)
            let outcome = daemon.wait()
            notify.close()
            guard ready else { throw MediaError(.databaseError, "mediad did not become ready: \(outcome.output)") }
            if run > 0 { times.append(elapsed) }  // the first start also starts the stopped cluster's cache
        }
        let median = DaemonBenchmark.percentile(times, 0.5)
        return .init(
            name: "mediad start → READY=1, \(label), median of \(times.count)", value: median, unit: "ms",
            baseline: nil, baselineName: nil, goal: "≤ 1000 ms", met: median <= 1000)
    }

    static func sizeLabel(_ size: Int) -> String {
        size >= 1_000_000 && size % 1_000_000 == 0
            ? "\(size / 1_000_000)M" : size >= 1000 && size % 1000 == 0 ? "\(size / 1000)k" : "\(size)"
    }

    static func round2(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
