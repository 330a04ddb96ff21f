import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import SystemdSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LoggingTests {
    @Test(arguments: [
        ("file", "MEDIA_FILE"),
        ("sha256", "MEDIA_SHA256"),
        ("id", "MEDIA_ID"),
        ("status", "MEDIA_STATUS"),
        ("event", "MEDIA_EVENT"),
        ("retryIn", "MEDIA_RETRY_IN"),
        ("durationMs", "MEDIA_DURATION_MS"),
        ("migrationsApplied", "MEDIA_MIGRATIONS_APPLIED"),
        ("sourceURL", "MEDIA_SOURCE_URL"),
        ("sourceURLPath", "MEDIA_SOURCE_URL_PATH"),
        ("HTTPStatus", "MEDIA_HTTP_STATUS"),
        ("sha256Hex", "MEDIA_SHA256_HEX"),
        ("already_snake", "MEDIA_ALREADY_SNAKE"),
        ("kebab-case.and space", "MEDIA_KEBAB_CASE_AND_SPACE"),
        ("MESSAGE", "MEDIA_MESSAGE"),
        ("PRIORITY", "MEDIA_PRIORITY"),
        ("_PID", "MEDIA_PID"),
        ("__x__", "MEDIA_X"),
        ("2fa", "MEDIA_2FA"),
        ("größe", "MEDIA_GR_E"),
        ("", "MEDIA_UNNAMED"),
        ("-", "MEDIA_UNNAMED"),
        (String(repeating: "a", count: 70), "MEDIA_" + String(repeating: "A", count: 58)),
        (String(repeating: "a", count: 57) + "_b", "MEDIA_" + String(repeating: "A", count: 57)),
    ])
    func journalFieldNames(key: String, field: String) {
        #expect(MediaLogHandler.journalFieldName(forMetadataKey: key) == field)
    }

    /// Every id is a 128-bit id as `systemd-id128 new` prints it, no two alike, and each kind
    /// is listed with its id and priority in docs/operations.md, which operators query by.
    @Test func messageIDsAreFixedAndDocumented() throws {
        let ids = LogEventKind.allCases.map(\.messageID)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.count == 32 && id.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }, "\(id)")
        }
        // Pinned: changing an id breaks every saved journalctl query.
        #expect(LogEventKind.ingested.messageID == "742b8ac378ea4c27994111e3d08705a7")
        #expect(LogEventKind.waiting.messageID == "7e3e233974df4be1889f464d8f1d5e8c")

        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/operations.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("| `") && $0.firstMatch(of: #/`[0-9a-f]{32}`/#) != nil }
        #expect(rows.count == LogEventKind.allCases.count, "one table row per kind")
        for kind in LogEventKind.allCases {
            let row = rows.first { $0.hasPrefix("| `\(kind.rawValue)` |") }
            #expect(row?.contains("| `\(kind.messageID)` |") == true, "\(kind) is documented with its id")
            #expect(row?.contains("(\(MediaLogHandler.priority(kind.defaultLevel)))") == true, "\(kind) with its priority")
        }
    }

    /// JOURNAL_STREAM counts only when it names the very file open on the descriptor.
    @Test func journalStreamMustNameTheOpenFile() throws {
        let path = "/tmp/media-logging-stream-\(getpid())"
        let fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
        try #require(fd >= 0)
        let other = open("/proc/self/exe", O_RDONLY)
        defer {
            close(fd)
            close(other)
            unlink(path)
        }
        var status = stat()
        try #require(fstat(fd, &status) == 0)
        let device = UInt64(status.st_dev)
        let inode = UInt64(status.st_ino)
        #expect(SystemdJournal.isJournalStream("\(device):\(inode)", descriptor: fd))
        #expect(!SystemdJournal.isJournalStream("\(device):\(inode)", descriptor: other))
        #expect(!SystemdJournal.isJournalStream("\(device):\(inode + 1)", descriptor: fd))
        #expect(!SystemdJournal.isJournalStream("\(device + 1):\(inode)", descriptor: fd))
        for malformed in [nil, "", ":", "\(device)", "\(device):", "\(device):\(inode):1", " \(device):\(inode)", "x:\(inode)"] {
            #expect(!SystemdJournal.isJournalStream(malformed, descriptor: fd), "\(malformed ?? "nil")")
        }
    }

    /// Loggers made with one control follow it; setting a logger's level pins that logger only.
    @Test func levelFollowsTheSharedControl() {
        let control = LogLevelControl(.info)
        let logger = Logger(label: "test") { MediaLogHandler(label: $0, levelControl: control) }
        let second = Logger(label: "test") { MediaLogHandler(label: $0, levelControl: control) }
        #expect(logger.logLevel == .info)
        control.level = .debug
        #expect(logger.logLevel == .debug && second.logLevel == .debug)
        var pinned = logger
        pinned.logLevel = .error
        control.level = .warning
        #expect(pinned.logLevel == .error)
        #expect(logger.logLevel == .warning && second.logLevel == .warning)
        for level in Logger.Level.allCases {
            control.level = level
            #expect(control.level == level && logger.logLevel == level)
        }

        var fixed = Logger(label: "test") { MediaLogHandler(label: $0, level: .notice) }
        #expect(fixed.logLevel == .notice)
        fixed.logLevel = .trace
        #expect(fixed.logLevel == .trace)
    }
}
