import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Gather's pre-search for a whole script: what the library covers and what is missing.",
        discussion: """
            For each segment of SCRIPT.json (docs/plan.md), videos first (at least as long as the \
            segment), then images: a media type with at least localLibrary.minMatches local \
            results is covered and its best localLibrary.limit are picked; otherwise nothing is \
            picked for it and it is listed as missing, for gather to fetch online. No asset is \
            picked twice in one plan. Picked assets are marked used (--no-mark-used only looks) \
            and, with --pin, pinned for the run (--pin-hours, else localLibrary.pinHours, else \
            24 h; or until `mediaq unpin`).

            --stock-config names the pipeline's stock-assets.json (default: \
            ./config/stock-assets.json when it exists, else built-in defaults); --config is the \
            library's own configuration file, as in every other command.

            With --json (and in --out, written atomically): {"ok", "complete", "enabled", \
            "manifest": [{"segmentId", "kind", "source": "local-library", "libraryId", "path", \
            "absolutePath", "thumbPath", "provider", "sourceUrl", "sha256", "width", "height", \
            "durationMs", "score", "matchedVia"}], "segments": [{"id", "covered", "missing": [{"kind", \
            "tags", "localMatches", "minMatches", "limit", "minDurationSeconds", "minWidth", \
            "minHeight", "aspect", "belowFloor", "bestLocalScore", "bestLocalLacks", "reason"}], \
            "coveredThroughRelatedTags"}], "markedUsed", "runId", "libraryRoot"}. Only results \
            above the quality floor (localLibrary.minTagShare, minScore, a segment's \
            requiredTags) count toward minMatches.

            When exact tags leave a media type short of minMatches, it is searched again with \
            related tags (synonyms, broader and narrower words, the library's co-occurrences, \
            aliases; docs/search.md), each counting less than an exact match; a related tag \
            counts toward minTagShare, never for a required tag. matchedVia says what each pick \
            matched through. --exact, or localLibrary.relatedTags false, turns this off.

            Exit codes: 0 planned (also when something is missing); 2 usage or invalid \
            configuration; 65 invalid script; 75 database or library root unavailable (within \
            5 s; nothing marked, no --out file written): retry later, do not download.
            """)

    @OptionGroup var library: PlanLibraryOptions

    @Argument(help: ArgumentHelp("The script: segments with tags, duration and media.", valueName: "script.json"))
    var script: String

    @Option(
        help: ArgumentHelp(
            "The pipeline's stock-assets.json with the localLibrary block (default: ./config/stock-assets.json if present).",
            valueName: "file"))
    var stockConfig: String?

    @Option(help: ArgumentHelp("Pin the picked assets for this gather run.", valueName: "run-id"))
    var pin: String?

    @Option(help: ArgumentHelp("How long the pin holds (default: localLibrary.pinHours, else 24).", valueName: "hours"))
    var pinHours: Double?

    @Option(help: ArgumentHelp("Also write the plan to this file, atomically.", valueName: "file"))
    var out: String?

    @Flag(inversion: .prefixedNo, help: "Mark the picked assets used (--no-mark-used only looks).")
    var markUsed = true

    @Option(help: ArgumentHelp("Weight of the recency term, 0 to 1 (default: localLibrary.preferRecencyBoost).", valueName: "x"))
    var recencyBoost: Double?

    @Flag(help: "Exact tags only: no fallback through related tags (overrides localLibrary.relatedTags).")
    var exact = false

    @Flag(help: "Print the plan as JSON on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "Log progress to standard error.")
    var verbose = false

    func validate() throws {
        try PinOptions.validate(run: pin)
        try PinLifetimeOptions.validate(hours: pinHours)
        if let recencyBoost, !(recencyBoost.isFinite && (0...1).contains(recencyBoost)) {
            throw ValidationError("--recency-boost must be a number from 0 to 1")
        }
    }

    func run() async throws {
        let level: Logger.Level = verbose ? .info : .notice
        let logger = Logger(label: "mediaq") { label in MediaLogHandler(label: label, level: level) }
        let program = "mediaq plan"
        do {
            let outPath = try out.map { path throws(MediaError) in
                let absolute = absolutePath(path)
                let folder = (absolute as NSString).deletingLastPathComponent
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw MediaError(.invalidRequest, "--out \(path): the folder \(folder) does not exist")
                }
                return absolute
            }
            let configuration = try await library.load()
            var settings = try LocalLibrarySettings.load(explicitFile: stockConfig, workingDirectory: workingDirectory)
            if exact { settings.relatedTags = false }
            let script = try PlanScript.load(absolutePath(script))
            let plan = try await withOpenLibrary(configuration, logger: logger) { (opened, connection) throws(MediaError) in
                // Two searches a segment, of a few shapes: each shape is planned once.
                let repository = SearchRepository(
                    connection: connection, logger: logger, root: opened.root.path,
                    statements: PreparedStatements(connection: connection))
                var plan = try await Planner.plan(script, settings: settings, recencyBoost: recencyBoost) { request throws(MediaError) in
                    try await repository.search(request)
                }
                plan.markedUsed = markUsed && !plan.manifest.isEmpty
                plan.runId = pin
                plan.libraryRoot = opened.root.path
                // The file is written before the uses are recorded and published after: a
                // failure on either side leaves no manifest and nothing marked.
                let file = try outPath.map { path throws(MediaError) in
                    try AtomicFile.prepare(Data((JSONOutput.encode(plan) + "\n").utf8), for: path)
                }
                do throws(MediaError) {
                    if !plan.manifest.isEmpty && (markUsed || pin != nil) {
                        try await UsageRepository(connection: connection, logger: logger)
                            .record(
                                plan.pickedIds, markUsed: markUsed, pinFor: pin, pinLifetime: settings.pinLifetime(hours: pinHours))
                    }
                    try file?.commit()
                } catch {
                    file?.discard()
                    throw error
                }
                return plan
            }
            if json {
                JSONOutput.print(plan)
            } else {
                printText(plan, script: script, outPath: outPath)
            }
        } catch {
            throw fail(error, program: program, json: json)
        }
    }

    private func printText(_ plan: Plan, script: PlanScript, outPath: String?) {
        let missing = plan.segments.reduce(0) { $0 + $1.missing.count }
        if !plan.enabled {
            print("localLibrary.enabled is false: nothing was searched; everything is missing")
        }
        print(
            "\(script.segments.count) segment(s): \(plan.manifest.count) asset(s) from the library, "
                + (missing == 0 ? "nothing missing" : "\(missing) media type(s) to fetch online"))
        var rows: [[String]] = []
        for segment in plan.segments {
            for entry in plan.manifest where entry.segmentId == segment.id {
                rows.append([
                    segment.id, entry.kind.rawValue, "#\(entry.libraryId)", "score " + TextFormat.fixed(entry.score),
                    entry.provider ?? "", entry.absolutePath,
                ])
            }
            for need in segment.missing {
                rows.append([
                    segment.id, need.kind.rawValue, "missing",
                    "\(need.localMatches) of \(need.minMatches) found", "",
                    "fetch up to \(need.limit) online: \(need.tags.joined(separator: ", "))"
                        + (need.minDurationSeconds.map { ", ≥ \(TextFormat.fixed($0, digits: 1)) s" } ?? "")
                        + " (\(need.reason))",
                ])
            }
        }
        if !rows.isEmpty { print(TextFormat.table(rows)) }
        if plan.markedUsed { print("marked \(plan.manifest.count) asset(s) used") }
        if let runId = plan.runId, !plan.manifest.isEmpty { print("pinned \(plan.manifest.count) asset(s) for run \(runId)") }
        if let outPath { print("wrote \(outPath)") }
    }
}

/// The library options of `plan`: those that find the library (the pipeline's file is
/// `--stock-config`). `--library-config`, the old name of `--config` here, still works.
struct PlanLibraryOptions: ParsableArguments {
    @Option(
        name: [.customLong("config"), .customLong("library-config", withSingleDash: false)],
        help: ArgumentHelp(
            "The library's JSON configuration file (default: $MEDIA_CONFIG, else /etc/media-library/config.json when present).",
            valueName: "file"))
    var configFile: String?

    @Option(help: ArgumentHelp("Library root (overrides LIBRARY_ROOT).", valueName: "path"))
    var libraryRoot: String?

    @Option(
        help: ArgumentHelp(
            "PostgreSQL URL (overrides DATABASE_URL); without one, the embedded cluster in <library-root>/.db.",
            valueName: "url"))
    var databaseURL: String?

    func load() async throws(MediaError) -> LibraryConfiguration {
        var flags: [ConfigurationKey: String] = [:]
        flags[.libraryRoot] = libraryRoot
        flags[.databaseURL] = databaseURL
        return try await LibraryConfiguration.load(flags: flags, configFile: configFile)
    }
}
