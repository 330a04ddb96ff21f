public import Foundation

/// Related words from Princeton WordNet 3.0's database files (Debian's `wordnet-base`, in
/// `/usr/share/wordnet`), as relations between normalised tags. Pure: the files' text in,
/// relations out; `TagRelationRepository` stores them.
///
/// A `data.noun` or `data.adj` line is one synset (its format: wndb(5WN)):
///
///     02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 023 @ 02083346 n 0000 … | gloss
///
/// offset, lexicographer file, part of speech, the word count in hexadecimal, each word with its
/// lexical id, the pointer count in decimal, each pointer (symbol, target offset, part of speech,
/// source/target), then the gloss. Relations, each with its weight (how much a match through it
/// counts against an exact match, docs/search.md):
///
/// | relation   | from the files                                    | weight |
/// |------------|---------------------------------------------------|--------|
/// | `synonym`  | two words of one synset (`car` ~ `automobile`)     | 0.9    |
/// | `similar`  | adjectives linked by `&` (`wet` ~ `damp`)           | 0.7    |
/// | `broader`  | a noun to its hypernym's words, `@`/`@i` (`puppy` → `dog`) | 0.6 |
/// | `narrower` | a noun to its hyponyms' words, `~`/`~i` (`dog` → `puppy`)  | 0.5 |
///
/// Only nouns and adjectives: tags name things and their looks. Words are normalised as tags
/// are (`domestic_dog` → `domestic dog`); an adjective's syntactic marker (`(a)`, `(p)`, `(ip)`)
/// is dropped. A word related to itself is not a relation.
public enum WordNet {
    public enum Relation: String, Sendable, CaseIterable, Codable {
        case synonym, similar, broader, narrower

        public var weight: Double {
            switch self {
            case .synonym: 0.9
            case .similar: 0.7
            case .broader: 0.6
            case .narrower: 0.5
            }
        }
    }

    /// One related pair: `related` is `relation` of `term`.
    public struct Link: Sendable, Hashable {
        public let term: String
        public let related: String
        public let relation: Relation
    }

    struct Synset: Equatable {
        let offset: Int
        let words: [String]
        /// (symbol, target offset) of the pointers within the same part of speech.
        let pointers: [(symbol: Substring, target: Int)]

        static func == (a: Synset, b: Synset) -> Bool {
            a.offset == b.offset && a.words == b.words && a.pointers.map(\.symbol) == b.pointers.map(\.symbol)
                && a.pointers.map(\.target) == b.pointers.map(\.target)
        }
    }

    /// The synset of one data-file line; nil for the license header (lines starting with two
    /// spaces) and for a line that does not follow the format.
    static func synset(_ line: Substring) -> Synset? {
        guard let first = line.first, first.isNumber else { return nil }
        let body = line.split(separator: "|", maxSplits: 1).first ?? line
        let fields = body.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 5, let offset = Int(fields[0]), let pos = fields[2].first,
            let wordCount = Int(fields[3], radix: 16), fields.count >= 4 + 2 * wordCount + 1
        else { return nil }
        var words: [String] = []
        for index in 0..<wordCount {
            var word = fields[4 + 2 * index]
            if let marker = word.firstIndex(of: "(") { word = word[..<marker] }
            words.append(contentsOf: TagNormalizer.normalize(String(word)))
        }
        let pointerStart = 4 + 2 * wordCount
        guard let pointerCount = Int(fields[pointerStart]), fields.count >= pointerStart + 1 + 4 * pointerCount else { return nil }
        var pointers: [(symbol: Substring, target: Int)] = []
        for index in 0..<pointerCount {
            let at = pointerStart + 1 + 4 * index
            guard let target = Int(fields[at + 1]) else { return nil }
            // Pointers to another part of speech (derivations, pertainyms) are not used.
            let targetPos = fields[at + 2].first
            guard targetPos == pos || (pos == "s" && targetPos == "a") || (pos == "a" && targetPos == "s") else { continue }
            pointers.append((fields[at], target))
        }
        return Synset(offset: offset, words: words, pointers: pointers)
    }

    /// The relations of one data file's synsets, without repeats; `adjectives` for `data.adj`
    /// (whose `&` are similarity), else nouns (whose `@` and `~` are hypernymy and hyponymy).
    static func links(_ synsets: [Synset], adjectives: Bool) -> Set<Link> {
        let byOffset = Dictionary(synsets.map { ($0.offset, $0) }, uniquingKeysWith: { first, _ in first })
        var links: Set<Link> = []
        func add(_ terms: [String], _ related: [String], _ relation: Relation) {
            for term in terms {
                for other in related where other != term { links.insert(Link(term: term, related: other, relation: relation)) }
            }
        }
        for synset in synsets {
            add(synset.words, synset.words, .synonym)
            for pointer in synset.pointers {
                guard let target = byOffset[pointer.target] else { continue }
                switch (adjectives, pointer.symbol) {
                case (true, "&"): add(synset.words, target.words, .similar)
                case (false, "@"), (false, "@i"): add(synset.words, target.words, .broader)
                case (false, "~"), (false, "~i"): add(synset.words, target.words, .narrower)
                default: continue
                }
            }
        }
        return links
    }

    static let files = [("data.noun", false), ("data.adj", true)]

    /// A version that names the data in `directory` without reading it: the files' sizes and
    /// modification times (a new package gives a new version). Throws `wordnet_missing` when
    /// the files are not there.
    public static func version(directory: String) throws(MediaError) -> String {
        var stamps: [String] = []
        for (file, _) in files {
            let path = directory + "/" + file
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                let size = attributes[.size] as? Int
            else {
                throw MediaError(
                    .wordNetMissing,
                    "cannot read \(path): install Debian's wordnet-base (scripts/install-deps.sh does), or give --path")
            }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            stamps.append("\(file):\(size):\(Int(modified))")
        }
        return "wordnet-3.0 " + stamps.joined(separator: " ")
    }

    /// `load(directory:)` on a thread of its own: it reads for seconds (a minute in a debug
    /// build), which on the cooperative pool would stall the process's other tasks.
    public static func read(directory: String) async throws(MediaError) -> [Link] {
        try await onOwnThread { () throws(MediaError) in try load(directory: directory) }
    }

    /// Every relation of `data.noun` and `data.adj` in `directory`, sorted.
    public static func load(directory: String) throws(MediaError) -> [Link] {
        var links: Set<Link> = []
        for (file, adjectives) in files {
            let path = directory + "/" + file
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MediaError(
                    .wordNetMissing,
                    "cannot read \(path): install Debian's wordnet-base (scripts/install-deps.sh does), or give --path")
            }
            let synsets = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap(synset)
            links.formUnion(Self.links(synsets, adjectives: adjectives))
        }
        return links.sorted { ($0.term, $0.related, $0.relation.rawValue) < ($1.term, $1.related, $1.relation.rawValue) }
    }
}
