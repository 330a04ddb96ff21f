import ArgumentParser
import Foundation
import Logging
import MediaIsolation
import MediaCommandSupport
import MediaCore
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// A redrawn progress bar on standard error, only when that is a terminal (and not with --json).
struct ProgressBar: Sendable {
    let enabled: Bool

    init(json: Bool) { enabled = !json && isatty(STDERR_FILENO) == 1 }

    func show(_ label: String, _ done: Int, _ total: Int) {
        guard enabled else { return }
        let width = 30
        let filled = total <= 0 ? width : min(width, width * done / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        printErrorRaw("\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total)")
    }

    func clear() {
        guard enabled else { return }
        printErrorRaw("\r\u{1B}[2K")
    }
}

/// `--target 250GB`: a size with a unit, or bytes.
struct SizeArgument: ExpressibleByArgument {
    let bytes: Int64

    init?(argument: String) {
        guard let bytes = ByteCount.parse(argument), bytes >= 0 else { return nil }
        self.bytes = bytes
    }
}

struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Collect least recently used assets until the library is down to the target size.",
        discussion: """
            Global LRU across images and videos by last use (an asset never used counts from when \
            it was added). Never collects an asset held by a live pin (gather runs and `plan --pin`; \
            expired pins do not count), nor the most recently used assets a provider keeps under \
            gc.keepPerProvider. Originals go first, each thumbnail after its original, each row in \
            the same step; a crash is finished at the next open (docs/maintenance.md). The default \
            target is the low-water mark: gc.lowWaterPercent (90) of the budget.

            With --json: {"ok", "dryRun", "startBytes", "targetBytes", "endBytes", "freedBytes", \
            "assets", "reachedTarget", "skippedPinned", "skippedKept", "skippedChanged", \
            "byProviderAndKind": [{"provider", "kind", "assets", "originalBytes", "thumbnailBytes"}]}.

            Exit codes: 0 done (also when pins and caps leave the target unreached: see \
            reachedTarget); 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Flag(help: "Report what would be collected; change nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("The library size to reach, e.g. 250GB (default: the low-water mark).", valueName: "size"))
    var target: SizeArgument?

    func run() async throws {
        let logger = options.makeLogger()
        let bar = ProgressBar(json: options.json)
        do {
            let configuration = try await options.library.load()
            let policy = GCPolicy(configuration, target: target?.bytes)
            let pause = ProcessInfo.processInfo.environment["MEDIAQ_GC_PAUSE_AFTER_ORIGINAL_MS"].flatMap(Int.init)
            let report = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (library, connection) throws(MediaError) in
                var collector = GarbageCollector(connection: connection, root: library.root.path, logger: logger)
                if let pause { collector.pauseAfterOriginal = .milliseconds(pause) }
                return try await collector.collect(policy: policy, dryRun: dryRun) { done, total in bar.show("gc", done, total) }
            }
            bar.clear()
            if options.json {
                JSONOutput.print(OKReport(report))
            } else {
                print(Self.text(report))
            }
        } catch {
            bar.clear()
            throw fail(error, program: "mediaq gc", json: options.json)
        }
    }

    static func text(_ report: GCReport) -> String {
        var lines: [String] = []
        let verb = report.dryRun ? "would free" : "freed"
        lines.append(
            "library \(ByteCount.format(report.startBytes)), target \(ByteCount.format(report.targetBytes)): "
                + "\(verb) \(ByteCount.format(report.freedBytes)) in \(report.assets) asset(s), "
                + "\(report.dryRun ? "leaving" : "now") \(ByteCount.format(report.endBytes))")
        if !report.byProviderAndKind.isEmpty {
            var rows = [["provider", "kind", "assets", "originals", "thumbnails"]]
            for line in report.byProviderAndKind {
                rows.append([
                    line.provider, line.kind.rawValue, String(line.assets), ByteCount.format(line.originalBytes),
                    ByteCount.format(line.thumbnailBytes),
                ])
            }
            lines.append(TextFormat.table(rows, rightAligned: [2, 3, 4]))
        }
        if report.skippedPinned + report.skippedKept + report.skippedChanged > 0 {
            lines.append(
                "kept: \(report.skippedPinned) pinned, \(report.skippedKept) under provider caps, "
                    + "\(report.skippedChanged) used or pinned meanwhile")
        }
        if !report.reachedTarget { lines.append("the target was not reached: pins and provider caps hold the rest") }
        return lines.joined(separator: "\n")
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Counts and bytes by kind and provider, budget, pins, missing thumbnails, use and tags.",
        discussion: """
            With --json: {"ok", "assets", "images", "videos", "byKindAndProvider": [{"kind", \
            "provider", "assets", "originalBytes", "thumbnailBytes"}], "budget": {"usedBytes", \
            "budgetBytes", "usedPercent", "lowWaterBytes", "reserveBytes", "freeBytes"}, "pins": \
            {"live", "pinnedAssets", "runs", "expired"}, "thumbnailsMissing", "quarantined", \
            "deleting", "lost", "curation": {"hidden", "rated", "blocked"}, "oldestUse", "newestUse", "neverUsed", "tagCount", "topTags": [{"tag", "assets"}], "optimized": [{"kind", "assets", "bytesSaved", "lossy"}], "optimizedBytesSaved"}.

            Exit codes: 0 done; 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            let stats = try await withOpenLibrary(configuration, logger: logger) { (library, connection) throws(MediaError) in
                try await LibraryStats.collect(
                    on: connection, root: library.root.path, budget: StorageBudget(configuration), logger: logger)
            }
            if options.json {
                JSONOutput.print(OKReport(stats))
            } else {
                print(Self.text(stats))
            }
        } catch {
            throw fail(error, program: "mediaq stats", json: options.json)
        }
    }

    static func text(_ stats: LibraryStats) -> String {
        var lines = ["\(stats.assets) assets: \(stats.images) images, \(stats.videos) videos"]
        var rows = [["kind", "provider", "assets", "originals", "thumbnails"]]
        for group in stats.byKindAndProvider {
            rows.append([
                group.kind.rawValue, group.provider, String(group.assets), ByteCount.format(group.originalBytes),
                ByteCount.format(group.thumbnailBytes),
            ])
        }
        if rows.count > 1 { lines.append(TextFormat.table(rows, rightAligned: [2, 3, 4])) }
        let budget = stats.budget
        lines.append(
            "budget: \(ByteCount.format(budget.usedBytes)) of \(ByteCount.format(budget.budgetBytes)) "
                + "(\(TextFormat.fixed(budget.usedPercent, digits: 1))%); GC frees down to \(ByteCount.format(budget.lowWaterBytes)); "
                + "free on disk \(budget.freeBytes.map(ByteCount.format) ?? "unknown"), reserve \(ByteCount.format(budget.reserveBytes))")
        lines.append(
            "pins: \(stats.pins.live) live on \(stats.pins.pinnedAssets) asset(s) in \(stats.pins.runs) run(s); \(stats.pins.expired) expired"
        )
        lines.append(
            "thumbnails missing: \(stats.thumbnailsMissing); quarantined: \(stats.quarantined); lost: \(stats.lost); being deleted: \(stats.deleting)"
        )
        lines.append("curation: hidden \(stats.curation.hidden); rated \(stats.curation.rated); blocked \(stats.curation.blocked)")
        lines.append(
            "use: oldest \(TextFormat.age(stats.oldestUse)), newest \(TextFormat.age(stats.newestUse)), never used \(stats.neverUsed)")
        let top = stats.topTags.map { "\($0.tag) (\($0.assets))" }.joined(separator: ", ")
        lines.append("tags: \(stats.tagCount)\(top.isEmpty ? "" : "; top: " + top)")
        if !stats.optimized.isEmpty {
            let kinds = stats.optimized.map {
                "\($0.kind.rawValue)s \($0.assets) (\(ByteCount.format($0.bytesSaved)))" + ($0.lossy > 0 ? ", \($0.lossy) lossy" : "")
            }
            lines.append(
                "optimised: saved \(ByteCount.format(stats.optimizedBytesSaved)); " + kinds.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}

/// `--verify 10`, `--verify 2.5` or `--verify all`.
struct VerifyArgument: ExpressibleByArgument {
    let verification: LibraryDoctor.Verification

    init?(argument: String) {
        if argument.lowercased() == "all" {
            verification = .all
        } else if let percent = Double(argument.hasSuffix("%") ? String(argument.dropLast()) : argument),
            percent > 0, percent <= 100
        {
            verification = percent == 100 ? .all : .percent(percent)
        } else {
            return nil
        }
    }
}

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the library's files against its rows (fsck); with --fix, repair what is safe.",
        discussion: """
            Finds originals without rows, rows without originals, thumbnails missing or orphaned, \
            library files that are not read-only (0444), temporary files no running process owns \
            and, for the share of originals --verify names, bytes that do not match their SHA-256 \
            name. Opening the library first finishes ingests and collections a crash interrupted. \
            --fix regenerates thumbnails, removes orphans and temporary files, sets modes, and \
            moves corrupt originals to <root>/quarantine/ with their rows marked quarantined; a \
            row whose original is gone is reported, not changed. Each run's findings replace \
            <root>/.doctor.json (what `mediaq serve` shows on its stats page).

            With --json: {"ok", "originals", "thumbnails", "verified", "thumbnailsMarkedMissing", \
            "problems": [{"kind", "path", "assetId", "detail", "fixed", "action"}], "fixed", "remaining"}.

            Exit codes: 0 clean (or, with --fix, everything found was fixed); 1 problems remain; \
            2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("Read this percent of the originals (or all) and check each SHA-256.", valueName: "percent|all"))
    var verify: VerifyArgument?

    @Flag(help: "Repair what is safe to repair.")
    var fix = false

    func run() async throws {
        let logger = options.makeLogger()
        let bar = ProgressBar(json: options.json)
        let report: LibraryDoctor.Report
        do {
            let configuration = try await options.library.load()
            let verification = verify?.verification ?? .none
            let fix = fix
            // Only `--fix` decodes (a missing thumbnail is made again): a check needs no mediad.
            let decoder = fix ? try DecoderPool.forCommands(configuration) : nil
            defer { decoder?.shutdown() }
            report = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (library, connection) throws(MediaError) in
                var doctor = LibraryDoctor(connection: connection, root: library.root.path, decoder: decoder, logger: logger)
                doctor.readsFileKeywords = configuration.fileKeywords
                let report = try await doctor.run(verify: verification, fix: fix) { phase, done, total in bar.show(phase, done, total) }
                // Kept for `mediaq serve`'s stats page; the findings stand without it.
                do throws(MediaError) {
                    try DoctorRecord(report, fix: fix).write(root: library.root.path)
                } catch {
                    logger.warning("the findings are not kept in the library", metadata: ["reason": "\(error.message)"])
                }
                return report
            }
            bar.clear()
        } catch {
            bar.clear()
            throw fail(error, program: "mediaq doctor", json: options.json)
        }
        let remaining = fix ? report.remaining : report.problems.count
        if options.json {
            JSONOutput.print(OKReport(report, ok: remaining == 0))
        } else {
            for problem in report.problems {
                var line = "\(problem.kind.rawValue)  \(problem.path)  \(problem.detail)"
                if let action = problem.action { line += "  → \(action)" }
                print(line)
            }
            var summary = "checked \(report.originals) originals, \(report.thumbnails) thumbnails"
            if report.verified > 0 { summary += ", verified \(report.verified) checksums" }
            summary += report.problems.isEmpty ? ": no problems" : ": \(report.problems.count) problem(s)"
            if fix && !report.problems.isEmpty { summary += ", \(report.fixed) fixed, \(report.remaining) remain" }
            if report.lost > 0 { summary += "; \(report.lost) lost asset(s) (originals gone; `mediaq forget` removes them)" }
            if report.thumbnailsMarkedMissing > 0 {
                summary += "; \(report.thumbnailsMarkedMissing) thumbnail(s) could not be made at ingest (not a problem)"
            }
            print(summary)
        }
        if remaining > 0 { throw ExitCode(ExitStatus.failure) }
    }
}

struct RebaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebase",
        abstract: "Record that the library's files moved from one root to another (a new mount point, a copied drive).",
        discussion: """
            Checks that NEW holds this library (its marker names the database's library) and \
            reads a sample of originals there against their SHA-256; then, in one transaction, \
            records NEW as the root and increments the root version (rebase_history keeps each \
            move). Rows hold paths relative to the root, so none is rewritten. Running it again \
            changes nothing. Without DATABASE_URL, the embedded cluster is the one in NEW/.db.

            With --json: {"ok", "libraryId", "from", "to", "previousVersion", "rootVersion", \
            "verifiedFiles", "alreadyThere", "dryRun"}.

            Exit codes: 0 rebased, or already there; 1 refused (NEW is not this library, a file \
            does not match, the library is not recorded at OLD); 2 usage; 75 database unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("The root the library was recorded at.", valueName: "old"))
    var from: String

    @Option(help: ArgumentHelp("Where the library is now.", valueName: "new"))
    var to: String

    @Flag(help: "Check everything; record nothing.")
    var dryRun = false

    func run() async throws {
        let logger = options.makeLogger()
        do {
            var configuration = try await options.library.load()
            let newRoot = absolutePath(to)
            if options.library.libraryRoot == nil && ProcessInfo.processInfo.environment["LIBRARY_ROOT"] == nil {
                configuration.libraryRoot = newRoot
            }
            let (connection, _, _) = try await DatabaseAccess.connect(configuration, logger: logger)
            let report: LibraryRebase.Report
            do {
                report = try await LibraryRebase(connection: connection, logger: logger)
                    .run(from: from.hasPrefix("/") ? from : absolutePath(from), to: newRoot, dryRun: dryRun)
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
            if options.json {
                JSONOutput.print(OKReport(report))
            } else if report.alreadyThere {
                print(
                    "the library \(report.libraryId) is already recorded at \(report.to) (root version \(report.rootVersion)); nothing to do"
                )
            } else {
                let verb = report.dryRun ? "would rebase" : "rebased"
                print(
                    "\(verb) library \(report.libraryId): \(report.from) → \(report.to); root version \(report.previousVersion) → \(report.rootVersion); \(report.verifiedFiles) original(s) verified"
                )
            }
        } catch let error as MediaError {
            throw fail(error, program: "mediaq rebase", json: options.json)
        } catch {
            throw fail(MediaError(.databaseError, "\(error)"), program: "mediaq rebase", json: options.json)
        }
    }
}

/// A command's report as its `--json` document: the report's own keys plus `"ok"`.
struct OKReport<Payload: Encodable>: Encodable {
    let payload: Payload
    let ok: Bool

    init(_ payload: Payload, ok: Bool = true) {
        self.payload = payload
        self.ok = ok
    }

    func encode(to encoder: any Encoder) throws {
        try payload.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(ok, forKey: Key(stringValue: "ok"))
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
