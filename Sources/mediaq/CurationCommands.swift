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

struct RateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate",
        abstract: "Rate assets 0 to 5 stars; a rating adds a bounded term to their search score.",
        discussion: """
            The term is 0.2 × stars / 5: at most 0.2, so among assets that match the same query \
            tags a rated one ranks first, and no rating lifts an asset that misses a query tag \
            above one that carries them all (docs/search.md). 0 clears the rating. All or \
            nothing, as `tag`. With --json: {"ok", "rating", "changed"}.

            Exit codes: 0 done; 2 usage; 65 unknown id; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Asset ids, then the stars (0 to 5).", valueName: "id… stars"))
    var values: [Int64]

    func validate() throws {
        guard values.count >= 2 else { throw ValidationError("give at least one asset id, then the stars, e.g. `mediaq rate 12 40 4`") }
        guard let stars = values.last, (0...Int64(Scoring.maximumRating)).contains(stars) else {
            throw ValidationError("the stars (the last value) must be 0 to \(Scoring.maximumRating), not \(values.last ?? 0)")
        }
    }

    struct Report: Encodable {
        let ok = true
        let rating: Int
        /// The ids whose rating changed (the others had it already).
        let changed: [Int64]
    }

    func run() async throws {
        let stars = Int(values.last!)
        let ids = Array(values.dropLast())
        let changed = try await curate(options, program: "mediaq rate") { (connection, logger) throws(MediaError) in
            try await CurationRepository(connection: connection, logger: logger).rate(ids, stars: stars)
        }
        if options.json {
            JSONOutput.print(Report(rating: stars, changed: changed))
        } else {
            print(
                "rated \(changed.count) asset(s) \(stars)/\(Scoring.maximumRating)"
                    + (changed.isEmpty ? "" : ": " + changed.map { "#\($0)" }.joined(separator: " ")))
        }
    }
}

/// `rm` and `block`: the same removal, `block` also refusing the content when it comes again.
struct RemovalOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Asset ids.", valueName: "id"))
    var ids: [Int64]

    @Flag(help: "Remove assets even when a run's live pin holds them.")
    var force = false

    @Flag(help: "Say what would be removed (and which pins hold it); change nothing.")
    var dryRun = false

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one asset id") }
    }

    struct Report: Encodable {
        let ok = true
        let dryRun: Bool
        let blocked: Bool
        let removed: [CurationRepository.Removal]
    }

    func run(_ options: CommonOptions, block: Bool) async throws {
        let program = block ? "mediaq block" : "mediaq rm"
        let logger = options.makeLogger()
        let (ids, force, dryRun) = (ids, force, dryRun)
        do {
            let configuration = try await options.library.load()
            let removed = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (library, connection) throws(MediaError) in
                let preview = try await CurationRepository(connection: connection, logger: logger).previewRemoval(ids)
                if dryRun { return preview }
                let collector = GarbageCollector(connection: connection, root: library.root.path, logger: logger)
                let done = Set(try await collector.removeNow(ids, force: force, block: block))
                if block { await BlockRepository(connection: connection, logger: logger).writeList(root: library.root.path) }
                for asset in preview where done.contains(asset.id) {
                    logger.event(
                        .assetRemoved, block ? "asset blocked and removed" : "asset removed",
                        metadata: ["id": "\(asset.id)", "sha256": "\(asset.sha256)"])
                }
                return preview.filter { done.contains($0.id) }
            }
            if options.json {
                JSONOutput.print(Report(dryRun: dryRun, blocked: block, removed: removed))
                return
            }
            let verb = dryRun ? (block ? "would block" : "would remove") : (block ? "blocked and removed" : "removed")
            print("\(verb) \(removed.count) asset(s)")
            for asset in removed {
                let pins =
                    asset.pinnedBy.isEmpty ? "" : "  pinned by \(asset.pinnedBy.joined(separator: ", "))" + (force ? " (--force)" : "")
                print("  #\(asset.id)  \(asset.path)\(pins)")
            }
        } catch {
            throw fail(error, program: program, json: options.json)
        }
    }
}

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove assets now: original, thumbnail, metadata file and rows.",
        discussion: """
            By the crash-safe steps GC uses: a kill at any point leaves the asset whole or gone, \
            and the next start finishes the removal. All or nothing: when an id names no asset, \
            or (without --force) a run's live pin holds one, nothing is removed. The same bytes \
            dropped later are a new asset; `mediaq block` refuses them instead.

            With --json: {"ok", "dryRun", "blocked": false, "removed": [{"id", "sha256", "path", "pinnedBy"}]}.

            Exit codes: 0 done; 2 usage; 65 unknown id; 75 pinned (without --force), database or \
            library root unavailable.
            """)

    @OptionGroup var options: CommonOptions
    @OptionGroup var removal: RemovalOptions

    func run() async throws { try await removal.run(options, block: false) }
}

struct BlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Remove assets and refuse their bytes, and their provider ids, when they come again.",
        discussion: """
            As `mediaq rm`, and the asset's SHA-256 and every provider id it was known under are \
            recorded as blocked (in the database and in <root>/blocked.json, which a reindex reads). \
            A drop or `mediaq ingest` of the same bytes, or of a file whose sidecar names a blocked \
            provider id, is refused with code `blocked` (a rejection receipt for drops), before \
            anything is stored. `mediaq blocked` lists the blocks, `mediaq unblock SHA256…` lifts them.

            With --json: {"ok", "dryRun", "blocked": true, "removed": [{"id", "sha256", "path", "pinnedBy"}]}.

            Exit codes: 0 done; 2 usage; 65 unknown id; 75 pinned (without --force), database or \
            library root unavailable.
            """)

    @OptionGroup var options: CommonOptions
    @OptionGroup var removal: RemovalOptions

    func run() async throws { try await removal.run(options, block: true) }
}

struct BlockedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blocked",
        abstract: "List the blocked content (`mediaq block`).",
        discussion: """
            With --json: {"ok", "blocked": [{"sha256", "kind", "formerAssetId", "blockedAt", \
            "sources": [{"provider", "providerAssetId"}]}]}.

            Exit codes: 0 done; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    struct Report: Encodable {
        let ok = true
        let blocked: [BlockList.Entry]
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            let entries = try await withOpenLibrary(configuration, logger: logger, mode: .reader) { (_, connection) throws(MediaError) in
                try await BlockRepository(connection: connection, logger: logger).list()
            }
            if options.json {
                JSONOutput.print(Report(blocked: entries))
                return
            }
            print("\(entries.count) blocked")
            for entry in entries {
                let former = entry.formerAssetId.map { " (was #\($0))" } ?? ""
                let sources = entry.sources.map { "\($0.provider) \($0.providerAssetId)" }.joined(separator: ", ")
                print("  \(entry.sha256)  \(entry.kind.rawValue)\(former)  \(entry.blockedAt.formatted(.iso8601))  \(sources)")
            }
        } catch {
            throw fail(error, program: "mediaq blocked", json: options.json)
        }
    }
}

struct UnblockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unblock",
        abstract: "Lift blocks: the content may be ingested again.",
        discussion: """
            With --json: {"ok", "unblocked": [sha256]}.

            Exit codes: 0 done; 2 usage; 65 a SHA-256 is not blocked (nothing lifted); 75 \
            database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("SHA-256s of blocked content (see `mediaq blocked`).", valueName: "sha256"))
    var sha256s: [String]

    func validate() throws {
        if sha256s.isEmpty { throw ValidationError("name at least one SHA-256") }
        for sha in sha256s where sha.range(of: "^[0-9a-fA-F]{64}$", options: .regularExpression) == nil {
            throw ValidationError("'\(sha)' is not a SHA-256 (64 hexadecimal digits)")
        }
    }

    struct Report: Encodable {
        let ok = true
        let unblocked: [String]
    }

    func run() async throws {
        let logger = options.makeLogger()
        let wanted = Array(Set(sha256s.map { $0.lowercased() })).sorted()
        do {
            let configuration = try await options.library.load()
            let lifted = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (library, connection) throws(MediaError) in
                let blocks = BlockRepository(connection: connection, logger: logger)
                let lifted = try await blocks.unblock(wanted)
                await blocks.writeList(root: library.root.path)
                return lifted
            }
            if options.json {
                JSONOutput.print(Report(unblocked: lifted))
            } else {
                print("unblocked \(lifted.count): \(lifted.joined(separator: " "))")
            }
        } catch {
            throw fail(error, program: "mediaq unblock", json: options.json)
        }
    }
}
