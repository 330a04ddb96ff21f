public import Foundation

/// What the last `mediaq doctor` found, kept in the library (`<root>/.doctor.json`, written
/// atomically after each run) so that `mediaq serve`'s stats page and an operator can see it
/// without running it again. The journal keeps every run; this file keeps the last.
public struct DoctorRecord: Sendable, Codable, Equatable {
    public struct Finding: Sendable, Codable, Equatable {
        public let kind: String
        public let path: String
        public let detail: String
        public let fixed: Bool
    }

    /// ISO 8601, UTC.
    public let finishedAt: String
    public let fix: Bool
    public let originals: Int
    public let thumbnails: Int
    public let verified: Int
    public let lost: Int
    public let problems: Int
    public let remaining: Int
    /// The first `maximumFindings` problems.
    public let findings: [Finding]

    public static let fileName = ".doctor.json"
    public static let maximumFindings = 100

    public init(_ report: LibraryDoctor.Report, fix: Bool, finishedAt: Date = Date()) {
        self.finishedAt = finishedAt.formatted(.iso8601)
        self.fix = fix
        originals = report.originals
        thumbnails = report.thumbnails
        verified = report.verified
        lost = report.lost
        problems = report.problems.count
        remaining = fix ? report.remaining : report.problems.count
        findings = report.problems.prefix(Self.maximumFindings).map {
            Finding(kind: $0.kind.rawValue, path: $0.path, detail: $0.detail, fixed: $0.fixed)
        }
    }

    /// Writes it into the library at `root`, replacing the last one.
    public func write(root: String) throws(MediaError) {
        try AtomicFile.writeJSON(self, to: root + "/" + Self.fileName)
    }

    /// The last one recorded in the library at `root`, if any (an unreadable file counts as none).
    public static func last(root: String) -> DoctorRecord? {
        guard let data = FileManager.default.contents(atPath: root + "/" + fileName) else { return nil }
        return try? JSONDecoder().decode(DoctorRecord.self, from: data)
    }
}
