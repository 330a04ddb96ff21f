public import Foundation

/// The JSON file gather writes beside a download, `NAME.EXT.json` (see docs/drop-contract.md):
///
///     {"tags": ["beach", "sunset"] | "beach, sunset", "provider": "pexels", "sourceUrl": "…",
///      "providerId": "12345", "used": true, "pin": "RUN-ID", "pinHours": 24}
///
/// Every field is optional and unknown fields are ignored. A sidecar over 1 MiB, not JSON, or
/// with a field of the wrong type is refused with a reason.
public struct Sidecar: Sendable, Equatable {
    public var tags: [String] = []
    public var provider: String?
    public var sourceURL: String?
    public var providerId: String?
    public var used = false
    public var pin: String?
    /// How long `pin` holds (default: mediad's 24 hours), 0.01 to 8760.
    public var pinHours: Double?

    /// The lifetime of the sidecar's pin: `pinHours`, else `standard`.
    public func pinLifetime(standard: Duration) -> Duration {
        pinHours.map { .milliseconds(Int64(($0 * 3_600_000).rounded())) } ?? standard
    }

    public init() {}

    public static let maximumBytes = 1 << 20
    public static let suffix = ".json"

    public static func parse(_ data: Data, file: String) throws(MediaError) -> Sidecar {
        func refuse(_ why: String) -> MediaError {
            MediaError(.badSidecar, "sidecar \(file) was refused: \(why)")
        }
        try checkSize(data.count, file: file)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw refuse("it is not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw refuse("it must be a JSON object")
        }
        var sidecar = Sidecar()
        switch fields["tags"] {
        case nil, is NSNull: break
        case let list as [Any]:
            for element in list {
                guard let tag = element as? String else { throw refuse("\"tags\" must hold strings only") }
                sidecar.tags.append(tag)
            }
        case let text as String: sidecar.tags = [text]
        default: throw refuse("\"tags\" must be a list of strings or one comma-separated string")
        }
        sidecar.provider = try string(fields, "provider", refuse)
        sidecar.sourceURL = try string(fields, "sourceUrl", refuse)
        sidecar.pin = try string(fields, "pin", refuse)
        switch fields["pinHours"] {
        case nil, is NSNull: break
        case let number as NSNumber where !isBoolean(number) && LocalLibrarySettings.pinHoursRange.contains(number.doubleValue):
            sidecar.pinHours = number.doubleValue
        default: throw refuse("\"pinHours\" must be a number of hours from 0.01 to 8760")
        }
        switch fields["providerId"] {
        case nil, is NSNull: break
        case let text as String: sidecar.providerId = text.isEmpty ? nil : text
        case let number as NSNumber where !isBoolean(number):
            sidecar.providerId = number.stringValue
        default: throw refuse("\"providerId\" must be a string or a number")
        }
        switch fields["used"] {
        case nil, is NSNull: break
        case let flag as NSNumber where isBoolean(flag): sidecar.used = flag.boolValue
        default: throw refuse("\"used\" must be true or false")
        }
        return sidecar
    }

    /// Refuses a sidecar over the limit; callers check the file's size before reading it.
    public static func checkSize(_ bytes: Int, file: String) throws(MediaError) {
        guard bytes <= maximumBytes else {
            throw MediaError(.badSidecar, "sidecar \(file) was refused: it is \(bytes) bytes, over the limit of 1 MiB")
        }
    }

    private static func string(
        _ fields: [String: Any], _ key: String, _ refuse: (String) -> MediaError
    ) throws(MediaError) -> String? {
        switch fields[key] {
        case nil, is NSNull: return nil
        case let text as String: return text.isEmpty ? nil : text
        default: throw refuse("\"\(key)\" must be a string")
        }
    }

    /// JSONSerialization gives booleans as NSNumber; tell them from numbers.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c" || type(of: number) == type(of: NSNumber(value: true))
    }
}
