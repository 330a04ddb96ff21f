import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import MediaIsolation
import PostgresNIO

struct ReindexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reindex",
        abstract: "Rebuild the library's database from its files (after the database was lost or restored from a backup).",
        discussion: """
            Walks every original under <root>/{images,videos}/original. One without a row is \
            recorded again from its bytes (its SHA-256 must match its name; it is probed again, \
            its thumbnail kept or made) with the tags and sources of its metadata file \
            (<root>/{images,videos}/meta/, see docs/storage.md); one with no metadata file is \
            recorded with provider `unknown` and only the keywords written into its file as tags. \
            One with a row gets the tags of its metadata file and the sources it lacks. Nothing is deleted; an original whose bytes do \
            not match its name is reported and left for `mediaq doctor --verify --fix`.

            Idempotent and resumable: each original is one transaction, and a second run only \
            compares. Without DATABASE_URL an embedded database is made if the library's is gone. \
            Usage history (last use, use counts, pins) is not in the files and starts afresh. \
            Blocks (`mediaq block`) come back from <root>/blocked.json, the operator's aliases \
            (`mediaq tags alias`) from <root>/aliases.json.

            With --json: {"ok", "originals", "adopted", "adoptedWithoutMetadata", "updated", \
            "unchanged", "metadataWritten", "blocksRestored", "aliasesRestored", "problems": [{"path", "code", "detail"}], "seconds"}.

            Exit codes: 0 every original recorded; 1 some were left (listed); 2 usage; 75 the \
            database or the library root is unavailable (run it again: it goes on where it stopped).
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let logger = options.makeLogger()
        let program = "mediaq reindex"
        let bar = ProgressBar(json: options.json)
        let report: LibraryReindex.Report
        do throws(MediaError) {
            let configuration = try await options.library.load()
            switch try LibraryRoot(path: configuration.libraryRoot).inspect() {
            case .missing, .emptyUnmarked:
                throw MediaError(
                    .libraryRootMissing,
                    "LIBRARY_ROOT \(configuration.libraryRoot) holds no library to reindex; is its drive mounted?")
            default:
                break
            }
            let decoder = try DecoderPool.forCommands(configuration)
            defer { decoder.shutdown() }
            let (library, connection) = try await LibraryOpener(configuration: configuration, logger: logger, mode: .creator).open()
            do throws(MediaError) {
                var reindex = LibraryReindex(
                    root: library.root.path, decoder: decoder, logger: logger, readsFileKeywords: configuration.fileKeywords)
                let pause = ProcessInfo.processInfo.environment["MEDIAQ_REINDEX_PAUSE_MS"].flatMap(Int.init)
                reindex.pauseAfterEach = pause.map { .milliseconds($0) }
                report = try await reindex.run(on: connection) { done, total in bar.show("reindex", done, total) }
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
            bar.clear()
        } catch {
            bar.clear()
            throw fail(error, program: program, json: options.json)
        }
        if options.json {
            JSONOutput.print(OKReport(report, ok: report.problems.isEmpty))
        } else {
            for problem in report.problems { print("\(problem.code)  \(problem.path)  \(problem.detail)") }
            var summary = "\(report.originals) originals: \(report.adopted) recorded again"
            if report.adoptedWithoutMetadata > 0 {
                summary +=
                    " (\(report.adoptedWithoutMetadata) without a metadata file: provider unknown, tags only from their files' keywords)"
            }
            summary += ", \(report.updated) updated from their metadata files, \(report.unchanged) unchanged"
            if !report.problems.isEmpty { summary += ", \(report.problems.count) left as they are" }
            if report.blocksRestored > 0 { summary += ", \(report.blocksRestored) block(s) restored" }
            if report.aliasesRestored > 0 { summary += ", \(report.aliasesRestored) alias(es) restored" }
            summary += " in \(String(format: "%.1f", report.seconds)) s"
            print(summary)
        }
        if !report.problems.isEmpty { throw ExitCode(ExitStatus.failure) }
    }
}
