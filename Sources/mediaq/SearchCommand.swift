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
            + 0.2·rating/5 (docs/search.md). Assets that match none of the tags are not listed. \
            A query tag also matches its simple English singular or plural (car, cars), and \
            stored tags that differ from it only by diacritics (ecole, école).

            When fewer than --min-matches results (default: --limit) carry every query tag, the \
            search runs again with related tags too: synonyms, broader and narrower words \
            (`mediaq tags wordnet`), the library's co-occurrences (`mediaq tags learn`) and \
            operator aliases (`mediaq tags alias`). A related tag counts half its relation's \
            weight (an exact match counts 1), so results that carry every query tag exactly \
            still rank first; each result says what it matched through (the table's "via", \
            "matchedVia" in JSON). --exact never falls back.

            The recency boost comes from --recency-boost, else from localLibrary.preferRecencyBoost \
            in --stock-config (default: ./config/stock-assets.json when it exists), else 0.1.

            With --json: {"ok", "kind", "tags", "recencyBoost", "results": [{"id", "kind", \
            "sha256", "path", "absolutePath", "thumbPath", "absoluteThumbPath", "width", \
            "height", "durationMs", "tags", "provider", "sourceUrl", "lastUsedAt", "createdAt", \
            "score", "scoreParts": {"tagAnd", "tagOr", "recency", "recencyBoost", "aspectFit", \
            "matchedTags", "queryTags", "daysSinceLastUse", "rating", "matchedThroughRelations"}, \
            "matchedVia": [{"queryTag", "tag", "relation", "source", "related", "value"}]}], \
            "matching": "exact" or "related", "exactMatches"}; paths relative to LIBRARY_ROOT \
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

    @Flag(help: "Exact tags only: never fall back on related tags.")
    var exact = false

    @Option(
        help: ArgumentHelp(
            "Fall back on related tags when fewer results than this carry every query tag (default: --limit).",
            valueName: "n"))
    var minMatches: Int?

    @Flag(help: ArgumentHelp("Print PostgreSQL's EXPLAIN ANALYZE of the search instead of its results.", visibility: .hidden))
    var explain = false

    func validate() throws {
        if let minMatches, !(1...SearchRequest.maximumLimit).contains(minMatches) {
            throw ValidationError("--min-matches must be between 1 and \(SearchRequest.maximumLimit)")
        }
        if exact && minMatches != nil { throw ValidationError("--min-matches sets when to fall back; --exact never does") }
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
                let outcome = try await repository.search(request, fallingBackBelow: exact ? 0 : minMatches ?? request.limit)
                if explain {
                    var explained = request
                    explained.matching = outcome.fellBack ? .related : .exact
                    print(try await repository.explain(explained).joined(separator: "\n"))
                    return
                }
                if options.json {
                    JSONOutput.print(SearchReport(kind: kind.rawValue, request: request, outcome: outcome))
                } else {
                    printTable(outcome.results, request: request, fellBack: outcome.fellBack, exactMatches: outcome.exactMatches)
                }
            }
        } catch {
            throw fail(error, program: "mediaq search", json: options.json)
        }
    }

    private func printTable(_ results: [ScoredAsset], request: SearchRequest, fellBack: Bool, exactMatches: Int) {
        guard !results.isEmpty else {
            print("no \(kind.rawValue) match \(request.tags.terms.joined(separator: ", "))" + (fellBack ? " or a related tag" : ""))
            return
        }
        if fellBack {
            print(
                "\(exactMatches) carry every tag exactly, fewer than \(minMatches ?? request.limit): related tags count too "
                    + "(--exact: never)")
        }
        let videos = kind == .videos
        var rows = [["id", "score", "tags", "size"] + (videos ? ["length"] : []) + ["last used", "provider", "via", "path"]]
        for result in results {
            rows.append(
                [
                    "\(result.id)", TextFormat.fixed(result.score),
                    "\(result.scoreParts.matchedTags)/\(result.scoreParts.queryTags)", "\(result.width)×\(result.height)",
                ]
                    + (videos ? [TextFormat.duration(result.durationMs)] : [])
                    + [TextFormat.age(result.lastUsedAt), result.provider ?? "", Self.via(result.matchedVia), result.path])
        }
        print(TextFormat.table(rows, rightAligned: videos ? [0, 1, 4] : [0, 1]))
    }

    /// What a result matched through, where that is not the query tag itself: `sea→ocean
    /// synonym`, `école` for `ecole`, `-` when every match is the query tag as given.
    static func via(_ matches: [MatchedVia]) -> String {
        let shown = matches.compactMap { match -> String? in
            if match.relation == "exact" { return match.tag == match.queryTag ? nil : "\(match.queryTag)→\(match.tag)" }
            return "\(match.queryTag)→\(match.tag) \(match.relation)"
        }
        return shown.isEmpty ? "-" : shown.joined(separator: ", ")
    }
}
