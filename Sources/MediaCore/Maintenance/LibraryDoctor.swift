import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// `mediaq doctor`: the library's fsck, after git-annex fsck and restic check. It compares the
/// files with the rows and, for a chosen share of the originals, the bytes with their names.
///
/// It runs on an opened library, so interrupted ingests and collections (file intents of
/// processes that are gone) have already been finished, as a journal is replayed before a
/// check; what it reports is what that replay cannot explain. Paths with a live intent (an
/// ingest or GC running now) are left alone.
public struct LibraryDoctor: Sendable {
    let repository: MaintenanceRepository
    let assets: AssetRepository
    public let store: ContentStore
    public let logger: Logger
    /// Regenerates thumbnails with `--fix`; nil: thumbnails are reported, not made.
    public let decoder: (any MediaDecoder)?
    /// An original adopted without a metadata file takes its file's keywords as tags (`ingest.fileKeywords`).
    public var readsFileKeywords = true

    public init(connection: PostgresConnection, root: String, decoder: (any MediaDecoder)?, logger: Logger) {
        self.repository = MaintenanceRepository(connection: connection, logger: logger)
        self.assets = AssetRepository(connection: connection, logger: logger)
        self.store = ContentStore(root: root)
        self.decoder = decoder
        self.logger = logger
    }

    public enum ProblemKind: String, Sendable, Encodable, CaseIterable {
        case originalWithoutRow = "original_without_row"
        case rowWithoutOriginal = "row_without_original"
        case thumbnailMissing = "thumbnail_missing"
        case thumbnailOrphaned = "thumbnail_orphaned"
        case wrongPermissions = "wrong_permissions"
        case temporaryLeftover = "temporary_leftover"
        case checksumMismatch = "checksum_mismatch"
        case lostOriginalBack = "lost_original_back"
        /// An optimised original whose row does not record it (a database restored from before
        /// the optimisation): its metadata file's `stored` names its bytes.
        case storedFactsBehind = "stored_facts_behind"
    }

    public struct Problem: Sendable, Encodable, Equatable {
        public let kind: ProblemKind
        /// Relative to LIBRARY_ROOT.
        public let path: String
        public let assetId: Int64?
        public let detail: String
        public var fixed = false
        /// What `--fix` did, or why it could not.
        public var action: String?
    }

    public struct Report: Sendable, Encodable {
        public var originals = 0
        public var thumbnails = 0
        public var verified = 0
        /// Thumbnails that ingest could not make (kept usable, reason recorded): not a problem.
        public var thumbnailsMarkedMissing = 0
        /// Assets marked lost (their originals gone): settled, not problems; `mediaq forget`
        /// removes their records.
        public var lost = 0
        /// Metadata files behind their rows (written by `--fix`, and by mediad in the background).
        public var metadataPending = 0
        public var problems: [Problem] = []
        public var fixed: Int { problems.filter(\.fixed).count }
        public var remaining: Int { problems.count - fixed }

        enum CodingKeys: String, CodingKey {
            case originals, thumbnails, verified, thumbnailsMarkedMissing, lost, metadataPending, problems, fixed, remaining
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(originals, forKey: .originals)
            try container.encode(thumbnails, forKey: .thumbnails)
            try container.encode(verified, forKey: .verified)
            try container.encode(thumbnailsMarkedMissing, forKey: .thumbnailsMarkedMissing)
            try container.encode(lost, forKey: .lost)
            try container.encode(metadataPending, forKey: .metadataPending)
            try container.encode(problems, forKey: .problems)
            try container.encode(fixed, forKey: .fixed)
            try container.encode(remaining, forKey: .remaining)
        }
    }

    /// Which originals are read and checked against their SHA-256.
    public enum Verification: Sendable, Equatable {
        case none
        case percent(Double)
        case all
    }

    typealias Row = DoctorScan.Row

    public static let quarantineFolder = "quarantine"

    public func run(
        verify: Verification, fix: Bool, progress: @Sendable (String, Int, Int) -> Void = { _, _, _ in }
    ) async throws(MediaError) -> Report {
        var report = Report()
        let metadata = MetadataRepository(connection: repository.connection, logger: logger)
        if fix { try await metadata.flushAll(in: store) }
        report.metadataPending = try await metadata.pendingCount()
        let scan = DoctorScan.scan(try await read())
        progress("files", 1, 1)
        report.originals = scan.originals
        report.thumbnails = scan.thumbnails
        report.lost = scan.lost
        for (index, step) in scan.steps.enumerated() {
            if index % 1000 == 0 { progress("checks", index, scan.steps.count) }
            switch step {
            case .checkMode(let relative):
                checkMode(relative, into: &report, fix: fix)
            case .markedMissing(let row, let thumbPath):
                report.thumbnailsMarkedMissing += 1
                if fix, let decoder, await regenerate(row, at: thumbPath, decoder: decoder) { report.thumbnailsMarkedMissing -= 1 }
            case .problem(var problem, let row, let repair):
                if fix { await apply(repair, to: &problem, row: row) }
                report.problems.append(problem)
            }
        }
        let verifiable = scan.verifiable

        // Bytes, against names.
        let chosen: [Row]
        switch verify {
        case .none: chosen = []
        case .all: chosen = verifiable
        case .percent(let share):
            let count = Int((Double(verifiable.count) * share / 100).rounded(.up))
            chosen = Array(verifiable.shuffled().prefix(min(verifiable.count, count)))
        }
        for (index, row) in chosen.enumerated() {
            progress("verify", index, chosen.count)
            let found: String
            do {
                found = try ContentStore.sha256(ofFileAt: store.absolute(row.path))
            } catch {
                continue  // gone meanwhile
            }
            report.verified += 1
            guard found != row.expectedSha256 else { continue }
            if let behind = await storedFactsBehind(row, found: found, fix: fix) {
                report.problems.append(behind)
                continue
            }
            var problem = Problem(
                kind: .checksumMismatch, path: row.path, assetId: row.id,
                detail: "its bytes hash to \(found.prefix(12)), not \(row.expectedSha256.prefix(12))")
            if fix { await quarantine(row, &problem) }
            report.problems.append(problem)
        }
        progress("verify", chosen.count, chosen.count)
        if fix {
            // What --fix adopted has its metadata files written now.
            try await metadata.flushAll(in: store)
            report.metadataPending = try await metadata.pendingCount()
        }
        return report
    }

    // MARK: - Reading

    /// The rows, the live intents and the files, as the scan wants them.
    private func read() async throws(MediaError) -> DoctorScan.Input {
        let (rows, busy) = try await load()
        let folders = ["images", "videos"].map { folder in
            (originals: Self.files(under: store.root, folder + "/original"), thumbnails: Self.files(under: store.root, folder + "/thumbs"))
        }
        let others = Set(rows.filter { $0.state != "present" && Self.exists(store.absolute($0.path)) }.map(\.path))
        // Temporary files no running process owns (those of dead processes went when the library opened).
        let temporaries = ((try? FileManager.default.contentsOfDirectory(atPath: store.temporaryDirectory)) ?? []).filter { name in
            guard let pid = name.split(separator: "-").first.flatMap({ Int($0) }), IngestRecovery.isAlive(pid) else { return true }
            return Self.olderThanADay(store.temporaryDirectory + "/" + name)
        }
        return DoctorScan.Input(
            rows: rows, busy: busy, folders: folders, otherOriginalsPresent: others, unownedTemporaries: temporaries)
    }

    private func load() async throws(MediaError) -> ([Row], Set<String>) {
        let rows = try await repository.doctorRows()
        var busy = try await repository.intentPaths()
        // A deleting row whose intents are live belongs to a GC running now.
        for row in rows where row.state == "deleting" { busy.insert(row.path) }
        return (rows, busy)
    }

    /// Regular files under `root/folder`, relative to `root`, read with readdir (no stat per
    /// entry where the filesystem reports the type).
    static func files(under root: String, _ folder: String) -> [String] {
        var result: [String] = []
        var pending = [folder]
        while let relative = pending.popLast() {
            guard let directory = opendir(root + "/" + relative) else { continue }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                let path = relative + "/" + name
                switch Int32(entry.pointee.d_type) {
                case Int32(DT_DIR): pending.append(path)
                case Int32(DT_REG): result.append(path)
                default:
                    var info = stat()
                    if lstat(root + "/" + path, &info) == 0 {
                        if (info.st_mode & S_IFMT) == S_IFDIR { pending.append(path) } else { result.append(path) }
                    }
                }
            }
        }
        return result
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func olderThanADay(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return time(nil) - info.st_mtim.tv_sec > 86_400
    }
}

extension LibraryDoctor {
    /// A file that does not hash to its row may be an optimised original the row does not
    /// record (rows restored from before the optimisation): its metadata file then names the
    /// bytes found, and `--fix` gives the row those stored facts, as `mediaq reindex` would.
    /// Nil when the metadata file does not vouch for the bytes: a checksum mismatch then.
    func storedFactsBehind(_ row: Row, found: String, fix: Bool) async -> Problem? {
        let file = store.absolute(AssetMetadata.path(sha256: row.sha256, kind: row.kind))
        guard let metadata = try? AssetMetadata.read(at: file), let stored = metadata.stored, stored.sha256 == found else {
            return nil
        }
        var problem = Problem(
            kind: .storedFactsBehind, path: row.path, assetId: row.id,
            detail: "it was optimised (\(stored.method)) to \(found.prefix(12)); its row does not say so")
        if fix {
            do {
                _ = try await assets.apply(metadata, to: row.id)
                problem.fixed = true
                problem.action = "the row took the stored facts of its metadata file"
            } catch {
                problem.action = "not fixed: \(error.message)"
            }
        }
        return problem
    }
}
