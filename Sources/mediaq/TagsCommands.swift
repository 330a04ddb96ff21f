import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore

/// `mediaq tags …`: the relations between tags that search falls back on.
struct TagsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tags",
        abstract: "Relations between tags: synonyms, broader or narrower words, tags used together, aliases.",
        subcommands: [
            WordNetCommand.self, LearnCommand.self, AliasCommand.self, UnaliasCommand.self, AliasesCommand.self, RelatedCommand.self,
        ])
}

struct WordNetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wordnet",
        abstract: "Load WordNet's synonyms and broader and narrower nouns into the library's database.",
        discussion: """
            Reads data.noun and data.adj of Princeton WordNet 3.0 (Debian's wordnet-base, in \
            /usr/share/wordnet; scripts/install-deps.sh installs it) and replaces the \
            library's WordNet relations with them in one transaction: synonyms (one synset, \
            weight 0.9), similar adjectives (0.7), a noun's broader words (its hypernyms, 0.6) \
            and narrower words (its hyponyms, 0.5). Loading the same data again changes \
            nothing (--force loads it anyway). `mediaq tags related TAG` shows the result.

            With --json: {"ok", "source", "version", "relations", "changed"}.

            Exit codes: 0 done; 2 usage, or the data files are missing; 75 database or library \
            root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("Where WordNet's data files are.", valueName: "dir"))
    var path = "/usr/share/wordnet"

    @Flag(help: "Load even when the same data is loaded already.")
    var force = false

    struct Report: Encodable {
        let ok = true
        let source: String
        let version: String
        let relations: Int
        let changed: Bool
    }

    func run() async throws {
        let logger = options.makeLogger()
        let (path, force) = (path, force)
        do {
            let started = ContinuousClock.now
            let version = try WordNet.version(directory: path)
            let configuration = try await options.library.load()
            let loaded = try await withOpenLibrary(configuration, logger: logger, mode: .maintenance) {
                (_, connection) throws(MediaError) in
                try await TagRelationRepository(connection: connection, logger: logger).loadWordNet(version: version, force: force) {
                    () async throws(MediaError) in
                    let links = try await WordNet.read(directory: path)
                    logger.info("read WordNet", metadata: ["relations": "\(links.count)", "version": "\(version)"])
                    return links
                }
            }
            if options.json {
                JSONOutput.print(
                    Report(source: loaded.source, version: loaded.version, relations: loaded.relations, changed: loaded.changed))
            } else {
                let seconds = (ContinuousClock.now - started) / .seconds(1)
                print(
                    (loaded.changed ? "loaded" : "already loaded:") + " \(loaded.relations) WordNet relations (\(loaded.version))"
                        + (loaded.changed ? " in \(TextFormat.fixed(seconds, digits: 1)) s" : ""))
            }
        } catch {
            throw fail(error, program: "mediaq tags wordnet", json: options.json)
        }
    }
}

struct RelatedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "related",
        abstract: "What a tag is related to, and why: the relation, where it came from, its weight.",
        discussion: """
            With --json: {"ok", "tag", "related": [{"tag", "relation", "source", "weight"}]}, \
            the strongest first.

            Exit codes: 0 done; 2 usage; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("The tag.", valueName: "tag"))
    var tag: String

    @Option(help: ArgumentHelp("At most this many relations.", valueName: "n"))
    var limit = 50

    struct Report: Encodable {
        let ok = true
        let tag: String
        let related: [TagRelationRepository.Related]
    }

    func validate() throws {
        if TagNormalizer.normalize(tag).isEmpty { throw ValidationError("'\(tag)' has no tag left after normalisation") }
        if !(1...10_000).contains(limit) { throw ValidationError("--limit must be 1 to 10000") }
    }

    func run() async throws {
        let logger = options.makeLogger()
        let (tag, limit) = (tag, limit)
        let term = TagNormalizer.normalize(tag)[0]
        do {
            let configuration = try await options.library.load()
            let related = try await withOpenLibrary(configuration, logger: logger) { (_, connection) throws(MediaError) in
                try await TagRelationRepository(connection: connection, logger: logger).related(to: term, limit: limit)
            }
            if options.json {
                JSONOutput.print(Report(tag: term, related: related))
                return
            }
            if related.isEmpty { print("\(term): no related tags") }
            for relation in related {
                print(
                    "\(term) → \(relation.tag)  \(relation.relation) (\(relation.source), weight \(TextFormat.fixed(relation.weight, digits: 2)))"
                )
            }
        } catch {
            throw fail(error, program: "mediaq tags related", json: options.json)
        }
    }
}
