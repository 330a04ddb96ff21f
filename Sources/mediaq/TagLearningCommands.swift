import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore

/// `mediaq tags learn`: relations from the tags the library's assets carry together.
struct LearnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Learn related tags from the library: tags its assets carry together.",
        discussion: """
            Scores every pair of tags on the present, non-hidden assets by normalised pointwise \
            mutual information, NPMI = ln(N·n_ab/(n_a·n_b)) / −ln(n_ab/N), and keeps the pairs on \
            at least --min-support assets with NPMI at least --min-npmi, both ways, as relation \
            `cooccurs` from source `library`, weighing 0.8·NPMI; each tag keeps its 20 strongest. \
            They replace the library's previous ones in one transaction (nothing is rewritten \
            when they are the same). mediad does this in the background (daemon.learnTagsHours). \
            See docs/search.md, "Learned from the library".

            With --json: {"ok", "source", "version", "relations", "tags", "assets", "changed", \
            "dryRun", "seconds"}.

            Exit codes: 0 done; 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("Assets that must carry both tags of a pair (default 5).", valueName: "n"))
    var minSupport = CooccurrenceSettings().minimumSupport

    @Option(name: .customLong("min-npmi"), help: ArgumentHelp("Lowest NPMI kept, above 0 to 1 (default 0.5).", valueName: "x"))
    var minNPMI = CooccurrenceSettings().minimumNPMI

    @Flag(help: "Compute and report, store nothing.")
    var dryRun = false

    struct Report: Encodable {
        let ok = true
        let source: String
        let version: String
        let relations: Int
        let tags: Int
        let assets: Int
        let changed: Bool
        let dryRun: Bool
        let seconds: Double
    }

    func validate() throws {
        if !CooccurrenceSettings.supportRange.contains(minSupport) {
            throw ValidationError(
                "--min-support must be \(CooccurrenceSettings.supportRange.lowerBound) to \(CooccurrenceSettings.supportRange.upperBound)")
        }
        if !(minNPMI > 0 && minNPMI <= 1) { throw ValidationError("--min-npmi must be more than 0 and at most 1") }
    }

    func run() async throws {
        let logger = options.makeLogger()
        var settings = CooccurrenceSettings()
        settings.minimumSupport = minSupport
        settings.minimumNPMI = minNPMI
        let (learnSettings, dryRun) = (settings, dryRun)
        do {
            let started = ContinuousClock.now
            let configuration = try await options.library.load()
            let learned = try await withOpenLibrary(configuration, logger: logger, mode: dryRun ? .reader : .maintenance) {
                (_, connection) throws(MediaError) in
                try await TagRelationRepository(connection: connection, logger: logger).learnFromLibrary(learnSettings, dryRun: dryRun)
            }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            if options.json {
                JSONOutput.print(
                    Report(
                        source: learned.source, version: learned.version, relations: learned.relations, tags: learned.tags,
                        assets: learned.assets, changed: learned.changed, dryRun: learned.dryRun,
                        seconds: (seconds * 1000).rounded() / 1000))
                return
            }
            let what = "\(learned.relations) relations between \(learned.tags) tags from \(learned.assets) assets"
            let outcome =
                learned.dryRun ? "would store" : learned.changed ? "learned" : "learned the same"
            print("\(outcome) \(what) (\(learned.version)) in \(TextFormat.fixed(seconds, digits: 1)) s")
        } catch {
            throw fail(error, program: "mediaq tags learn", json: options.json)
        }
    }
}

/// The one normalised tag an alias argument names.
private func aliasTag(_ text: String) throws -> String {
    let tags = TagNormalizer.normalize(text)
    if tags.isEmpty { throw ValidationError("'\(text)' has no tag left after normalisation") }
    if tags.count > 1 { throw ValidationError("'\(text)' is a list of tags (\(tags.joined(separator: ", "))); name one") }
    return tags[0]
}

/// Both arguments of `alias` and `unalias`, normalised and different.
private func aliasPair(_ first: String, _ second: String) throws -> (String, String) {
    let (tag, alias) = (try aliasTag(first), try aliasTag(second))
    if tag == alias { throw ValidationError("'\(first)' and '\(second)' are the same tag, \(tag)") }
    return (tag, alias)
}

struct AliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias",
        abstract: "Make two tags aliases of each other: a search for either finds the other.",
        discussion: """
            Stores the relation `alias` from source `operator`, both ways, weighing 1, and keeps \
            every alias in <root>/aliases.json, which a reindex reads; both tags \
            are normalised as tags are. Making an alias that exists changes nothing.

            With --json: {"ok", "tag", "alias", "changed"}.

            Exit codes: 0 done (also when the alias existed); 2 usage (a tag that normalises to \
            nothing or to a list, the same tag twice); 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("A tag.", valueName: "tag"))
    var tag: String

    @Argument(help: ArgumentHelp("The tag that means the same.", valueName: "alias"))
    var alias: String

    struct Report: Encodable {
        let ok = true
        let tag: String
        let alias: String
        let changed: Bool
    }

    func validate() throws { _ = try aliasPair(tag, alias) }

    func run() async throws {
        let logger = options.makeLogger()
        let (tag, alias) = try aliasPair(tag, alias)
        do {
            let configuration = try await options.library.load()
            let added = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (library, connection) throws(MediaError) in
                let relations = TagRelationRepository(connection: connection, logger: logger)
                let added = try await relations.addAlias(tag, alias)
                await relations.writeAliasList(root: library.root.path)
                return added
            }
            if options.json {
                JSONOutput.print(Report(tag: tag, alias: alias, changed: added))
            } else {
                print(added ? "\(tag) ~ \(alias): alias stored" : "\(tag) ~ \(alias): already an alias")
            }
        } catch {
            throw fail(error, program: "mediaq tags alias", json: options.json)
        }
    }
}

struct UnaliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unalias",
        abstract: "Remove the alias between two tags, both ways.",
        discussion: """
            Removes only an operator's alias; relations from WordNet or learned from the \
            library stay.

            With --json: {"ok", "tag", "alias", "changed"}.

            Exit codes: 0 removed; 2 usage; 65 there was no such alias (nothing removed; code \
            not_found); 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("A tag.", valueName: "tag"))
    var tag: String

    @Argument(help: ArgumentHelp("Its alias.", valueName: "alias"))
    var alias: String

    func validate() throws { _ = try aliasPair(tag, alias) }

    func run() async throws {
        let logger = options.makeLogger()
        let (tag, alias) = try aliasPair(tag, alias)
        do {
            let configuration = try await options.library.load()
            try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) { (library, connection) throws(MediaError) in
                let relations = TagRelationRepository(connection: connection, logger: logger)
                guard try await relations.removeAlias(tag, alias) else {
                    throw MediaError(.assetNotFound, "\(tag) and \(alias) are not aliases: nothing removed")
                }
                await relations.writeAliasList(root: library.root.path)
            }
            if options.json {
                JSONOutput.print(AliasCommand.Report(tag: tag, alias: alias, changed: true))
            } else {
                print("\(tag) ~ \(alias): alias removed")
            }
        } catch {
            throw fail(error, program: "mediaq tags unalias", json: options.json)
        }
    }
}

struct AliasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aliases",
        abstract: "List the operator's aliases.",
        discussion: """
            With --json: {"ok", "aliases": [{"tag", "alias"}]}, each pair once, in order.

            Exit codes: 0 done; 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    struct Report: Encodable {
        let ok = true
        let aliases: [TagRelationRepository.Alias]
    }

    func run() async throws {
        let logger = options.makeLogger()
        do {
            let configuration = try await options.library.load()
            let aliases = try await withOpenLibrary(configuration, logger: logger) { (_, connection) throws(MediaError) in
                try await TagRelationRepository(connection: connection, logger: logger).aliases()
            }
            if options.json {
                JSONOutput.print(Report(aliases: aliases))
                return
            }
            if aliases.isEmpty { print("no aliases") }
            for alias in aliases { print("\(alias.tag) ~ \(alias.alias)") }
        } catch {
            throw fail(error, program: "mediaq tags aliases", json: options.json)
        }
    }
}
