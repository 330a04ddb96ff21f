import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

/// `--mode`: the core's `ExportMode` as an argument.
enum ExportModeArgument: String, ExpressibleByArgument, CaseIterable {
    case auto, reflink, hardlink, symlink, copy

    var mode: ExportMode { ExportMode(rawValue: rawValue)! }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Put assets into a project folder as <sha256>.<ext>, by the cheapest way that works.",
        discussion: """
            --mode auto (the default) tries reflink (a copy-on-write clone), hardlink, symlink, \
            then copy, and uses the first that works here: never a second full copy when a \
            cheaper link works. A symbolic link is tried only with --pin RUN (the assets pinned \
            for the run, so GC keeps their originals) or asked for with --mode symlink: across \
            filesystems an unpinned auto export is a copy, which no GC can break. Every result is verified: a link is the library's original \
            (same inode); a clone or copy is read back and its SHA-256 checked. A file already \
            at the name that is the asset is left as it is ("existing"); anything else there \
            is never overwritten. Hard links and symbolic links share the library's read-only \
            original: do not change them in place. DIR is created if needed.

            With --json: {"ok", "exported": [{"id", "sha256", "source", "path", "status": \
            "exported"|"existing", "mode", "verified": "same-file"|"sha256", "skipped": \
            [{"mode", "reason"}]}], "failed": [{"id", "code", "message"}]}.

            Exit codes: 0 all exported; 2 usage; 65 unknown id, a conflicting file, or a mode \
            that cannot work here; 1 other failure; 75 database or library root unavailable \
            (nothing written).
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Asset ids.", valueName: "id"))
    var ids: [Int64]

    @Option(help: ArgumentHelp("The project folder.", valueName: "dir"))
    var to: String

    @Option(help: ArgumentHelp("auto, reflink, hardlink, symlink or copy.", valueName: "mode"))
    var mode: ExportModeArgument = .auto

    @OptionGroup var pinning: PinOptions

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one asset id") }
        if to.isEmpty { throw ValidationError("--to must name a folder") }
    }

    struct Failure: Encodable {
        let id: Int64
        let code: String
        let message: String
    }

    struct Report: Encodable {
        let ok: Bool
        let exported: [ExportResult]
        let failed: [Failure]
    }

    func run() async throws {
        let logger = options.makeLogger()
        let program = "mediaq export"
        let directory = absolutePath(to)
        var results: [ExportResult] = []
        var failures: [(Int64, MediaError)] = []
        do {
            let configuration = try await options.library.load()
            let lifetime = try pinning.lifetime.duration()
            let run = pinning.pin
            try await withOpenLibrary(configuration, logger: logger) { (library, connection) throws(MediaError) in
                let sources = try await AssetRepository(connection: connection, logger: logger).exportSources(ids)
                // Pinned before any file is made: GC cannot take an original a link is about to name.
                if let run {
                    try await UsageRepository(connection: connection, logger: logger)
                        .record(sources.map(\.id), markUsed: false, pinFor: run, pinLifetime: lifetime)
                }
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw MediaError(.exportFailed, "cannot create \(directory): \(error.localizedDescription)")
                }
                let exporter = AssetExporter(root: library.root.path)
                for source in sources {
                    do throws(MediaError) {
                        results.append(try exporter.export(source, to: directory, mode: mode.mode, symlinkHeld: run != nil))
                    } catch {
                        failures.append((source.id, error))
                        if error.code == .originalMissing,
                            !FileManager.default.fileExists(atPath: library.root.path + "/" + source.path)
                        {
                            // Gone from the disk: never offered again (doctor reports it settled).
                            _ = try? await AssetRepository(connection: connection, logger: logger).markLost([source.id])
                        }
                    }
                }
            }
        } catch {
            throw fail(error, program: program, json: options.json)
        }
        for (id, error) in failures { printError("\(program): asset \(id): \(error.message)") }
        if options.json {
            JSONOutput.print(
                Report(
                    ok: failures.isEmpty, exported: results,
                    failed: failures.map { Failure(id: $0.0, code: $0.1.code.name, message: $0.1.message) }))
        } else {
            for result in results {
                let how = result.status == .existing ? "already there as a \(result.mode.rawValue)" : "by \(result.mode.rawValue)"
                print("#\(result.id) \(how), verified \(result.verified.rawValue): \(result.path)")
            }
        }
        if let worst = failures.map({ ExitStatus.code(for: $0.1.code.disposition) }).max() {
            throw ExitCode(worst)
        }
    }
}
