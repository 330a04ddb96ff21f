import Foundation

/// Parses sizes people write: `300000000000`, `300GB`, `300 GB`, `1.5TiB`, `512MiB`.
///
/// Decimal units (kB, MB, GB, TB) are powers of 1000, as disk makers and `df -H` count;
/// binary units (KiB, MiB, GiB, TiB) are powers of 1024. A bare number is bytes. Units are
/// case-insensitive except that a lone `b` means bytes.
public enum ByteCount {
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        let numberPart = trimmed.prefix { $0.isNumber || $0 == "." }
        let unitPart = trimmed.dropFirst(numberPart.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard !numberPart.isEmpty else { return nil }
        let multipliers: [String: Double] = [
            "": 1, "b": 1,
            "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
            "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824, "tib": 1_099_511_627_776,
        ]
        guard let multiplier = multipliers[unitPart] else { return nil }
        if !numberPart.contains(".") {
            guard let whole = Int64(numberPart) else { return nil }
            let (product, overflow) = whole.multipliedReportingOverflow(by: Int64(multiplier))
            return overflow ? nil : product
        }
        guard let value = Double(numberPart), value.isFinite else { return nil }
        let bytes = (value * multiplier).rounded()
        guard bytes < Double(Int64.max) else { return nil }
        return Int64(bytes)
    }

    /// `300 GB`, `1.5 GB`, `512 B`: decimal units, as `parse` reads them back.
    public static func format(_ bytes: Int64) -> String {
        let units: [(String, Double)] = [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)]
        for (name, size) in units where Double(bytes) >= size {
            let value = Double(bytes) / size
            let tenths = (value * 10).rounded()
            let text =
                tenths.truncatingRemainder(dividingBy: 10) == 0
                ? String(Int64(tenths / 10)) : "\(Int64(tenths) / 10).\(Int64(tenths) % 10)"
            return "\(text) \(name)"
        }
        return "\(bytes) B"
    }
}
