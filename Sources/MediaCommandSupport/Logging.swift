import Foundation
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Logs one line per event to standard error.
///
/// Under systemd (`JOURNAL_STREAM` set) each line starts with its syslog priority, `<3>` to
/// `<7>`, which journald reads as the entry's priority. Otherwise the line carries the program
/// and the level, and for a long-running program a timestamp.
///
/// Standard error rather than `sd_journal_send`: libsystemd drops journal messages silently when
/// journald is absent, and a stream to the journal is what systemd sets up for a unit anyway.
public struct StandardErrorLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let timestamps: Bool
    private let journalPriorities: Bool

    public init(label: String, level: Logger.Level, timestamps: Bool = false) {
        self.label = label
        self.logLevel = level
        self.timestamps = timestamps
        self.journalPriorities = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = fields.isEmpty ? "\(event.message)" : "\(event.message) \(fields)"
        let line: String
        if journalPriorities {
            line = "<\(Self.priority(event.level))>\(text)\n"
        } else if timestamps {
            line = "\(ISO8601DateFormatter().string(from: Date())) \(event.level) \(label): \(text)\n"
        } else {
            line = "\(label): \(event.level): \(text)\n"
        }
        line.utf8CString.withUnsafeBufferPointer { buffer in
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count - 1)
        }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
