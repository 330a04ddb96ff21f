/// Doctor's comparison of rows with files, as a pure function: what the database says and what
/// the folders hold go in, the problems (each with the repair `--fix` would try) and the checks
/// still to make come out, in the order a person reads them (files, rows, temporaries). No
/// filesystem or database here: `LibraryDoctor` reads both, then carries out the steps.
struct DoctorScan {
    /// One asset as the database has it.
    struct Row: Equatable {
        let id: Int64
        let kind: MediaFormat.Kind
        let sha256: String
        let path: String
        let state: String
        let thumbnailStatus: String?
        let thumbnailPath: String?
        /// The hash of the file on disk when it was optimised (docs/storage.md); nil when it
        /// is the download, whose hash is `sha256`.
        var storedSha256: String? = nil

        /// What the original's bytes hash to.
        var expectedSha256: String { storedSha256 ?? sha256 }
    }

    /// What was read.
    struct Input {
        var rows: [Row]
        /// Paths with a live intent (an ingest or GC running now): left alone.
        var busy: Set<String>
        /// Per kind's folder (`images`, `videos`): the regular files under its `original` and
        /// `thumbs`, relative to the root.
        var folders: [(originals: [String], thumbnails: [String])]
        /// The originals of rows that are not `present` (deleting, quarantined) that exist: they
        /// are not walked, so each was looked up.
        var otherOriginalsPresent: Set<String>
        /// Names in `.tmp` that no running process owns (or older than a day).
        var unownedTemporaries: [String]
    }

    /// What `--fix` does about a problem.
    enum Repair: Equatable {
        /// Nothing `--fix` can do, and why.
        case cannot(String)
        case removeFile
        /// Records the original again from its bytes and metadata file (as `mediaq reindex`);
        /// one whose bytes do not match its name is moved to the quarantine folder instead.
        case adopt
        /// The original is gone: the asset is marked lost (offered no more; its record stays).
        case markLost
        /// Makes the asset's thumbnail again at this path.
        case regenerateThumbnail(at: String)
    }

    /// One step of the report, in order.
    enum Step: Equatable {
        /// A library file with its row: its mode is checked (0444, a regular file).
        case checkMode(String)
        case problem(LibraryDoctor.Problem, Row?, Repair)
        /// A thumbnail ingest could not make (not a problem); `--fix` tries again.
        case markedMissing(Row, at: String)
    }

    struct Result {
        var steps: [Step] = []
        var originals = 0
        var thumbnails = 0
        /// Assets already marked lost whose originals are still gone: settled, not problems.
        var lost = 0
        /// Present assets whose original is there: the ones `--verify` may read.
        var verifiable: [Row] = []
    }

    static func scan(_ input: Input) -> Result {
        var result = Result()
        var byOriginal: [String: Row] = [:]
        var byThumbnail: [String: Row] = [:]
        for row in input.rows {
            byOriginal[row.path] = row
            if row.thumbnailStatus == "ok", let thumb = row.thumbnailPath { byThumbnail[thumb] = row }
        }

        // Files, against rows.
        var originalsFound: Set<String> = []
        var thumbnailsFound: Set<String> = []
        // The thumbnails of originals about to be adopted are theirs, not orphans.
        let adoptable = Set(
            input.folders.flatMap(\.originals).filter { byOriginal[$0] == nil && !input.busy.contains($0) }
                .compactMap { OriginalAdopter.parse($0).map { ContentStore.thumbnailPath(sha256: $0.sha256, kind: $0.kind) } })
        for folder in input.folders {
            for relative in folder.originals where !input.busy.contains(relative) {
                result.originals += 1
                if byOriginal[relative] != nil {
                    originalsFound.insert(relative)
                    result.steps.append(.checkMode(relative))
                } else {
                    result.steps.append(
                        .problem(
                            .init(kind: .originalWithoutRow, path: relative, assetId: nil, detail: "no asset row names this file"),
                            nil, .adopt))
                }
            }
            for relative in folder.thumbnails where !input.busy.contains(relative) {
                result.thumbnails += 1
                if byThumbnail[relative] != nil {
                    thumbnailsFound.insert(relative)
                    result.steps.append(.checkMode(relative))
                } else if adoptable.contains(relative) {
                    result.steps.append(.checkMode(relative))
                } else {
                    result.steps.append(
                        .problem(
                            .init(kind: .thumbnailOrphaned, path: relative, assetId: nil, detail: "no thumbnail row names this file"),
                            nil, .removeFile))
                }
            }
        }

        // Rows, against files.
        for row in input.rows where !input.busy.contains(row.path) {
            let hasOriginal =
                row.state == "present" ? originalsFound.contains(row.path) : input.otherOriginalsPresent.contains(row.path)
            if row.state == "lost" {
                if hasOriginal {
                    result.steps.append(
                        .problem(
                            .init(
                                kind: .lostOriginalBack, path: row.path, assetId: row.id,
                                detail: "asset \(row.id) is marked lost, but its original is there again"),
                            row, .adopt))
                } else {
                    result.lost += 1
                }
                continue
            }
            guard hasOriginal else {
                if row.state == "present" {
                    result.steps.append(
                        .problem(
                            .init(
                                kind: .rowWithoutOriginal, path: row.path, assetId: row.id,
                                detail: "asset \(row.id)'s original is gone; restore it from a backup, or mark the asset lost"),
                            row, .markLost))
                    continue
                }
                result.steps.append(
                    .problem(
                        .init(
                            kind: .rowWithoutOriginal, path: row.path, assetId: row.id,
                            detail: "asset \(row.id) (\(row.state)) has no original; restore it from a backup or remove the asset"),
                        row, .cannot("not fixable here: the file is gone")))
                continue
            }
            if row.state == "present" { result.verifiable.append(row) }
            let thumbPath = ContentStore.thumbnailPath(sha256: row.sha256, kind: row.kind)
            if row.thumbnailStatus == "missing" {
                result.steps.append(.markedMissing(row, at: thumbPath))
            } else if row.thumbnailStatus == nil || !(row.thumbnailPath.map(thumbnailsFound.contains) ?? false) {
                if input.busy.contains(thumbPath) { continue }
                result.steps.append(
                    .problem(
                        .init(
                            kind: .thumbnailMissing, path: row.thumbnailPath ?? thumbPath, assetId: row.id,
                            detail: row.thumbnailStatus == nil
                                ? "asset \(row.id) has no thumbnail row" : "asset \(row.id)'s thumbnail file is gone"),
                        row, .regenerateThumbnail(at: thumbPath)))
            }
        }

        // Temporary files no running process owns.
        for name in input.unownedTemporaries.sorted() {
            result.steps.append(
                .problem(
                    .init(
                        kind: .temporaryLeftover, path: ContentStore.temporaryFolder + "/" + name, assetId: nil,
                        detail: "a temporary file no running process owns"),
                    nil, .removeFile))
        }
        return result
    }
}
