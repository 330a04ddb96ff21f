import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

struct UseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "use",
        abstract: "Mark assets used now (gather's markUsed): later searches rank them lower for a while.",
        discussion: """
            All or nothing: when an id names no present asset, nothing is marked and the command \
            exits 65 naming it. With --json: {"ok", "used": [{"id", "lastUsedAt", "useCount"}]}.

            Exit codes: 0 marked; 2 usage; 65 unknown id; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Asset ids.", valueName: "id"))
    var ids: [Int64]

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one asset id") }
    }

    struct Report: Encodable {
        let ok = true
        let used: [UsageRepository.Use]
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            let uses = try await withOpenLibrary(configuration, logger: logger) { (_, connection) throws(MediaError) in
                try await UsageRepository(connection: connection, logger: logger).record(ids)
            }
            if options.json {
                JSONOutput.print(Report(used: uses))
            } else {
                for use in uses { print("used #\(use.id) (\(use.useCount)×)") }
            }
        } catch {
            throw fail(error, program: "mediaq use", json: options.json)
        }
    }
}

struct UnpinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpin",
        abstract: "Release every asset a gather run pinned (plan --pin, a sidecar's \"pin\").",
        discussion: """
            Unpinning a run that holds nothing is not an error. With --json: {"ok", "runId", "unpinned"}.

            Exit codes: 0 done; 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("The gather run's id.", valueName: "run-id"))
    var runId: String

    struct Report: Encodable {
        let ok = true
        let runId: String
        let unpinned: Int
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            let count = try await withOpenLibrary(configuration, logger: logger) { (_, connection) throws(MediaError) in
                try await UsageRepository(connection: connection, logger: logger).unpin(run: runId)
            }
            if options.json {
                JSONOutput.print(Report(runId: runId, unpinned: count))
            } else {
                print("unpinned \(count) asset(s) of run \(runId)")
            }
        } catch {
            throw fail(error, program: "mediaq unpin", json: options.json)
        }
    }
}

struct KnownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "known",
        abstract: "Which of a provider's asset ids the library already holds, so gather skips downloading them.",
        discussion: """
            With --json: {"ok", "provider", "known": [{"providerId", "libraryId", "kind", "path", \
            "absolutePath", "sourceUrl"}], "unknown": [ids]}; a provider id with several files \
            (renditions) is listed once per file.

            Exit codes: 0 answered (whatever is known); 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("The provider, e.g. pexels.", valueName: "name"))
    var provider: String

    @Argument(help: ArgumentHelp("The provider's own asset ids.", valueName: "id"))
    var ids: [String]

    var normalizedProvider: String { provider.trimmingCharacters(in: .whitespaces).lowercased() }

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one provider asset id") }
        if normalizedProvider.range(of: "^[a-z0-9][a-z0-9._-]{0,63}$", options: .regularExpression) == nil {
            throw ValidationError("--provider must be letters, digits, '.', '_' or '-' (at most 64)")
        }
    }

    struct Report: Encodable {
        let ok = true
        let provider: String
        let known: [UsageRepository.KnownAsset]
        let unknown: [String]
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            let known = try await withOpenLibrary(configuration, logger: logger) { (library, connection) throws(MediaError) in
                try await UsageRepository(connection: connection, logger: logger)
                    .known(provider: normalizedProvider, providerIds: ids, root: library.root.path)
            }
            let knownIds = Set(known.map(\.providerId))
            var unknown: [String] = []
            for id in ids where !knownIds.contains(id) && !unknown.contains(id) { unknown.append(id) }
            if options.json {
                JSONOutput.print(Report(provider: normalizedProvider, known: known, unknown: unknown))
            } else {
                for asset in known {
                    print("known    \(normalizedProvider) \(asset.providerId) → #\(asset.libraryId) \(asset.kind.rawValue) \(asset.absolutePath)")
                }
                for id in unknown { print("unknown  \(normalizedProvider) \(id)") }
            }
        } catch {
            throw fail(error, program: "mediaq known", json: options.json)
        }
    }
}

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
            cheaper link works. Every result is verified: a link is the library's original \
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
            try await withOpenLibrary(configuration, logger: logger) { (library, connection) throws(MediaError) in
                let sources = try await UsageRepository(connection: connection, logger: logger).exportSources(ids)
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw MediaError(.exportFailed, "cannot create \(directory): \(error.localizedDescription)")
                }
                let exporter = AssetExporter(root: library.root.path)
                for source in sources {
                    do throws(MediaError) {
                        results.append(try exporter.export(source, to: directory, mode: mode.mode))
                    } catch {
                        failures.append((source.id, error))
                    }
                }
            }
        } catch {
            throw fail(error, program: program, json: options.json)
        }
        for (id, error) in failures { printError("\(program): asset \(id): \(error.message)") }
        if options.json {
            JSONOutput.print(Report(
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
