import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

/// How long this command's pins hold: `--pin-hours`, else `localLibrary.pinHours` of the
/// pipeline's stock-assets.json, else 24 hours.
struct PinLifetimeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How long the pin holds (default: localLibrary.pinHours, else 24).", valueName: "hours"))
    var pinHours: Double?

    @Option(
        help: ArgumentHelp(
            "The pipeline's stock-assets.json, for localLibrary.pinHours (default: ./config/stock-assets.json if present).",
            valueName: "file"))
    var stockConfig: String?

    func validate() throws {
        try Self.validate(hours: pinHours)
    }

    static func validate(hours: Double?) throws {
        if let hours, !LocalLibrarySettings.pinHoursRange.contains(hours) {
            throw ValidationError("--pin-hours must be a number of hours from 0.01 to 8760, not \(hours)")
        }
    }

    func duration() throws(MediaError) -> Duration {
        if let pinHours { return LocalLibrarySettings().pinLifetime(hours: pinHours) }
        return try LocalLibrarySettings.load(explicitFile: stockConfig, workingDirectory: workingDirectory).pinLifetime(hours: nil)
    }
}

/// `--pin RUN` and its lifetime, for the commands whose results a gather run goes on to use.
struct PinOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Pin the assets for this gather run: GC keeps them until the pin expires or `mediaq unpin RUN`.", valueName: "run-id"))
    var pin: String?

    @OptionGroup var lifetime: PinLifetimeOptions

    func validate() throws {
        try Self.validate(run: pin)
    }

    static func validate(run: String?) throws {
        if let run, run.isEmpty || run.count > 200 { throw ValidationError("--pin must be a run id of 1 to 200 characters") }
    }
}

struct UseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "use",
        abstract: "Mark assets used now (gather's markUsed): later searches rank them lower for a while.",
        discussion: """
            All or nothing: when an id names no present asset, nothing is marked and the command \
            exits 65 naming it. With --pin RUN they are also pinned for the run (GC keeps them; \
            `mediaq pins` lists pins). With --json: {"ok", "used": [{"id", "lastUsedAt", "useCount"}], \
            "pinned": run-id or null}.

            Exit codes: 0 marked; 2 usage; 65 unknown id; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Asset ids.", valueName: "id"))
    var ids: [Int64]

    @OptionGroup var pinning: PinOptions

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one asset id") }
    }

    struct Report: Encodable {
        let ok = true
        let used: [UsageRepository.Use]
        let pinned: String?
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            let lifetime = try pinning.lifetime.duration()
            let (ids, run) = (ids, pinning.pin)
            let uses = try await withOpenLibrary(configuration, logger: logger) { (_, connection) throws(MediaError) in
                try await UsageRepository(connection: connection, logger: logger).record(ids, pinFor: run, pinLifetime: lifetime)
            }
            if options.json {
                JSONOutput.print(Report(used: uses, pinned: run))
            } else {
                for use in uses { print("used #\(use.id) (\(use.useCount)×)") }
                if let run { print("pinned \(uses.count) asset(s) for run \(run)") }
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
            "absolutePath", "sourceUrl"}], "unknown": [ids], "blocked": [ids]}; a provider id with several files \
            (renditions) is listed once per file. No ids (a search that found nothing) is \
            answered with empty lists. With --pin RUN the known assets, which gather reuses \
            instead of downloading, are pinned for the run. Ids of content an operator blocked \
            (`mediaq block`) are listed in "blocked", not in "unknown": do not download them.

            Exit codes: 0 answered (whatever is known); 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("The provider, e.g. pexels.", valueName: "name"))
    var provider: String

    @Argument(help: ArgumentHelp("The provider's own asset ids.", valueName: "id"))
    var ids: [String] = []

    @OptionGroup var pinning: PinOptions

    var normalizedProvider: String { provider.trimmingCharacters(in: .whitespaces).lowercased() }

    func validate() throws {
        if normalizedProvider.range(of: "^[a-z0-9][a-z0-9._-]{0,63}$", options: .regularExpression) == nil {
            throw ValidationError("--provider must be letters, digits, '.', '_' or '-' (at most 64)")
        }
    }

    struct Report: Encodable {
        let ok = true
        let provider: String
        let known: [UsageRepository.KnownAsset]
        let unknown: [String]
        let blocked: [String]
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            // No ids (a provider search that found nothing) is a question with an empty answer.
            let pinning = pinning
            var blocked: Set<String> = []
            let known: [UsageRepository.KnownAsset] =
                ids.isEmpty
                ? []
                : try await withOpenLibrary(configuration, logger: logger) {
                    (library, connection) throws(MediaError) -> [UsageRepository.KnownAsset] in
                    let usage = UsageRepository(connection: connection, logger: logger)
                    let known = try await usage.known(provider: normalizedProvider, providerIds: ids, root: library.root.path)
                    // Gather reuses what is known instead of downloading it: held for its run.
                    if let run = pinning.pin, !known.isEmpty {
                        try await usage.record(
                            known.map(\.libraryId), markUsed: false, pinFor: run, pinLifetime: try pinning.lifetime.duration())
                    }
                    let knownIds = Set(known.map(\.providerId))
                    blocked = try await BlockRepository(connection: connection, logger: logger)
                        .blockedIds(provider: normalizedProvider, providerAssetIds: ids.filter { !knownIds.contains($0) })
                    return known
                }
            let knownIds = Set(known.map(\.providerId))
            var unknown: [String] = []
            for id in ids where !knownIds.contains(id) && !blocked.contains(id) && !unknown.contains(id) { unknown.append(id) }
            if options.json {
                JSONOutput.print(Report(provider: normalizedProvider, known: known, unknown: unknown, blocked: blocked.sorted()))
            } else {
                for asset in known {
                    print(
                        "known    \(normalizedProvider) \(asset.providerId) → #\(asset.libraryId) \(asset.kind.rawValue) \(asset.absolutePath)"
                    )
                }
                for id in unknown { print("unknown  \(normalizedProvider) \(id)") }
                for id in blocked.sorted() { print("blocked  \(normalizedProvider) \(id)") }
            }
        } catch {
            throw fail(error, program: "mediaq known", json: options.json)
        }
    }
}

struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove the records of lost assets (originals gone from the disk; see `mediaq doctor`).",
        discussion: """
            All or nothing: every id must name an asset marked lost, or nothing is removed. Its \
            rows, thumbnail and metadata file go, by the same crash-safe steps as GC. If the same \
            bytes are dropped later they are a new asset, without the old tags; an asset that is \
            only lost comes back with its tags when its bytes are dropped again.

            With --json: {"ok", "forgotten": [ids], "dryRun"}.

            Exit codes: 0 done; 65 an id is unknown or not lost (nothing removed); 2 usage; \
            75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("Ids of lost assets.", valueName: "id"))
    var ids: [Int64]

    @Flag(help: "Say what would be removed; remove nothing.")
    var dryRun = false

    struct Report: Encodable {
        let ok = true
        let forgotten: [Int64]
        let dryRun: Bool
    }

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name at least one asset id") }
    }

    func run() async throws {
        let logger = options.makeLogger()
        let (ids, dryRun) = (Array(Set(ids)).sorted(), dryRun)
        do {
            let configuration = try await options.library.load()
            let forgotten = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (library, connection) throws(MediaError) in
                let states = try await MaintenanceRepository(connection: connection, logger: logger).states(of: ids)
                let refused = ids.filter { states[$0] != "lost" }
                if !refused.isEmpty {
                    let reasons = refused.map { id in states[id].map { "\(id) is \($0)" } ?? "\(id) does not exist" }
                    throw MediaError(
                        .assetNotFound, "only lost assets can be forgotten: \(reasons.joined(separator: ", ")); nothing was removed")
                }
                if dryRun { return ids }
                let collector = GarbageCollector(connection: connection, root: library.root.path, logger: logger)
                var done: [Int64] = []
                for id in ids where try await collector.forget(id) { done.append(id) }
                return done
            }
            if options.json {
                JSONOutput.print(Report(forgotten: forgotten, dryRun: dryRun))
            } else {
                let verb = dryRun ? "would forget" : "forgot"
                print("\(verb) \(forgotten.count) lost asset(s): \(forgotten.map(String.init).joined(separator: " "))")
            }
        } catch {
            throw fail(error, program: "mediaq forget", json: options.json)
        }
    }
}

struct PinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin",
        abstract: "Pin assets for a gather run, or extend the run's pins (--extend).",
        discussion: """
            `mediaq pin RUN ID…` pins the assets without marking them used; `mediaq pin --extend \
            RUN` makes every pin of the run hold for --pin-hours (default: localLibrary.pinHours, \
            else 24) from now, or longer if it already did. A pin never shortens. All or \
            nothing: an id that names no present asset pins nothing (65).

            With --json: {"ok", "runId", "pinned": count, "extended": count}.

            Exit codes: 0 done; 2 usage; 65 unknown id; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("The gather run's id.", valueName: "run-id"))
    var runId: String

    @Argument(help: ArgumentHelp("Asset ids to pin.", valueName: "id"))
    var ids: [Int64] = []

    @Flag(help: "Extend the run's existing pins.")
    var extend = false

    @OptionGroup var lifetime: PinLifetimeOptions

    func validate() throws {
        try PinOptions.validate(run: runId)
        if ids.isEmpty && !extend { throw ValidationError("name asset ids to pin, or --extend the run's pins") }
    }

    struct Report: Encodable {
        let ok = true
        let runId: String
        let pinned: Int
        let extended: Int
    }

    func run() async throws {
        let logger = options.makeLogger()
        let (ids, extend, runId) = (ids, extend, runId)
        do {
            let configuration = try await options.library.load()
            let duration = try lifetime.duration()
            let (pinned, extended) = try await withOpenLibrary(configuration, logger: logger) { (_, connection) throws(MediaError) in
                let usage = UsageRepository(connection: connection, logger: logger)
                let pinned = ids.isEmpty ? 0 : try await usage.record(ids, markUsed: false, pinFor: runId, pinLifetime: duration).count
                let extended = extend ? try await usage.extend(run: runId, lifetime: duration) : 0
                return (pinned, extended)
            }
            if options.json {
                JSONOutput.print(Report(runId: runId, pinned: pinned, extended: extended))
            } else {
                if !ids.isEmpty { print("pinned \(pinned) asset(s) for run \(runId)") }
                if extend { print("extended \(extended) pin(s) of run \(runId)") }
            }
        } catch {
            throw fail(error, program: "mediaq pin", json: options.json)
        }
    }
}

struct PinsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pins",
        abstract: "List the live pins, per gather run.",
        discussion: """
            With --json: {"ok", "runs": [{"runId", "assets": [ids], "bytes", "firstPinnedAt", \
            "expiresFrom", "expiresUntil"}]}, the soonest to expire first.

            Exit codes: 0 done; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("Only this run.", valueName: "run-id"))
    var run: String?

    struct Report: Encodable {
        let ok = true
        let runs: [UsageRepository.RunPins]
    }

    func run() async throws {
        let logger = options.makeLogger()
        let run = run
        do {
            let configuration = try await options.library.load()
            let runs = try await withOpenLibrary(configuration, logger: logger) { (_, connection) throws(MediaError) in
                try await UsageRepository(connection: connection, logger: logger).livePins(run: run)
            }
            if options.json {
                JSONOutput.print(Report(runs: runs))
                return
            }
            if runs.isEmpty { print("no live pins") }
            for pins in runs {
                print(
                    "\(pins.runId)  \(pins.assets.count) asset(s), \(ByteCount.format(pins.bytes)), "
                        + "expire \(pins.expiresFrom.formatted(.iso8601))"
                        + (pins.expiresUntil == pins.expiresFrom ? "" : " to \(pins.expiresUntil.formatted(.iso8601))"))
            }
        } catch {
            throw fail(error, program: "mediaq pins", json: options.json)
        }
    }
}
