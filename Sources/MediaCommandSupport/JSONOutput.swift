import Foundation

/// `--json` output: every command prints exactly one JSON document on standard output (never
/// one object per line), keys sorted, dates in ISO 8601; a failure is `{"ok": false, "error"}`.
public enum JSONOutput {
    public static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func print(_ value: some Encodable) {
        Swift.print(encode(value))
    }
}
