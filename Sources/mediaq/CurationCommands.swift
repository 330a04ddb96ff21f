import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

/// Opens the library as its maintainer, runs `body`, then writes the metadata files the change
/// marked (mediad would within a second; a command run without it leaves none behind).
private func curate<T>(
    _ options: CommonOptions, program: String, _ body: (PostgresConnection, Logger) async throws(MediaError) -> T
) async throws -> T {
    let logger = options.makeLogger()
    do {
        let configuration = try await options.library.load()
        return try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) { (library, connection) throws(MediaError) in
            let result = try await body(connection, logger)
            do throws(MediaError) {
                _ = try await MetadataRepository(connection: connection, logger: logger).flushAll(in: ContentStore(root: library.root.path))
            } catch {
                // The rows changed and their marks stay: mediad (or the next writer) writes the files.
                logger.warning("the metadata files were not written yet: \(error.message)")
            }
            return result
        }
    } catch {
        throw fail(error, program: program, json: options.json)
    }
}

struct TagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Add and remove tags of assets (normalised as ingest normalises them).",
        discussion: """
            All or nothing: when an id names no asset, nothing changes and the command exits 65 \
            naming it. A tag both added and removed is added. With --json: {"ok", "assets": \
            [{"id", "tags"}]}, each asset's tags afterwards.

            Exit codes: 0 changed; 2 usage; 65 unknown id; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Asset ids.", valueName: "id"))
    var ids: [Int64]

    @Option(help: ArgumentHelp("Tags to add, comma-separated.", valueName: "tags"))
    var add: [String] = []

    @Option(help: ArgumentHelp("Tags to remove, comma-separated.", valueName: "tags"))
    var remove: [String] = []

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one asset id") }
        if TagNormalizer.normalize(add).isEmpty && TagNormalizer.normalize(remove).isEmpty {
            throw ValidationError("give tags to --add or --remove")
        }
    }

    struct Report: Encodable {
        let ok = true
        let assets: [CurationRepository.Tagged]
    }

    func run() async throws {
        let (add, remove, ids) = (add, remove, ids)
        let tagged = try await curate(options, program: "mediaq tag") { (connection, logger) throws(MediaError) in
            try await CurationRepository(connection: connection, logger: logger).retag(ids, add: add, remove: remove)
        }
        if options.json {
            JSONOutput.print(Report(assets: tagged))
        } else {
            for asset in tagged { print("#\(asset.id): \(asset.tags.joined(separator: ", "))") }
        }
    }
}

struct HideCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hide",
        abstract: "Hide assets: kept on disk with their tags and sources, never offered by search, plan or known.",
        discussion: """
            All or nothing: when an id names no asset, nothing changes and the command exits 65 \
            naming it. `mediaq unhide` offers them again. With --json: {"ok", "hidden", "changed"}.

            Exit codes: 0 done; 2 usage; 65 unknown id; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Asset ids.", valueName: "id"))
    var ids: [Int64]

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one asset id") }
    }

    func run() async throws {
        try await HideCommand.setHidden(true, ids, options)
    }

    struct Report: Encodable {
        let ok = true
        let hidden: Bool
        /// The ids whose flag changed (the others already were so).
        let changed: [Int64]
    }

    static func setHidden(_ hidden: Bool, _ ids: [Int64], _ options: CommonOptions) async throws {
        let program = hidden ? "mediaq hide" : "mediaq unhide"
        let changed = try await curate(options, program: program) { (connection, logger) throws(MediaError) in
            try await CurationRepository(connection: connection, logger: logger).setHidden(ids, hidden)
        }
        if options.json {
            JSONOutput.print(Report(hidden: hidden, changed: changed))
        } else {
            let verb = hidden ? "hid" : "unhid"
            print("\(verb) \(changed.count) asset(s)" + (changed.isEmpty ? "" : ": " + changed.map { "#\($0)" }.joined(separator: " ")))
        }
    }
}

struct UnhideCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unhide",
        abstract: "Offer hidden assets again.",
        discussion: """
            All or nothing, as `hide`. With --json: {"ok", "hidden": false, "changed"}.

            Exit codes: 0 done; 2 usage; 65 unknown id; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Asset ids.", valueName: "id"))
    var ids: [Int64]

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one asset id") }
    }

    func run() async throws {
        try await HideCommand.setHidden(false, ids, options)
    }
}
