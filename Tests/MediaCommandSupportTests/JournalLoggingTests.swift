import Foundation
import MediaCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real process (`log-probe`) logging through `MediaLogHandler`, with the journal's native
/// socket bound by the test: what reaches the socket is parsed with journald's protocol.
///
/// The socket path is the real one, since libsystemd has no other: the suite cannot run where a
/// journald listens, and its tests run one at a time.
@Suite(.serialized, .enabled(if: !FakeJournald.realJournaldListens, "a real journald owns /run/systemd/journal/socket"))
struct JournalLoggingTests {
    /// The probe's events, in order, as the journal sees them (its level is info, then debug).
    @Test func underSystemdEachEventIsOneStructuredEntry() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let standardError = folder.file("stderr")
        let journal = try FakeJournald()
        let run: LogProbe.Run
        let datagrams: [[UInt8]]
        do {
            defer { journal.remove() }
            let started = try LogProbe.run(standardErrorFile: standardError, journalStream: try LogProbe.deviceAndInode(standardError))
            datagrams = await journal.stop()
            run = started
        }
        try #require(run.outcome.status == 0, "\(run.outcome.standardError)")
        #expect(run.outcome.standardOutput == "destination=journal\ndone\n")
        #expect(run.standardError == "", "sent entries must not also be written to standard error")
        let entries = try datagrams.map(NativeJournalEntry.parse)
        try #require(entries.count == 5, "\(entries)")

        for entry in entries {
            // Every field name is one journald accepts; none is trusted (`_…`).
            for name in entry.keys {
                #expect(name.utf8.count <= 64 && !name.hasPrefix("_") && !(name.first?.isNumber ?? true), "\(name)")
                #expect(name.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }, "\(name)")
            }
            #expect(entry["SYSLOG_IDENTIFIER"] == ["log-probe"])
            #expect(entry["CODE_FILE"] == ["log_probe/main.swift"], "#fileID: module/file")
            #expect(entry["CODE_LINE"]?.count == 1 && Int(entry["CODE_LINE"]![0]) != nil)
            #expect(entry["MEDIA_WORKER"] == ["3"], "the logger's own metadata")
            #expect(entry["MESSAGE"]?.count == 1 && entry["PRIORITY"]?.count == 1, "\(entry)")
            #expect(entry["MESSAGE"]?.first?.contains("\n") == false, "MESSAGE is one line")
        }

        let stored = entries[0]
        let sha = String(repeating: "ab", count: 32)
        #expect(stored["PRIORITY"] == ["6"])
        #expect(stored["MESSAGE_ID"] == ["742b8ac378ea4c27994111e3d08705a7"])
        #expect(
            stored["MESSAGE"] == [
                "stored durationMs=12 event=ingested file=/drop/beach.jpg id=42 sha256=\(sha) status=ingested worker=3"
            ])
        #expect(stored["MEDIA_EVENT"] == ["ingested"])
        #expect(stored["MEDIA_FILE"] == ["/drop/beach.jpg"])
        #expect(stored["MEDIA_SHA256"] == [sha])
        #expect(stored["MEDIA_ID"] == ["42"])
        #expect(stored["MEDIA_STATUS"] == ["ingested"])
        #expect(stored["MEDIA_DURATION_MS"] == ["12"])

        // The debug line logged at level info is not there: the next entry is the rejection.
        let rejected = entries[1]
        #expect(rejected["PRIORITY"] == ["4"])
        #expect(rejected["MESSAGE_ID"] == ["c755d582e37743a78037ff5a0be6068f"])
        #expect(rejected["MEDIA_REASON"] == ["not a video\nsecond line"], "a value with a newline arrives whole")
        #expect(rejected["MEDIA_CODE"] == ["unsupportedMedia"])
        #expect(
            rejected["MESSAGE"]?.first?.hasPrefix(
                #"rejected code=unsupportedMedia event=rejected file=/drop/bad.mp4 reason=not a video\nsecond line"#) == true)

        // The shared level was lowered to debug at runtime.
        let debug = entries[2]
        #expect(debug["PRIORITY"] == ["7"])
        #expect(debug["MESSAGE"]?.first?.hasPrefix("shown once the level is debug event=reloaded") == true)
        #expect(debug["MESSAGE_ID"] == ["811eeb0fe3ab4a20a081b69562b0825e"])

        // Metadata cannot pose as journald's fields, and an unknown kind gets no MESSAGE_ID.
        let unknown = entries[3]
        #expect(unknown["PRIORITY"] == ["3"])
        #expect(unknown["MESSAGE_ID"] == nil)
        #expect(unknown["MEDIA_EVENT"] == ["bogus"])
        #expect(unknown["MESSAGE"]?.first?.hasPrefix("unknown kind MESSAGE=spoof _PID=1 event=bogus priority=0") == true)
        #expect(unknown["MEDIA_MESSAGE"] == ["spoof"])
        #expect(unknown["MEDIA_PID"] == ["1"])
        #expect(unknown["MEDIA_PRIORITY"] == ["0"])
        #expect(unknown["MEDIA_SOURCE_URL"] == ["https://example.com/a"])

        // An error passed to the logger is the field MEDIA_ERROR.
        let crashed = entries[4]
        #expect(crashed["PRIORITY"] == ["2"])
        #expect(crashed["MESSAGE_ID"] == ["82ab740ab4e24f1eab6f2c81de789911"])
        #expect(crashed["MEDIA_ERROR"] == ["signal 11"])
        #expect(crashed["MEDIA_FILE"] == ["/drop/x.mov"])
    }

    /// `JOURNAL_STREAM` inherited by a process whose standard error goes elsewhere: readable
    /// lines, nothing sent to the journal.
    @Test func aJournalStreamThatIsNotStandardErrorMeansReadableLines() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let standardError = folder.file("stderr")
        let elsewhere = folder.file("elsewhere")
        let journal = try FakeJournald()
        var runs: [LogProbe.Run] = []
        let datagrams: [[UInt8]]
        do {
            defer { journal.remove() }
            runs.append(
                try LogProbe.run(
                    standardErrorFile: standardError, journalStream: try LogProbe.deviceAndInode(elsewhere),
                    arguments: ["--timestamps"]))
            // Unset, or not DEVICE:INODE at all.
            runs.append(try LogProbe.run(standardErrorFile: folder.file("stderr-unset"), journalStream: nil))
            runs.append(try LogProbe.run(standardErrorFile: folder.file("stderr-malformed"), journalStream: "journal"))
            datagrams = await journal.stop()
        }
        #expect(datagrams.isEmpty, "\(datagrams.count) datagrams")

        for (index, run) in runs.enumerated() {
            try #require(run.outcome.status == 0, "\(run.outcome.standardError)")
            #expect(run.outcome.standardOutput == "destination=standardError\ndone\n")
            let lines = run.standardError.split(separator: "\n", omittingEmptySubsequences: false)
            try #require(lines.count == 5 + 1 && lines.last == "", "\(run.standardError)")
            if index == 0 {
                let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (info|warning|debug|error|critical) log-probe: .+$/#
                for line in lines.dropLast() { #expect(line.wholeMatch(of: pattern) != nil, "\(line)") }
                #expect(
                    lines[0].hasSuffix(
                        " info log-probe: stored durationMs=12 event=ingested file=/drop/beach.jpg id=42 sha256=\(String(repeating: "ab", count: 32)) status=ingested worker=3"
                    ))
                #expect(
                    lines[1].hasSuffix(
                        #" warning log-probe: rejected code=unsupportedMedia event=rejected file=/drop/bad.mp4 reason=not a video\nsecond line worker=3"#
                    ))
            } else {
                #expect(
                    lines[0]
                        == "log-probe: info: stored durationMs=12 event=ingested file=/drop/beach.jpg id=42 sha256=\(String(repeating: "ab", count: 32)) status=ingested worker=3"
                )
                #expect(lines[2] == "log-probe: debug: shown once the level is debug event=reloaded worker=3")
                #expect(lines[4] == "log-probe: critical: decoder crashed error=signal 11 event=decoderCrashed file=/drop/x.mov worker=3")
            }
        }
    }

    /// Standard error is the journal stream but no journald takes the entry, its socket being
    /// missing or dead: the lines go to standard error with their priority prefix, nothing is
    /// lost.
    @Test(arguments: ["missing socket", "socket nobody listens on"])
    func withoutJournaldEntriesFallBackToPrefixedLines(_ situation: String) async throws {
        var journal: FakeJournald?
        if situation == "missing socket" {
            try #require(!FileManager.default.fileExists(atPath: FakeJournald.socketPath))
        } else {
            let dead = try FakeJournald()
            _ = await dead.stop()
            dead.closeSocket()
            try #require(FileManager.default.fileExists(atPath: FakeJournald.socketPath))
            journal = dead
        }
        defer { journal?.remove() }
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let standardError = folder.file("stderr")
        let run = try LogProbe.run(standardErrorFile: standardError, journalStream: try LogProbe.deviceAndInode(standardError))
        try #require(run.outcome.status == 0, "\(run.outcome.standardError)")
        #expect(run.outcome.standardOutput == "destination=journal\ndone\n")
        let sha = String(repeating: "ab", count: 32)
        #expect(
            run.standardError.split(separator: "\n", omittingEmptySubsequences: false) == [
                "<6>stored durationMs=12 event=ingested file=/drop/beach.jpg id=42 sha256=\(sha) status=ingested worker=3",
                #"<4>rejected code=unsupportedMedia event=rejected file=/drop/bad.mp4 reason=not a video\nsecond line worker=3"#,
                "<7>shown once the level is debug event=reloaded worker=3",
                "<3>unknown kind MESSAGE=spoof _PID=1 event=bogus priority=0 sourceURL=https://example.com/a worker=3",
                "<2>decoder crashed error=signal 11 event=decoderCrashed file=/drop/x.mov worker=3",
                "",
            ])
    }
}
