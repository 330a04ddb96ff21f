/// The fallback's view of a query (docs/search.md, "When exact tags fall short"): each query
/// tag's exact forms, which count 1, and the tags related to them, which count `value` < 1.
///
/// A related tag counts `Scoring.relatedShare` × its relation's weight (a WordNet synonym's
/// 0.9 counts 0.45), rounded down to a multiple of 1/1024 so that sums of them are exact in
/// floating point, whatever order PostgreSQL adds them in. A related tag's plural and singular
/// forms count as it does; a name that is an exact form of the query tag stays exact; when two
/// relations lead to one name, the higher value is kept. Names compare with diacritics folded.
/// Pure: `SearchRepository` reads the relations and the SQL counts what this type counts.
public struct RelatedTags: Sendable, Equatable {
    /// One relation as read from `tag_relation`: `related` is `relation` of `term`.
    public struct Relation: Sendable, Equatable {
        public let term: String
        public let related: String
        public let relation: String
        public let source: String
        public let weight: Double

        public init(term: String, related: String, relation: String, source: String, weight: Double) {
            self.term = term
            self.related = related
            self.relation = relation
            self.source = source
            self.weight = weight
        }
    }

    /// How one name counts for one query tag, and why.
    public struct Expansion: Sendable, Equatable {
        /// The name as the relation gives it (a form of `relation.related`).
        public let name: String
        public let value: Double
        public let relation: Relation
    }

    public let query: QueryTags
    /// Per query tag, by folded name: the related names (never an exact form of that tag).
    public let expansions: [[String: Expansion]]

    /// At most this many related words per query tag (each with its forms), the highest values
    /// first: WordNet gives a common noun dozens of narrower words, each a set of rows to read.
    public static let maximumPerTag = 64
    /// A related tag takes part with at most this many of its assets, the least recently used
    /// (oldest last use, then lower id, after the request's filters): a generic tag that a
    /// relation reaches (`people` from `lovers`) would otherwise have all its thousands scored.
    /// An exact form takes part with every asset.
    public static let defaultRowsPerTag = 250
    public var rowsPerTag = defaultRowsPerTag

    /// `relations` are those whose `term` is one of a query tag's forms (others are ignored).
    public init(query: QueryTags, relations: [Relation]) {
        self.query = query
        var expansions: [[String: Expansion]] = []
        for (index, forms) in query.forms.enumerated() {
            let own = Set(forms)
            let exact = query.foldedForms[index]
            var best: [String: Expansion] = [:]
            for relation in relations where own.contains(relation.term) {
                let value = Self.value(weight: relation.weight)
                for name in TagForms.forms(of: relation.related) {
                    let folded = TagFolding.fold(name)
                    guard !exact.contains(folded) else { continue }
                    let candidate = Expansion(name: name, value: value, relation: relation)
                    if let current = best[folded], !Self.precedes(candidate, current) { continue }
                    best[folded] = candidate
                }
            }
            // The strongest `maximumPerTag` related words, each with all its forms.
            var words: Set<String> = []
            for expansion in best.values.sorted(by: Self.precedes) where words.count < Self.maximumPerTag {
                words.insert(expansion.relation.related)
            }
            expansions.append(best.filter { words.contains($0.value.relation.related) })
        }
        self.expansions = expansions
    }

    /// What a relation of `weight` counts for: `relatedShare` × weight, in 1/1024ths, rounded
    /// down, and at least one of them.
    public static func value(weight: Double) -> Double {
        max(1, (Scoring.relatedShare * weight * 1024).rounded(.down)) / 1024
    }

    /// A deterministic order: higher value, then the name, relation and source.
    static func precedes(_ a: Expansion, _ b: Expansion) -> Bool {
        if a.value != b.value { return a.value > b.value }
        return (a.name, a.relation.relation, a.relation.source, a.relation.term)
            < (b.name, b.relation.relation, b.relation.source, b.relation.term)
    }

    /// No query tag has a related name: the fallback would find what exact search found.
    public var isEmpty: Bool { expansions.allSatisfy(\.isEmpty) }

    /// The (term index, name, value) triples the SQL joins against the tag table: every exact
    /// form with 1, every related name with its value.
    var triples: (terms: [Int32], names: [String], values: [Double]) {
        var (terms, names, values) = ([Int32](), [String](), [Double]())
        for (index, forms) in query.forms.enumerated() {
            for form in forms {
                terms.append(Int32(index))
                names.append(form)
                values.append(1)
            }
            for expansion in expansions[index].values.sorted(by: Self.precedes) {
                terms.append(Int32(index))
                names.append(expansion.name)
                values.append(expansion.value)
            }
        }
        return (terms, names, values)
    }

    /// How an asset with `tags` matches each query tag: 1 through an exact form, else the best
    /// related value, else 0.
    public func values(in tags: some Sequence<String>) -> [Double] {
        matches(in: tags).map { $0?.value ?? 0 }
    }

    /// Each query tag's match among `tags` that gives the value the search counted (`values`,
    /// from the SQL, which knows which related tags an asset was reached through), nil where 0.
    public func matches(in tags: [String], values: [Double]) -> [MatchedVia?] {
        let best = matches(in: tags)
        return query.terms.indices.map { index in
            let value = index < values.count ? values[index] : 0
            guard value > 0 else { return nil }
            if let match = best[index], match.value == value { return match }
            // A better related tag of the asset was beyond its tag's share of rows: the one counted.
            let counted = tags.compactMap { tag in expansions[index][TagFolding.fold(tag)].map { (tag, $0) } }
                .filter { $0.1.value == value }
                .min { Self.precedes($0.1, $1.1) || ($0.1 == $1.1 && $0.0 < $1.0) }
            guard let (name, expansion) = counted else { return best[index] }
            return MatchedVia(
                queryTag: query.terms[index], tag: name, relation: expansion.relation.relation,
                source: expansion.relation.source, related: expansion.relation.related, value: value)
        }
    }

    /// Each query tag's best match among `tags`, nil where none.
    public func matches(in tags: some Sequence<String>) -> [MatchedVia?] {
        let folded = tags.map { (name: $0, folded: TagFolding.fold($0)) }
        return query.terms.indices.map { index in
            if let exact = folded.filter({ query.foldedForms[index].contains($0.folded) }).map(\.name).min() {
                return MatchedVia(queryTag: query.terms[index], tag: exact, relation: "exact", source: nil, related: nil, value: 1)
            }
            let found = folded.compactMap { tag in expansions[index][tag.folded].map { (tag.name, $0) } }
            guard let (name, best) = found.min(by: { Self.precedes($0.1, $1.1) || ($0.1 == $1.1 && $0.0 < $1.0) }) else {
                return nil
            }
            return MatchedVia(
                queryTag: query.terms[index], tag: name, relation: best.relation.relation, source: best.relation.source,
                related: best.relation.related, value: best.value)
        }
    }
}

/// Which of an asset's tags matched a query tag, and through what: `exact` (the tag or one of
/// its forms, diacritics folded), or a relation with its source and the value it counted.
public struct MatchedVia: Sendable, Equatable, Codable {
    /// The query tag, normalised.
    public let queryTag: String
    /// The asset's tag, as stored.
    public let tag: String
    /// `exact`, or the relation: `synonym`, `similar`, `broader`, `narrower`, `alias`, `cooccurs`.
    public let relation: String
    /// `wordnet`, `library` or `operator`; null for an exact match.
    public let source: String?
    /// The related word as the relation names it (the stored tag may be another form of it);
    /// null for an exact match.
    public let related: String?
    /// What the match counted: 1 exact, else `Scoring.relatedShare` × the relation's weight.
    public let value: Double

    public init(queryTag: String, tag: String, relation: String, source: String?, related: String?, value: Double) {
        self.queryTag = queryTag
        self.tag = tag
        self.relation = relation
        self.source = source
        self.related = related
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case queryTag, tag, relation, source, related, value }

    /// Every key always, `null` when absent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(queryTag, forKey: .queryTag)
        try container.encode(tag, forKey: .tag)
        try container.encode(relation, forKey: .relation)
        try container.encode(source, forKey: .source)
        try container.encode(related, forKey: .related)
        try container.encode(value, forKey: .value)
    }
}
