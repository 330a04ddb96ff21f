import Foundation
import MediaCore
public import Logging
import Synchronization
import SystemdSupport

#if canImport(Glibc)
import Glibc
#endif

/// The log handler of `mediad` and `mediaq`: structured entries in the journal under systemd,
/// readable lines on standard error otherwise. Which of the two is decided once, at init.
///
/// **Journal** (`destination == .journal`): when `JOURNAL_STREAM` names the file open on
/// standard error (its `DEVICE:INODE`, as systemd.exec(5) describes; the variable alone is not
/// enough, children inherit it after redirecting standard error), each event is one
/// `sd_journal_sendv(3)` entry with
/// - `MESSAGE=` the readable line: the message, then `key=value` for each metadata entry,
///   sorted by key, newlines shown as `\n`;
/// - `PRIORITY=` the syslog priority (trace and debug 7, info 6, notice 5, warning 4, error 3,
///   critical 2);
/// - `SYSLOG_IDENTIFIER=` the logger's label;
/// - `MESSAGE_ID=` when the metadata key `event` names a ``LogEventKind``;
/// - `CODE_FILE=`, `CODE_LINE=`, `CODE_FUNC=` the call site;
/// - one field per metadata entry, named by ``journalFieldName(forMetadataKey:)``
///   (`sha256` → `MEDIA_SHA256`), its value unchanged (newlines included). An error passed to
///   the logger is the metadata entry `error`.
///
/// When the entry cannot be sent (no journald listening), the line goes to standard error
/// instead, prefixed with its priority (`<4>…`) as journald's stream reader expects, so nothing
/// is lost.
///
/// **Standard error** (`destination == .standardError`): one line per event,
/// `mediaq: warning: message key=value …`, or with `timestamps`,
/// `2025-01-31T10:00:00Z warning mediad: message key=value …`.
///
/// The level is either fixed (`init(label:level:)`, for `mediaq`) or read on every log call
/// from a shared ``LogLevelControl`` (`init(label:levelControl:)`, for the daemon, whose
/// level a reload changes). As swift-log asks, setting `logLevel` on a logger affects that
/// logger only: it pins the level of that copy, which no longer follows the control.
public struct MediaLogHandler: LogHandler {
    public enum Destination: Sendable, Equatable {
        case standardError
        case journal
    }

    /// Where this handler's events go, decided at init.
    public let destination: Destination
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let timestamps: Bool
    private let sharedLevel: LogLevelControl?
    private var pinnedLevel: Logger.Level?

    /// A handler with a fixed level.
    public init(label: String, level: Logger.Level, timestamps: Bool = false) {
        self.init(label: label, sharedLevel: nil, pinnedLevel: level, timestamps: timestamps)
    }

    /// A handler whose level follows `levelControl`, changed at runtime.
    public init(label: String, levelControl: LogLevelControl, timestamps: Bool = false) {
        self.init(label: label, sharedLevel: levelControl, pinnedLevel: nil, timestamps: timestamps)
    }

    private init(label: String, sharedLevel: LogLevelControl?, pinnedLevel: Logger.Level?, timestamps: Bool) {
        self.label = label
        self.sharedLevel = sharedLevel
        self.pinnedLevel = pinnedLevel
        self.timestamps = timestamps
        self.destination = SystemdJournal.standardErrorIsJournalStream ? .journal : .standardError
    }

    public var logLevel: Logger.Level {
        get { pinnedLevel ?? sharedLevel?.level ?? .info }
        set { pinnedLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error, merged["error"] == nil { merged["error"] = "\(error)" }
        let sorted = merged.sorted { $0.key < $1.key }
        let text = Self.readableText(event.message.description, sorted)
        switch destination {
        case .journal:
            var fields: [(name: String, value: String)] = [
                ("MESSAGE", text),
                ("PRIORITY", String(Self.priority(event.level))),
                ("SYSLOG_IDENTIFIER", label),
            ]
            if let kind = merged[LogEventKind.metadataKey].flatMap({ LogEventKind(rawValue: "\($0)") }) {
                fields.append(("MESSAGE_ID", kind.messageID))
            }
            fields.append(("CODE_FILE", event.file))
            fields.append(("CODE_LINE", String(event.line)))
            fields.append(("CODE_FUNC", event.function))
            for (key, value) in sorted {
                fields.append((Self.journalFieldName(forMetadataKey: key), "\(value)"))
            }
            if SystemdJournal.send(fields) == 0 { return }
            Self.writeToStandardError("<\(Self.priority(event.level))>\(text)\n")
        case .standardError:
            if timestamps {
                Self.writeToStandardError("\(ISO8601DateFormatter().string(from: Date())) \(event.level) \(label): \(text)\n")
            } else {
                Self.writeToStandardError("\(label): \(event.level): \(text)\n")
            }
        }
    }

    /// The message and `key=value` for each metadata entry, on one line.
    static func readableText(_ message: String, _ metadata: [(key: String, value: Logger.MetadataValue)]) -> String {
        var text = oneLine(message)
        for (key, value) in metadata {
            text += " \(oneLine(key))=\(oneLine("\(value)"))"
        }
        return text
    }

    private static func oneLine(_ text: String) -> String {
        guard text.contains(where: { $0.isNewline }) else { return text }
        return text.replacingOccurrences(of: "\r\n", with: "\\n")
            .replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r")
    }

    /// The journal field that carries the metadata entry `key`: `MEDIA_` and the key in upper
    /// case, camelCase words split by `_`; every character other than an ASCII letter or digit
    /// becomes `_`, runs of `_` become one, and `_` at either end is dropped; at most 64
    /// characters (journald's limit).
    ///
    /// `file` → `MEDIA_FILE`, `sha256` → `MEDIA_SHA256`, `retryIn` → `MEDIA_RETRY_IN`,
    /// `sourceURL` → `MEDIA_SOURCE_URL`, `_PID` → `MEDIA_PID`. The prefix keeps metadata from
    /// ever being taken for journald's own fields (`MESSAGE`, `PRIORITY`, or the trusted `_PID`,
    /// which a client cannot set) and makes every field name valid, since none can start with a
    /// digit or `_`.
    public static func journalFieldName(forMetadataKey key: String) -> String {
        let scalars = Array(key.unicodeScalars)
        var name = ""
        func isLower(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) }
        func isUpper(_ c: Unicode.Scalar) -> Bool { ("A"..."Z").contains(c) }
        func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
        for (index, scalar) in scalars.enumerated() {
            guard isLower(scalar) || isUpper(scalar) || isDigit(scalar) else {
                name.append("_")
                continue
            }
            if isUpper(scalar), index > 0 {
                let previous = scalars[index - 1]
                let next = index + 1 < scalars.count ? scalars[index + 1] : nil
                // fileName → FILE_NAME; sourceURLPath → SOURCE_URL_PATH (the last capital of
                // a run starts the next word when a lower-case letter follows it).
                if isLower(previous) || isDigit(previous) || (isUpper(previous) && next.map(isLower) == true) {
                    name.append("_")
                }
            }
            name.unicodeScalars.append(isLower(scalar) ? Unicode.Scalar(scalar.value - 32)! : scalar)
        }
        let words = name.split(separator: "_", omittingEmptySubsequences: true)
        var field = "MEDIA_" + (words.isEmpty ? "UNNAMED" : words.joined(separator: "_"))
        if field.count > 64 {
            field = String(field.prefix(64))
            while field.hasSuffix("_") { field.removeLast() }
        }
        return field
    }

    /// The syslog priority journald uses for `level`.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private static func writeToStandardError(_ line: String) {
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}

/// A log level shared by every handler made with it, read on each log call: the daemon
/// changes it when it reloads its configuration (SIGHUP), and every logger follows at once.
public final class LogLevelControl: Sendable {
    private let storage: Atomic<UInt8>

    public init(_ level: Logger.Level) {
        storage = Atomic(Self.code(level))
    }

    /// The current level; setting it takes effect for the next log call on any thread.
    public var level: Logger.Level {
        get { Logger.Level.allCases[Int(storage.load(ordering: .relaxed))] }
        set { storage.store(Self.code(newValue), ordering: .relaxed) }
    }

    private static func code(_ level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level)!)
    }
}
