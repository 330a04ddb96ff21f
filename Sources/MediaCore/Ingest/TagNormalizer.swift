import Foundation

/// The one normalisation every tag goes through, stored or queried:
///
/// 1. Unicode NFKC (compatibility forms fold: `ｆｕｌｌ` → `full`, `ﬁ` → `fi`), then lowercase.
/// 2. A text is a list: it splits on `,` `;` `|` `/`.
/// 3. Runs of whitespace, `_` and `-` become one space (`new_york`, `new-york` → `new york`).
/// 4. Punctuation and symbols are trimmed from both ends (`#beach!` → `beach`); inside a tag
///    they stay (`rock'n'roll`, `4k`).
/// 5. Empty tags and repeats are dropped, first occurrence kept, order kept.
/// 6. A tag longer than `maximumLength` characters is cut at a character boundary.
public enum TagNormalizer {
    public static let maximumLength = 64
    static let separators: Set<Character> = [",", ";", "|", "/"]

    /// Normalises tags given one by one, each of which may itself be a list.
    public static func normalize(_ inputs: [String]) -> [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for input in inputs {
            for tag in normalize(input) where seen.insert(tag).inserted {
                result.append(tag)
            }
        }
        return result
    }

    /// Normalises one text, which may be a list such as `"Beach, sunset | sea"`.
    public static func normalize(_ text: String) -> [String] {
        let folded = text.precomposedStringWithCompatibilityMapping.lowercased()
        var seen: Set<String> = []
        var result: [String] = []
        for piece in folded.split(whereSeparator: { separators.contains($0) }) {
            guard let tag = clean(piece), seen.insert(tag).inserted else { continue }
            result.append(tag)
        }
        return result
    }

    private static let edgeTrimmed = CharacterSet.whitespacesAndNewlines
        .union(.punctuationCharacters).union(.symbols).union(.controlCharacters)

    private static func clean(_ piece: Substring) -> String? {
        var current = ""
        var spaced = ""
        for character in piece {
            if character.isWhitespace || character == "_" || character == "-" {
                if !current.isEmpty {
                    spaced += (spaced.isEmpty ? "" : " ") + current
                    current = ""
                }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { spaced += (spaced.isEmpty ? "" : " ") + current }
        let trimmed = spaced.trimmingCharacters(in: edgeTrimmed)
        guard !trimmed.isEmpty else { return nil }
        let capped = trimmed.count > maximumLength ? String(trimmed.prefix(maximumLength)) : trimmed
        let result = capped.trimmingCharacters(in: .whitespaces)
        return result.isEmpty ? nil : result
    }
}
