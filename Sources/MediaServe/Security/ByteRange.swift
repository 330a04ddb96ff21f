import Foundation

/// What a `Range` header asks of a file of `size` bytes (RFC 9110 §14): one range of bytes,
/// or the whole file. Several ranges are answered with the whole file, which the RFC allows.
public enum ByteRange: Equatable, Sendable {
    case whole
    /// First and last byte, inclusive.
    case part(first: Int64, last: Int64)
    /// No byte of the file is in the range: 416.
    case unsatisfiable

    public static func parse(_ header: String?, size: Int64) -> ByteRange {
        guard let header else { return .whole }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = trimmed.dropFirst("bytes=".count)
        guard !spec.contains(",") else { return .whole }
        let sides = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard sides.count == 2 else { return .whole }
        let start = sides[0].trimmingCharacters(in: .whitespaces)
        let end = sides[1].trimmingCharacters(in: .whitespaces)
        guard start.allSatisfy(\.isASCIIDigit), end.allSatisfy(\.isASCIIDigit), !(start.isEmpty && end.isEmpty) else {
            return .whole
        }
        if start.isEmpty {
            // The last n bytes.
            guard let count = Int64(end) else { return .whole }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .part(first: max(0, size - count), last: size - 1)
        }
        guard let first = Int64(start) else { return .unsatisfiable }
        guard first < size else { return .unsatisfiable }
        if end.isEmpty { return .part(first: first, last: size - 1) }
        guard let last = Int64(end) else { return .part(first: first, last: size - 1) }
        guard last >= first else { return .whole }
        return .part(first: first, last: min(last, size - 1))
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
