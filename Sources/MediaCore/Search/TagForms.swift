/// Simple English singular and plural forms, so that a query for `cars` finds assets tagged
/// `car` and a query for `city` finds `cities`.
///
/// Only the last word of a tag changes (`red cars` → `red car`), only when it is made of
/// letters and at least three of them long, and only by these rules (they can produce a form no
/// one uses, such as `boxe` from `boxes`; such a form matches nothing and costs nothing):
///
/// | the word ends in | singular forms | plural form |
/// |------------------|----------------|-------------|
/// | `ies`            | `…y`, `…ie` (`cities` → `city`, `movies` → `movie`) | |
/// | `es`             | `…` and `…e` (`beaches` → `beach`, `houses` → `house`) | |
/// | `s` (not `ss`, `us`, `is`) | `…` (`cars` → `car`) | |
/// | consonant + `y`  | | `…ies` (`city` → `cities`) |
/// | `s` `x` `z` `ch` `sh` | | `…es` (`bus` → `buses`, `beach` → `beaches`) |
/// | anything else    | | `…s` (`car` → `cars`, `day` → `days`) |
///
/// A few common irregular nouns are listed both ways (`person` ↔ `people`, `child` ↔
/// `children`, `man` ↔ `men`, …).
public enum TagForms {
    static let irregular: [String: String] = [
        "person": "people", "child": "children", "man": "men", "woman": "women", "mouse": "mice",
        "foot": "feet", "tooth": "teeth", "goose": "geese", "leaf": "leaves", "knife": "knives",
        "wife": "wives", "life": "lives", "wolf": "wolves", "shelf": "shelves", "fish": "fish",
        "sheep": "sheep", "deer": "deer", "ox": "oxen",
    ]
    static let irregularSingular: [String: String] = Dictionary(
        irregular.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })

    /// The tag itself first, then its other forms, without repeats.
    public static func forms(of tag: String) -> [String] {
        var result = [tag]
        let head: Substring
        let word: Substring
        if let space = tag.lastIndex(of: " ") {
            head = tag[...space]
            word = tag[tag.index(after: space)...]
        } else {
            head = ""
            word = tag[...]
        }
        for form in wordForms(String(word)) where !result.contains(head + form) {
            result.append(head + form)
        }
        return result
    }

    static func wordForms(_ word: String) -> [String] {
        if let plural = irregular[word] { return [plural] }
        if let singular = irregularSingular[word] { return [singular] }
        guard word.count >= 3, word.allSatisfy(\.isLetter) else { return [] }
        if word.hasSuffix("s") && !word.hasSuffix("ss") && !word.hasSuffix("us") && !word.hasSuffix("is") {
            let stem = String(word.dropLast())
            if word.hasSuffix("ies") { return [String(word.dropLast(3)) + "y", stem] }
            if word.hasSuffix("es") { return [String(word.dropLast(2)), stem] }
            return [stem]
        }
        if word.hasSuffix("y"), let before = word.dropLast().last, !"aeiou".contains(before) {
            return [String(word.dropLast()) + "ies"]
        }
        if ["s", "x", "z", "ch", "sh"].contains(where: { word.hasSuffix($0) }) {
            return [word + "es"]
        }
        return [word + "s"]
    }
}

/// The tags of a query as search uses them: normalised as stored tags are, each with the
/// forms that count as a match for it.
public struct QueryTags: Sendable, Equatable {
    /// The distinct query tags, in the order given. |Q| is their count.
    public let terms: [String]
    /// For each term, the stored tag names that match it: the term and its forms (and any
    /// stored name equal to one of them with diacritics folded, `foldedForms`).
    public let forms: [[String]]
    /// For each term, its forms with diacritics folded (`TagFolding`).
    public let foldedForms: [Set<String>]

    /// Normalises `raw` (each element may be a comma-separated list) with `TagNormalizer`. A
    /// tag whose forms overlap an earlier tag's, diacritics folded, is the same query tag
    /// (`car, cars` is one tag, and so is `café, cafe`).
    public init(_ raw: [String]) {
        var terms: [String] = []
        var forms: [[String]] = []
        for tag in TagNormalizer.normalize(raw) {
            let candidate = TagForms.forms(of: tag)
            let folded = Set(candidate.map(TagFolding.fold))
            if forms.contains(where: { !Set($0.map(TagFolding.fold)).isDisjoint(with: folded) }) { continue }
            terms.append(tag)
            forms.append(candidate)
        }
        self.terms = terms
        self.forms = forms
        foldedForms = forms.map { Set($0.map(TagFolding.fold)) }
    }

    public var count: Int { terms.count }
    public var isEmpty: Bool { terms.isEmpty }

    /// How many terms an asset with `tags` matches: m = |Q ∩ T|, diacritics folded.
    public func matches(in tags: Set<String>) -> Int {
        let folded = Set(tags.map(TagFolding.fold))
        return foldedForms.count { !$0.isDisjoint(with: folded) }
    }

    /// Whether `tag` is one of term `index`'s forms, diacritics folded.
    public func matches(_ tag: String, term index: Int) -> Bool {
        foldedForms[index].contains(TagFolding.fold(tag))
    }

    /// The (term index, tag name) pairs the SQL joins against the tag table.
    var pairs: (terms: [Int32], names: [String]) {
        var indexes: [Int32] = []
        var names: [String] = []
        for (index, list) in forms.enumerated() {
            for name in list {
                indexes.append(Int32(index))
                names.append(name)
            }
        }
        return (indexes, names)
    }
}
