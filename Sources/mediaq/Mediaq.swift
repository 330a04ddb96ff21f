import ArgumentParser
import Logging
import Foundation
import MediaIsolation
import MediaCommandSupport
import MediaCore

@main
struct Mediaq: AsyncParsableCommand {
    static func main() async { await mainWithDocumentedExitCodes() }

    static let configuration = CommandConfiguration(
        commandName: "mediaq",
        abstract: "Query and maintain the local stock-media library.",
        discussion: """
            The library is found through --library-root / LIBRARY_ROOT and --database-url / \
            DATABASE_URL (see docs/configuration.md). Without a database URL, mediaq uses the \
            embedded PostgreSQL cluster in <library-root>/.db, creating or starting it as needed.

            Exit codes: 0 ok; 1 other failure; 2 usage or configuration error; 65 bad input; \
            75 temporary failure (database or library root unavailable: retry later).
            """,
        version: MediaLibraryVersion.current,
        subcommands: [
            IngestCommand.self, ShowCommand.self, SearchCommand.self, PlanCommand.self, UseCommand.self,
            UnpinCommand.self, PinCommand.self, PinsCommand.self, KnownCommand.self, TagCommand.self, HideCommand.self, UnhideCommand.self,
            RateCommand.self, RemoveCommand.self,
            BlockCommand.self, BlockedCommand.self, UnblockCommand.self, TagsCommand.self, ExportCommand.self, GCCommand.self,
            StatsCommand.self, DoctorCommand.self, OptimizeCommand.self,
            RebaseCommand.self, ReindexCommand.self, ForgetCommand.self, BackupCommand.self, RestoreCommand.self, SeedCommand.self,
            DatabaseCommand.self, ServeCommand.self, VersionCommand.self,
        ])
}

/// Options every subcommand takes.
struct CommonOptions: ParsableArguments {
    @OptionGroup var library: LibraryOptions

    @Flag(help: "Print the result as JSON on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "Log progress to standard error.")
    var verbose = false

    /// Notices (such as "starting the embedded PostgreSQL") always show: they explain a pause.
    func makeLogger() -> Logger {
        let level: Logger.Level = verbose ? .info : .notice
        return Logger(label: "mediaq") { label in MediaLogHandler(label: label, level: level) }
    }
}

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Show the versions of mediaq and of the native libraries its decoder worker (mediad) runs.")

    @Flag(help: "Print the result as JSON on standard output.")
    var json = false

    struct Report: Encodable {
        let mediaq: String
        let libvips: String
        let ffmpeg: String
        let libavformat: String
        let libavcodec: String
        let libswscale: String
    }

    func run() async throws {
        // The libraries that decode for mediaq are the decoder worker's (`mediad`): ask it,
        // which also proves libvips loads and initialises there, not only that it links.
        let native: NativeLibraryVersions
        do {
            let mediad = try DecoderCommandLine.siblingDaemon()
            let outcome = try ChildProcess.run(
                [mediad, DecoderCommandLine.flag, DecoderCommandLine.versionsFlag], environment: ProcessInfo.processInfo.environment)
            guard outcome.status == 0, let line = outcome.standardOutput.split(separator: "\n").last,
                let decoded = try? JSONDecoder().decode(NativeLibraryVersions.self, from: Data(line.utf8))
            else {
                throw MediaError(.invalidConfiguration, "\(mediad)'s decoder worker did not start: \(outcome.output)")
            }
            native = decoded
        } catch {
            printError("mediaq version: \(error)")
            throw ExitCode(ExitStatus.failure)
        }
        let report = Report(
            mediaq: MediaLibraryVersion.current, libvips: native.libvips, ffmpeg: native.ffmpeg,
            libavformat: native.libavformat, libavcodec: native.libavcodec, libswscale: native.libswscale)
        if json {
            JSONOutput.print(report)
        } else {
            print("mediaq \(report.mediaq)")
            print("libvips \(report.libvips)")
            print(
                "FFmpeg \(report.ffmpeg) (libavformat \(report.libavformat), libavcodec \(report.libavcodec), libswscale \(report.libswscale))"
            )
        }
    }
}
