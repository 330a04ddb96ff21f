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

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Add image and video files to the library; the files stay where they are unless --move.",
        discussion: """
            Each file is sniffed from its bytes (a name that disagrees is a rejection), probed, \
            copied into the library with its SHA-256 verified after the copy, given a 400 px \
            thumbnail or poster frame, and recorded with its tags and source. A file whose bytes \
            are already in the library is a duplicate: its tags and source are added to the \
            existing asset.

            With --json, one JSON document: {"ok", "ingested", "duplicate", "rejected", \
            "files": [{"file", "status": "ingested"|"duplicate"|"rejected", "id", "sha256", \
            "kind", "path", "thumbPath", "width", "height", "durationMs", "error": {"code", \
            "message"}}], "error"}; paths are relative to LIBRARY_ROOT. The top-level "error" \
            is there when something stopped the command before the remaining files (the files \
            done are listed).

            The storage budget binds as it binds mediad: a file that does not fit now stops the \
            command with 75 (`over_budget`, nothing of that file written; the ones before it \
            were stored), and a file larger than the whole budget is rejected \
            (`larger_than_budget`). --ignore-budget stores regardless.

            Exit codes: 0 every file ingested or a duplicate; 65 at least one rejected; 75 the \
            database or the library root is unavailable, or the budget is full (the file at \
            hand was not stored, the ones before it were); 2 usage.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Image or video files.", valueName: "file"))
    var files: [String]

    @Option(help: ArgumentHelp("Tags for every file, comma-separated; may repeat.", valueName: "tags"))
    var tags: [String] = []

    @Option(help: ArgumentHelp("Where the files came from, e.g. pexels (default: local).", valueName: "name"))
    var provider: String?

    @Option(help: ArgumentHelp("The page or file URL the files came from.", valueName: "url"))
    var sourceURL: String?

    @Option(name: .customLong("provider-id"), help: ArgumentHelp("The provider's own id for the asset.", valueName: "id"))
    var providerId: String?

    @Flag(help: "Mark the assets used now.")
    var used = false

    @OptionGroup var budget: BudgetOptions

    @Flag(
        help:
            "Take the files instead of copying them: on the library's filesystem they are linked in without a copy; stored files leave their folder, rejected ones stay."
    )
    var move = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one file") }
    }

    func run() async throws {
        let logger = options.makeLogger()
        let program = "mediaq ingest"
        let configuration: LibraryConfiguration
        let decoder: DecoderPool
        let connection: PostgresConnection
        let library: OpenLibrary
        do {
            configuration = try await options.library.load()
            // The decoder worker is checked first: no library is opened for nothing.
            decoder = try DecoderPool.forCommands(configuration)
            (library, connection) = try await LibraryOpener(configuration: configuration, logger: logger, mode: .maintenance).open()
        } catch {
            throw fail(error, program: program, json: options.json)
        }
        defer {
            decoder.shutdown()
            Task { try? await connection.close() }
        }
        var ingestor = Ingestor(
            root: library.root.path, decoder: decoder, logger: logger, pixelLimit: configuration.pixelLimit)
        let quota = budget.quota(configuration)
        ingestor.budget = quota
        ingestor.readsFileKeywords = configuration.fileKeywords
        let progress = ProgressLine(total: files.count, enabled: !options.json && isatty(STDERR_FILENO) == 1)
        var results: [IngestResult] = []
        for (index, file) in files.enumerated() {
            progress.show(index: index, name: (file as NSString).lastPathComponent)
            let request = IngestRequest(
                path: LibraryConfiguration.absolute(file, in: FileManager.default.currentDirectoryPath),
                tags: tags, provider: provider, sourceURL: sourceURL, providerAssetId: providerId, markUsed: used,
                moveSource: move)
            let result: IngestResult
            do {
                try await BudgetOptions.admit(request.path, quota: quota, root: library.root.path, on: connection, logger: logger)
                result = try await ingestWithRetry(ingestor, request, on: connection)
            } catch {
                progress.clear()
                await ingestor.writePendingMetadata(on: connection)
                // The files done so far are in the one document, beside the error that stopped the rest.
                if options.json { JSONOutput.print(Report(results, stoppedBy: error)) }
                printSummary(Report(results), interrupted: true)
                throw fail(error, program: program, json: false)
            }
            results.append(result)
            progress.clear()
            if !options.json { report(result, as: file) }
        }
        progress.clear()
        await ingestor.writePendingMetadata(on: connection)
        let summary = Report(results)
        if options.json { JSONOutput.print(summary) }
        printSummary(summary, interrupted: false)
        if summary.rejected > 0 { throw ExitCode(ExitStatus.badInput) }
    }

    /// `--json`: one document for the whole command, as every mediaq command prints
    /// (docs/integration.md, "Output").
    struct Report: Encodable {
        let ok: Bool
        let files: [IngestResult]
        let ingested: Int
        let duplicate: Int
        let rejected: Int
        /// The error that stopped the command before the remaining files, if one did.
        let error: ErrorReport.Detail?

        init(_ files: [IngestResult], stoppedBy error: MediaError? = nil) {
            self.files = files
            ingested = files.count { $0.status == .ingested }
            duplicate = files.count { $0.status == .duplicate }
            rejected = files.count { $0.status == .rejected }
            self.error = error.map(ErrorReport.Detail.init)
            ok = rejected == 0 && error == nil
        }
    }

    /// A file still being written is tried again a few times before the command gives up on it.
    private func ingestWithRetry(
        _ ingestor: Ingestor, _ request: IngestRequest, on connection: PostgresConnection
    ) async throws(MediaError) -> IngestResult {
        var attempt = 1
        while true {
            do {
                return try await ingestor.ingest(request, on: connection)
            } catch  where error.code == .sourceChanged && attempt < 4 {
                attempt += 1
                try? await Task.sleep(for: .milliseconds(500))
            } catch  where DecoderPool.shouldRetry(error, attempt: attempt) {
                attempt += 1
            }
        }
    }

    private func report(_ result: IngestResult, as file: String) {
        switch result.status {
        case .ingested, .duplicate:
            let size = [result.width, result.height].compactMap { $0 }.map(String.init).joined(separator: "×")
            let duration = result.durationMs.map { " \($0 / 1000).\($0 % 1000 / 100)s" } ?? ""
            let label = result.status == .ingested ? "ingested " : "duplicate"
            print("\(label) #\(result.id ?? 0) \(result.kind?.rawValue ?? "") \(size)\(duration)  \(file) → \(result.path ?? "")")
        case .rejected:
            print("rejected  \(result.error?.code ?? ""): \(result.error?.message ?? file)")
        }
    }

    private func printSummary(_ report: Report, interrupted: Bool) {
        guard !options.json else { return }
        let parts = ["\(report.ingested) ingested", "\(report.duplicate) duplicate", "\(report.rejected) rejected"]
        printError("\(parts.joined(separator: ", "))\(interrupted ? " (stopped early)" : "")")
    }
}

/// A one-line progress display on standard error, redrawn in place; off when not a terminal.
final class ProgressLine {
    let total: Int
    let enabled: Bool

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func show(index: Int, name: String) {
        guard enabled else { return }
        let width = 24
        let filled = total == 0 ? 0 : width * index / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        printErrorRaw("\r\u{1B}[2K[\(bar)] \(index + 1)/\(total) \(name.prefix(60))")
    }

    func clear() {
        guard enabled else { return }
        printErrorRaw("\r\u{1B}[2K")
    }
}
