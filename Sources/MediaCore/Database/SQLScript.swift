import Foundation

/// Splits a SQL script into statements, for drivers that accept one statement at a time.
///
/// A `;` ends a statement unless it is inside a quoted string (`'…'`, `E'…'`), a quoted
/// identifier (`"…"`), a dollar-quoted body (`$$…$$`, `$tag$…$tag$`), or a comment (`-- …`,
/// nested `/* … */`). Statements are returned trimmed, without their `;`, and empty ones
/// (only whitespace or comments) are dropped.
public enum SQLScript {
    public static func statements(in script: String) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var hasCode = false
        var index = 0

        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if hasCode && !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
            hasCode = false
        }
        func peek(_ offset: Int) -> Unicode.Scalar? {
            index + offset < characters.count ? characters[index + offset] : nil
        }
        /// Copies characters up to and including `terminator`, or to the end.
        func copy(until terminator: [Unicode.Scalar]) {
            while index < characters.count {
                if Array(characters[index..<min(index + terminator.count, characters.count)]) == terminator {
                    current.append(contentsOf: terminator)
                    index += terminator.count
                    return
                }
                current.append(characters[index])
                index += 1
            }
        }

        while index < characters.count {
            let character = characters[index]
            switch character {
            case "-" where peek(1) == "-":
                copy(until: ["\n"])
            case "/" where peek(1) == "*":
                var depth = 0
                while index < characters.count {
                    if characters[index] == "/" && peek(1) == "*" {
                        depth += 1
                        current.append(contentsOf: ["/", "*"])
                        index += 2
                    } else if characters[index] == "*" && peek(1) == "/" {
                        depth -= 1
                        current.append(contentsOf: ["*", "/"])
                        index += 2
                        if depth == 0 { break }
                    } else {
                        current.append(characters[index])
                        index += 1
                    }
                }
            case "'":
                hasCode = true
                let escapes = index > 0 && (characters[index - 1] == "E" || characters[index - 1] == "e")
                current.append(character)
                index += 1
                while index < characters.count {
                    let c = characters[index]
                    current.append(c)
                    index += 1
                    if escapes && c == "\\" && index < characters.count {
                        current.append(characters[index])
                        index += 1
                    } else if c == "'" {
                        if index < characters.count && characters[index] == "'" {  // '' is a quote
                            current.append(characters[index])
                            index += 1
                        } else {
                            break
                        }
                    }
                }
            case "\"":
                hasCode = true
                current.append(character)
                index += 1
                copy(until: ["\""])
            case "$":
                hasCode = true
                if let tag = dollarTag(characters, at: index) {
                    current.append(contentsOf: tag)
                    index += tag.count
                    copy(until: tag)
                } else {
                    current.append(character)
                    index += 1
                }
            case ";":
                index += 1
                flush()
            default:
                if !character.properties.isWhitespace { hasCode = true }
                current.append(character)
                index += 1
            }
        }
        flush()
        return statements
    }

    /// `$$` or `$tag$` starting at `start`, where a tag is an identifier (not a `$1` parameter).
    private static func dollarTag(_ characters: [Unicode.Scalar], at start: Int) -> [Unicode.Scalar]? {
        var end = start + 1
        while end < characters.count, characters[end] != "$" {
            let c = characters[end]
            let isIdentifier = c == "_" || c.properties.isAlphabetic || (end > start + 1 && ("0"..."9").contains(c))
            guard isIdentifier else { return nil }
            end += 1
        }
        guard end < characters.count else { return nil }
        return Array(characters[start...end])
    }
}
