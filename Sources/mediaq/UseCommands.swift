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
            (renditions) is listed once per file. No ids (a search that found nothing) is \
            answered with empty lists.

            Exit codes: 0 answered (whatever is known); 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("The provider, e.g. pexels.", valueName: "name"))
    var provider: String

    @Argument(help: ArgumentHelp("The provider's own asset ids.", valueName: "id"))
    var ids: [String] = []

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
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            // No ids (a provider search that found nothing) is a question with an empty answer.
            let known =
                ids.isEmpty
                ? []
                : try await withOpenLibrary(configuration, logger: logger) { (library, connection) throws(MediaError) in
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
                    print(
                        "known    \(normalizedProvider) \(asset.providerId) → #\(asset.libraryId) \(asset.kind.rawValue) \(asset.absolutePath)"
                    )
                }
                for id in unknown { print("unknown  \(normalizedProvider) \(id)") }
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
