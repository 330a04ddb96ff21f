import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find videos or images by tags, best first.",
        discussion: """
            Ranks in PostgreSQL: score = tagAnd + 0.5·tagOr + recencyBoost·recency + aspectFit \
            (docs/search.md). Assets that match none of the tags are not listed. A query tag \
            also matches its simple English singular or plural (car, cars).

            The recency boost comes from --recency-boost, else from localLibrary.preferRecencyBoost \
            in --stock-config (default: ./config/stock-assets.json when it exists), else 0.1.

            With --json: {"ok", "kind", "tags", "recencyBoost", "results": [{"id", "kind", \
            "sha256", "path", "absolutePath", "thumbPath", "absoluteThumbPath", "width", \
            "height", "durationMs", "tags", "provider", "sourceUrl", "lastUsedAt", "createdAt", \
            "score", "scoreParts": {"tagAnd", "tagOr", "recency", "recencyBoost", "aspectFit", \
            "matchedTags", "queryTags", "daysSinceLastUse"}}]}; paths relative to LIBRARY_ROOT \
            and absolute. Otherwise a table.

            Exit codes: 0 (also when nothing matches); 2 usage; 75 database or library root \
            unavailable (within 5 s).
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("videos or images.", valueName: "videos|images"))
    var kind: KindArgument

    @Option(help: ArgumentHelp("Tags, comma-separated; may repeat.", valueName: "tags"))
    var tags: [String] = []

    @Option(help: ArgumentHelp("Smallest displayed width, in pixels.", valueName: "px"))
    var minWidth: Int = 0

    @Option(help: ArgumentHelp("Smallest displayed height, in pixels.", valueName: "px"))
    var minHeight: Int = 0

    @Option(help: ArgumentHelp("Videos only: shortest duration, in seconds.", valueName: "seconds"))
    var minDuration: Double?

    @Option(help: ArgumentHelp("Desired aspect, e.g. 9:16 (ranks; does not filter).", valueName: "w:h"))
    var aspect: String?

    @Option(help: ArgumentHelp("Only assets with a source from this provider.", valueName: "name"))
    var provider: String?

    @Option(help: ArgumentHelp("How many results (1 to 1000).", valueName: "n"))
    var limit: Int = SearchRequest.defaultLimit

    @Option(help: ArgumentHelp("Weight of the recency term, 0 to 1.", valueName: "x"))
    var recencyBoost: Double?

    @Option(
        help: ArgumentHelp(
            "The pipeline's stock-assets.json, for localLibrary.preferRecencyBoost.", valueName: "file"))
    var stockConfig: String?

    @Flag(help: ArgumentHelp("Print PostgreSQL's EXPLAIN ANALYZE of the search instead of its results.", visibility: .hidden))
    var explain = false

    func validate() throws {
        do {
            try request(recencyBoost: recencyBoost ?? Scoring.defaultRecencyBoost).validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func request(recencyBoost: Double) throws(MediaError) -> SearchRequest {
        var parsedAspect: Double?
        if let aspect {
            guard let ratio = AspectRatio.parse(aspect) else {
                throw MediaError(.invalidRequest, "--aspect '\(aspect)' is not a ratio such as 9:16 or 0.5625")
            }
            parsedAspect = ratio
        }
        if let minDuration, !(minDuration.isFinite && minDuration >= 0) {
            throw MediaError(.invalidRequest, "--min-duration must be a number of seconds, 0 or more")
        }
        return SearchRequest(
            kind: kind.kind, tags: QueryTags(tags), minWidth: minWidth, minHeight: minHeight,
            minDurationMs: minDuration.map(SearchRequest.milliseconds(seconds:)), aspect: parsedAspect,
            provider: provider.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }, limit: limit,
            recencyBoost: recencyBoost)
    }

    struct Report: Encodable {
        let ok = true
        let kind: String
        let tags: [String]
        let recencyBoost: Double
        let results: [ScoredAsset]
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            let boost: Double
            if let recencyBoost {
                boost = recencyBoost
            } else {
                boost = try LocalLibrarySettings.load(explicitFile: stockConfig, workingDirectory: workingDirectory)
                    .preferRecencyBoost
            }
            let request = try request(recencyBoost: boost)
            try await withOpenLibrary(configuration, logger: logger) { (library, connection) throws(MediaError) in
                let repository = SearchRepository(connection: connection, logger: logger, root: library.root.path)
                if explain {
                    print(try await repository.explain(request).joined(separator: "\n"))
                    return
                }
                let results = try await repository.search(request)
                if options.json {
                    JSONOutput.print(Report(kind: kind.rawValue, tags: request.tags.terms, recencyBoost: boost, results: results))
                } else {
                    printTable(results, request: request)
                }
            }
        } catch {
            throw fail(error, program: "mediaq search", json: options.json)
        }
    }

    private func printTable(_ results: [ScoredAsset], request: SearchRequest) {
        guard !results.isEmpty else {
            print("no \(kind.rawValue) match \(request.tags.terms.joined(separator: ", "))")
            return
        }
        let videos = kind == .videos
        var rows = [["id", "score", "tags", "size"] + (videos ? ["length"] : []) + ["last used", "provider", "path"]]
        for result in results {
            rows.append(
                [
                    "\(result.id)", TextFormat.fixed(result.score),
                    "\(result.scoreParts.matchedTags)/\(result.scoreParts.queryTags)", "\(result.width)×\(result.height)",
                ]
                    + (videos ? [TextFormat.duration(result.durationMs)] : [])
                    + [TextFormat.age(result.lastUsedAt), result.provider ?? "", result.path])
        }
        print(TextFormat.table(rows, rightAligned: videos ? [0, 1, 4] : [0, 1]))
    }
}
