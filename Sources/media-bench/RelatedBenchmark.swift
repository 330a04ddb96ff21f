import Foundation
import Logging
import MediaCore
import MediaTestSupport
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// `media-bench related [--sizes 2000,100000] [--searches N] [--relations wordnet[,library]]
/// [--wordnet DIR] [--quick] [--out FILE]`
///
/// What the fallback through related tags (docs/search.md) gains and costs, on a synthetic
/// library tagged with `StockVocabulary`'s provider words and searched with `StockVocabulary`'s
/// queries in other words (`sea` where the library says `ocean`), relations from the real
/// WordNet files loaded into the bench's database. At each size:
///
/// - **Local hit rate**: every query asked for images and for videos, as `mediaq plan` asks
///   (`localLibrary` defaults: images limit 5, at least 3; videos limit 3, at least 1). Without
///   the fallback, a hit is at least that many results carrying every query tag exactly; with
///   it, at least that many results that are acceptable answers (`StockVocabulary.accepts`: each
///   query tag answered by one of the asset's tags per the committed list), and, as the search
///   itself counts, at least that many that match every query tag somehow.
/// - **Precision of the fallback's picks**: of the results (within the limit) that matched some
///   query tag only through a relation, the share that are acceptable answers; and of the
///   relation matches themselves (query tag → asset tag), the share whose tag answers its query
///   tag.
/// - **Search time**: N searches (default 300) on one connection with prepared statements, as
///   `mediaq plan` searches: half the queries in other words (most fall back), half their exact
///   twins in the library's own words (`StockVocabulary.twin`), interleaved, with the same kind,
///   aspect and minimum size; p50 and p95 of the searches that fell back against those of the
///   twins answered exactly. Goal at the size nearest 100,000: fallback p95 ≤ 2× exact p95.
///
/// `--relations library` also runs `mediaq tags learn` (the library's co-occurrences, on a branch
/// of its own when this was written) after each growth, so that its relations count too.
/// BENCH_RELATED_ROOT=DIR grows (or reuses) the library there and keeps it; BENCH_SLOWEST=N prints
/// the slowest fallback searches; BENCH_EXPLAIN=1 prints EXPLAIN (ANALYZE, BUFFERS) of the slowest.
enum RelatedBenchmark {
    /// How `mediaq plan` asks for each kind by default (`LocalLibrarySettings`).
    static let asked: [(kind: MediaFormat.Kind, limit: Int, minMatches: Int)] = [(.image, 5, 3), (.video, 3, 1)]

    static func run(_ arguments: [String]) async throws -> [IngestBenchmark.Figure] {
        var sizes = [2_000, 100_000]
        var searchCount = 300
        var sources = ["wordnet"]
        var wordNetDirectory = "/usr/share/wordnet"
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--sizes": sizes = (iterator.next() ?? "").split(separator: ",").compactMap { Int($0) }.sorted()
            case "--searches": searchCount = Int(iterator.next() ?? "") ?? searchCount
            case "--relations": sources = (iterator.next() ?? "").split(separator: ",").map(String.init)
            case "--wordnet": wordNetDirectory = iterator.next() ?? wordNetDirectory
            case "--quick":
                sizes = [2_000, 10_000]
                searchCount = 100
            case "--out": _ = iterator.next()  // read by the caller
            default:
                print(
                    "usage: media-bench related [--sizes 2000,100000] [--searches N] [--relations wordnet[,library]] "
                        + "[--wordnet DIR] [--quick] [--out FILE]")
                exit(2)
            }
        }
        guard !sizes.isEmpty, !sources.isEmpty, Set(sources).isSubset(of: ["wordnet", "library"]) else {
            print("related: --sizes needs a size and --relations one of wordnet, library")
            exit(2)
        }
        var quiet = Logger(label: "bench")
        quiet.logLevel = .warning
        let logger = quiet
        let scratch = "/tmp/media-bench-related-\(getpid())"
        let given = ProcessInfo.processInfo.environment["BENCH_RELATED_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
        let root = given ?? scratch + "/library"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        chmod(scratch, 0o755)
        defer {
            if given != nil {
                print("related: kept the library at \(root)")
            } else {
                _ = try? EmbeddedCluster(libraryRoot: root, logger: logger).stop()
            }
            try? FileManager.default.removeItem(atPath: scratch)
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let mediaq = (executable as NSString).deletingLastPathComponent + "/mediaq"
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys
        where key.hasPrefix("MEDIAD_") || key.hasPrefix("MEDIAQ_") || key == "DATABASE_URL" || key == "MEDIA_CONFIG"
            || key == "LIBRARY_ROOT"
        {
            environment.removeValue(forKey: key)
        }
        let childEnvironment = environment

        let configuration = LibraryConfiguration(libraryRoot: root, databaseURL: nil)
        let (library, connection) = try await LibraryOpener(configuration: configuration, logger: logger).open()
        _ = library
        var figures: [IngestBenchmark.Figure] = []
        do {
            if sources.contains("wordnet") {
                let directory = wordNetDirectory
                let version = try WordNet.version(directory: directory)
                let started = Date()
                let loaded = try await TagRelationRepository(connection: connection, logger: logger).loadWordNet(version: version) {
                    () async throws(MediaError) in try await WordNet.read(directory: directory)
                }
                print(
                    "related: WordNet \(loaded.changed ? "loaded" : "already there"): \(loaded.relations) relations "
                        + "in \(round1(Date().timeIntervalSince(started))) s")
            }
            // A kept library may hold relations of a source not asked for this time.
            try await connection.query("DELETE FROM tag_relation WHERE source <> ALL(\(sources + ["operator"])::text[])", logger: logger)
            let generator = SyntheticLibrary(connection: connection, logger: logger, tagging: .stock)
            let repository = SearchRepository(
                connection: connection, logger: logger, root: root, statements: PreparedStatements(connection: connection))
            let middle = sizes.min { abs($0 - 100_000) < abs($1 - 100_000) } ?? 0
            for size in sizes {
                print("related: growing the library to \(size) assets …")
                let started = Date()
                try await generator.grow(to: size)
                print("related: \(size) assets in \(round1(Date().timeIntervalSince(started))) s")
                if sources.contains("library") {
                    let outcome = try await onOwnThread {
                        try ChildProcess.run([mediaq, "tags", "learn", "--library-root", root], environment: childEnvironment)
                    }
                    guard outcome.status == 0 else {
                        throw MediaError(.databaseError, "mediaq tags learn failed (is it on this branch?): \(outcome.output)")
                    }
                }
                let label = ScaleBenchmark.sizeLabel(size) + " (" + sources.joined(separator: "+") + ")"
                figures += try await quality(repository: repository, label: label)
                figures += try await timing(repository: repository, label: label, count: searchCount, goal: size == middle)
            }
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        return figures
    }

    /// Hit rate and precision over every query, for images and for videos.
    static func quality(repository: SearchRepository, label: String) async throws -> [IngestBenchmark.Figure] {
        var (asks, exactHits, acceptableHits, anyHits) = (0, 0, 0, 0)
        var (picks, goodPicks, matches, goodMatches) = (0, 0, 0, 0)
        var wrong: [String] = []
        for query in StockVocabulary.queries {
            for (kind, limit, minMatches) in asked {
                let request = SearchRequest(kind: kind, tags: QueryTags(query.tags), limit: limit)
                let outcome = try await repository.search(request, fallingBackBelow: minMatches)
                asks += 1
                if outcome.exactMatches >= minMatches { exactHits += 1 }
                if outcome.results.count(where: { StockVocabulary.accepts(query, tags: $0.tags) }) >= minMatches { acceptableHits += 1 }
                if outcome.results.count(where: { $0.scoreParts.tagAnd > 0 }) >= minMatches { anyHits += 1 }
                var bad: [String: Int] = [:]
                var good = 0
                for result in outcome.results where result.scoreParts.matchedThroughRelations > 0 {
                    picks += 1
                    if StockVocabulary.accepts(query, tags: result.tags) {
                        goodPicks += 1
                        good += 1
                    }
                    for via in result.matchedVia where via.relation != "exact" {
                        matches += 1
                        guard let index = query.tags.firstIndex(of: via.queryTag) else { continue }
                        if StockVocabulary.accepts(query, tag: index, tags: [via.tag]) {
                            goodMatches += 1
                        } else {
                            bad["\(via.queryTag)→\(via.tag) \(via.relation)", default: 0] += 1
                        }
                    }
                }
                let relationPicks = outcome.results.count { $0.scoreParts.matchedThroughRelations > 0 }
                if good < relationPicks || outcome.results.count(where: { $0.scoreParts.tagAnd > 0 }) < minMatches {
                    let mistakes = bad.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
                    wrong.append(
                        "\(query.tags.joined(separator: ",")) \(kind.rawValue)s: \(outcome.exactMatches) exact, "
                            + "\(good)/\(relationPicks) relation picks acceptable" + (mistakes.isEmpty ? "" : "; \(mistakes)"))
                }
            }
        }
        print("related: \(label): the asks that fell short or picked something not acceptable:")
        for line in wrong { print("related:   \(line)") }
        func share(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : 100 * Double(part) / Double(whole) }
        let exactRate = share(exactHits, asks)
        let queries = "\(StockVocabulary.queries.count) queries × images (≥ 3 of 5) and videos (≥ 1 of 3)"
        return [
            .init(
                name: "related: local hit rate, exact tags only, \(label), \(queries)", value: exactRate, unit: "%",
                baseline: nil, baselineName: nil),
            .init(
                name: "related: local hit rate with the fallback, acceptable results, \(label)", value: share(acceptableHits, asks),
                unit: "%", baseline: exactRate, baselineName: "exact tags only, same queries"),
            .init(
                name: "related: local hit rate with the fallback, any result matching every tag, \(label)",
                value: share(anyHits, asks), unit: "%", baseline: exactRate, baselineName: "exact tags only, same queries"),
            .init(
                name: "related: precision of the fallback's picks (\(picks) picks through a relation), \(label)",
                value: share(goodPicks, picks), unit: "%", baseline: nil, baselineName: nil),
            .init(
                name: "related: precision of the relation matches (\(matches) query tag → asset tag), \(label)",
                value: share(goodMatches, matches), unit: "%", baseline: nil, baselineName: nil),
        ]
    }

    /// Searches in other words beside their exact twins, interleaved; p50 and p95 of each.
    static func timing(repository: SearchRepository, label: String, count: Int, goal: Bool) async throws -> [IngestBenchmark.Figure] {
        var random = SplitMix64(state: 17)
        var pairs: [(other: SearchRequest, twin: SearchRequest, minMatches: Int)] = []
        let queries = StockVocabulary.queries
        for index in 0..<max(1, count / 2) {
            let query = queries[index % queries.count]
            let (kind, limit, minMatches) = asked[(index / queries.count + index) % 2]
            let aspect = [nil, 9.0 / 16, 16.0 / 9, 1.0].randomElement(using: &random)!
            var other = SearchRequest(kind: kind, tags: QueryTags(query.tags), aspect: aspect, limit: limit)
            if Int.random(in: 0..<4, using: &random) == 0 { other.minWidth = 1080 }
            var twin = other
            twin.tags = QueryTags(StockVocabulary.twin(of: query))
            pairs.append((other, twin, minMatches))
        }
        for pair in pairs.prefix(20) {  // warm the cache and prepare the statements
            _ = try await repository.search(pair.other, fallingBackBelow: pair.minMatches)
            _ = try await repository.search(pair.twin, fallingBackBelow: pair.minMatches)
        }
        var fallback: [(Double, SearchRequest)] = []
        var exact: [Double] = []
        var (otherExact, twinFellBack) = (0, 0)
        func timed(_ request: SearchRequest, _ minMatches: Int) async throws -> (Double, SearchRepository.Outcome) {
            let begin = DispatchTime.now().uptimeNanoseconds
            let outcome = try await repository.search(request, fallingBackBelow: minMatches)
            return (Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6, outcome)
        }
        for (index, pair) in pairs.enumerated() {
            // Alternating which goes first, so neither always finds the other's pages cached.
            for request in index % 2 == 0 ? [pair.other, pair.twin] : [pair.twin, pair.other] {
                let (time, outcome) = try await timed(request, pair.minMatches)
                if request == pair.other {
                    if outcome.fellBack { fallback.append((time, request)) } else { otherExact += 1 }
                } else {
                    if outcome.fellBack { twinFellBack += 1 } else { exact.append(time) }
                }
            }
        }
        // The fallback's own query, without the exact search before it, for the slowest shapes.
        var relatedOnly: [Double] = []
        for (_, request) in fallback {
            var related = request
            related.matching = .related
            let begin = DispatchTime.now().uptimeNanoseconds
            _ = try await repository.search(related)
            relatedOnly.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6)
        }
        print(
            "related: \(label): \(fallback.count) searches fell back, \(exact.count) twins answered exactly "
                + "(\(otherExact) in other words needed no fallback, \(twinFellBack) twins fell back; neither counted)")
        for (time, request) in fallback.sorted(by: { $0.0 > $1.0 }).prefix(ScaleBenchmark.slowestShown) {
            print("related:   \(ScaleBenchmark.round2(time)) ms  \(ScaleBenchmark.describe(request))")
        }
        if ProcessInfo.processInfo.environment["BENCH_EXPLAIN"] == "1", let (_, slowest) = fallback.max(by: { $0.0 < $1.0 }) {
            var related = slowest
            related.matching = .related
            print("related: EXPLAIN of the slowest fallback search, \(ScaleBenchmark.describe(slowest)):")
            for line in try await repository.explain(related) { print(line) }
        }
        guard !fallback.isEmpty, !exact.isEmpty else { return [] }
        let fallbackP95 = DaemonBenchmark.percentile(fallback.map(\.0), 0.95)
        let exactP95 = DaemonBenchmark.percentile(exact, 0.95)
        return [
            .init(
                name: "related: search falling back, p50, \(label)", value: DaemonBenchmark.percentile(fallback.map(\.0), 0.5),
                unit: "ms", baseline: DaemonBenchmark.percentile(exact, 0.5), baselineName: "exact twins, same run, p50"),
            .init(
                name: "related: search falling back, p95, \(label)", value: fallbackP95,
                unit: "ms", baseline: exactP95, baselineName: "exact twins in the library's words, same run, p95",
                goal: goal ? "≤ 2× baseline" : nil, met: goal ? fallbackP95 <= 2 * exactP95 : nil),
            .init(
                name: "related: the fallback's query alone, p95, \(label)", value: DaemonBenchmark.percentile(relatedOnly, 0.95),
                unit: "ms", baseline: nil, baselineName: nil),
        ]
    }

    static func round1(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
