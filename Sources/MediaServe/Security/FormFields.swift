public import Foundation

/// `application/x-www-form-urlencoded` fields, from a POST body or a query string: `+` is a
/// space, `%XX` a byte; a field given twice keeps every value in order.
public struct FormFields: Sendable {
    public private(set) var pairs: [(String, String)] = []

    public init(_ encoded: String) {
        for piece in encoded.split(separator: "&") where !piece.isEmpty {
            let sides = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(sides[0])
            let value = sides.count > 1 ? Self.decode(sides[1]) : ""
            pairs.append((name, value))
        }
    }

    /// The first value of `name`, trimmed; nil when absent or blank.
    public subscript(_ name: String) -> String? {
        guard let value = pairs.first(where: { $0.0 == name })?.1.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty
        else { return nil }
        return value
    }

    public func all(_ name: String) -> [String] {
        pairs.filter { $0.0 == name }.map(\.1)
    }

    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
