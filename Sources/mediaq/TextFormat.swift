import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

/// Plain-text formatting without `String(format:)`.
enum TextFormat {
    /// `value` with `digits` decimals.
    static func fixed(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        let fraction = String(scaled % Int64(scale))
        let padded = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(padded)"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    static func truncate(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(0, width - 1))) + "…"
    }

    /// Rows as columns separated by two spaces, each as wide as its widest cell; the last
    /// column is not padded.
    static func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                if index == row.count - 1 && !rightAligned.contains(index) { return cell }
                return rightAligned.contains(index) ? padLeft(cell, widths[index]) : pad(cell, widths[index])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// "3 days ago", "never".
    static func age(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "never" }
        let seconds = now.timeIntervalSince(date)
        if seconds < 90 { return "just now" }
        if seconds < 5400 { return "\(Int((seconds / 60).rounded())) min ago" }
        if seconds < 129_600 { return "\(Int((seconds / 3600).rounded())) h ago" }
        return "\(Int((seconds / 86_400).rounded())) days ago"
    }

    static func duration(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "" }
        return fixed(Double(milliseconds) / 1000, digits: 1) + "s"
    }
}
