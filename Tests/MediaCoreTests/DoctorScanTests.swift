@testable import MediaCore
import Testing

/// Doctor's comparison of rows and files, without a database or a folder.
@Suite struct DoctorScanTests {
    static func row(
        _ id: Int64, _ sha: String, state: String = "present", thumbnail: String? = "ok", kind: MediaFormat.Kind = .image
    ) -> DoctorScan.Row {
        let folder = kind == .image ? "images" : "videos"
        return DoctorScan.Row(
            id: id, kind: kind, sha256: sha, path: "\(folder)/original/\(sha.prefix(2))/\(sha).jpg", state: state,
            thumbnailStatus: thumbnail, thumbnailPath: thumbnail == "ok" ? "\(folder)/thumbs/\(sha).jpg" : nil)
    }

    static func input(
        _ rows: [DoctorScan.Row], originals: [String], thumbnails: [String], busy: Set<String> = [],
        others: Set<String> = [], temporaries: [String] = []
    ) -> DoctorScan.Input {
        DoctorScan.Input(
            rows: rows, busy: busy, folders: [(originals, thumbnails)], otherOriginalsPresent: others,
            unownedTemporaries: temporaries)
    }

    func problems(_ result: DoctorScan.Result) -> [(LibraryDoctor.ProblemKind, String, DoctorScan.Repair)] {
        result.steps.compactMap { step in
            if case .problem(let problem, _, let repair) = step { return (problem.kind, problem.path, repair) }
            return nil
        }
    }

    @Test func aHealthyLibraryHasOnlyModeChecks() {
        let a = Self.row(1, "aa11"), b = Self.row(2, "bb22")
        let result = DoctorScan.scan(
            Self.input(
                [a, b], originals: [a.path, b.path], thumbnails: [a.thumbnailPath!, b.thumbnailPath!]))
        #expect(result.steps == [.checkMode(a.path), .checkMode(b.path), .checkMode(a.thumbnailPath!), .checkMode(b.thumbnailPath!)])
        #expect(result.originals == 2 && result.thumbnails == 2)
        #expect(result.verifiable == [a, b])
    }

    @Test func originalsWithoutRowsAreAdoptedNeverRemovedAndRowsWithoutOriginalsAreMarkedLost() {
        let kept = Self.row(1, "aa11"), gone = Self.row(2, "bb22")
        let stray = "images/original/cc/cc33.jpg", strayThumb = "images/thumbs/cc33.jpg"
        let result = DoctorScan.scan(
            Self.input(
                [kept, gone], originals: [kept.path, stray], thumbnails: [kept.thumbnailPath!, gone.thumbnailPath!, strayThumb]))
        let found = problems(result)
        #expect(found.map(\.0) == [.originalWithoutRow, .thumbnailOrphaned, .rowWithoutOriginal])
        #expect(found[0].1 == stray && found[0].2 == .adopt, "an original is never removed")
        #expect(found[1].1 == strayThumb && found[1].2 == .removeFile)
        #expect(found[2].1 == gone.path && found[2].2 == .markLost)
        #expect(result.verifiable == [kept], "only an original that is there is verified")
    }

    @Test func theThumbnailOfAnOriginalToAdoptIsNotAnOrphan() {
        let sha = String(repeating: "ab", count: 32)
        let original = "videos/original/ab/\(sha).mp4", thumbnail = "videos/thumbs/\(sha).jpg"
        let result = DoctorScan.scan(Self.input([], originals: [original], thumbnails: [thumbnail]))
        #expect(problems(result).map(\.0) == [.originalWithoutRow])
        #expect(result.steps.contains(.checkMode(thumbnail)))
    }

    @Test func aLostAssetIsSettledUntilItsOriginalComesBack() {
        let lost = Self.row(1, "aa11", state: "lost"), back = Self.row(2, "bb22", state: "lost")
        let result = DoctorScan.scan(
            Self.input(
                [lost, back], originals: [back.path], thumbnails: [lost.thumbnailPath!, back.thumbnailPath!], others: [back.path]))
        #expect(result.lost == 1)
        let found = problems(result)
        #expect(found.map(\.0) == [.lostOriginalBack] && found[0].2 == .adopt, "\(found)")
        #expect(result.verifiable.isEmpty, "a lost asset is not verified")
    }

    @Test func aMissingThumbnailIsRegeneratedAndOneIngestCouldNotMakeIsNoProblem() {
        let gone = Self.row(1, "aa11"), neverMade = Self.row(2, "bb22", thumbnail: "missing"), noRow = Self.row(3, "cc33", thumbnail: nil)
        let result = DoctorScan.scan(
            Self.input([gone, neverMade, noRow], originals: [gone.path, neverMade.path, noRow.path], thumbnails: []))
        let found = problems(result)
        #expect(found.map(\.0) == [.thumbnailMissing, .thumbnailMissing])
        #expect(found[0].2 == .regenerateThumbnail(at: "images/thumbs/aa11.jpg"))
        #expect(found[1].1 == "images/thumbs/cc33.jpg", "no thumbnail row: named where it belongs")
        #expect(result.steps.contains(.markedMissing(neverMade, at: "images/thumbs/bb22.jpg")))
    }

    @Test func whatARunningIngestOrCollectionHoldsIsLeftAlone() {
        let row = Self.row(1, "aa11", state: "deleting")
        let arriving = "images/original/dd/dd44.jpg"
        let result = DoctorScan.scan(
            Self.input(
                [row], originals: [arriving], thumbnails: [], busy: [row.path, arriving]))
        #expect(result.steps.isEmpty)
        #expect(result.originals == 0)
    }

    @Test func aQuarantinedRowIsCheckedByItsOwnLookupAndNeverVerified() {
        let quarantined = Self.row(1, "aa11", state: "quarantined", thumbnail: "missing")
        let there = DoctorScan.scan(Self.input([quarantined], originals: [], thumbnails: [], others: [quarantined.path]))
        #expect(problems(there).isEmpty)
        #expect(there.verifiable.isEmpty)
        let gone = DoctorScan.scan(Self.input([quarantined], originals: [], thumbnails: []))
        #expect(problems(gone).map(\.0) == [.rowWithoutOriginal])
    }

    @Test func temporariesNoProcessOwnsAreReportedInNameOrder() {
        let result = DoctorScan.scan(Self.input([], originals: [], thumbnails: [], temporaries: ["9-b.part", "12-a.part"]))
        #expect(problems(result).map(\.1) == [".tmp/12-a.part", ".tmp/9-b.part"])
        #expect(problems(result).allSatisfy { $0.0 == .temporaryLeftover && $0.2 == .removeFile })
    }
}
