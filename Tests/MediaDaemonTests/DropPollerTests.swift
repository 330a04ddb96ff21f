import Foundation
import MediaDaemon
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The polling watcher for network drop folders: its pure scan-to-scan rule, then a real folder.
@Suite struct DropPollerTests {
    static func file(_ size: Int64, at modified: Int64, inode: UInt64 = 1) -> ScannedFile {
        ScannedFile(size: size, modified: modified, inode: inode)
    }

    /// Scans 1 s apart, settling after 3 s.
    static let start = ContinuousClock.now
    static func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    @Test func aFileIsReportedOnceUnchangedForTheSettlePeriod() {
        var state = DropScanState(settle: .seconds(3))
        let listing = ["/d/a.jpg": Self.file(10, at: 1)]
        #expect(state.update(with: listing, at: Self.at(0)).isEmpty, "first sight: it may still be written")
        #expect(state.update(with: listing, at: Self.at(1)).isEmpty)
        #expect(state.update(with: listing, at: Self.at(2)).isEmpty)
        #expect(state.update(with: listing, at: Self.at(3)) == ["/d/a.jpg"])
        #expect(state.update(with: listing, at: Self.at(4)).isEmpty, "never twice")
    }

    @Test func aGrowingOrStalledFileWaitsUntilItHasBeenQuietLongEnough() {
        var state = DropScanState(settle: .seconds(3))
        _ = state.update(with: ["/d/v.mp4": Self.file(100, at: 1)], at: Self.at(0))
        #expect(state.update(with: ["/d/v.mp4": Self.file(200, at: 2)], at: Self.at(1)).isEmpty)
        // A writer stalled for two scans is not taken for finished.
        #expect(state.update(with: ["/d/v.mp4": Self.file(200, at: 2)], at: Self.at(2)).isEmpty)
        #expect(state.update(with: ["/d/v.mp4": Self.file(200, at: 2)], at: Self.at(3)).isEmpty)
        #expect(state.update(with: ["/d/v.mp4": Self.file(300, at: 2)], at: Self.at(4)).isEmpty, "same time, new size")
        #expect(state.update(with: ["/d/v.mp4": Self.file(300, at: 2)], at: Self.at(6)).isEmpty)
        #expect(state.update(with: ["/d/v.mp4": Self.file(300, at: 2)], at: Self.at(7)) == ["/d/v.mp4"])
    }

    @Test func aFileReplacedUnderItsNameIsReportedAgainOnceSettled() {
        var state = DropScanState(settle: .seconds(1), alreadyReported: ["/d/a.jpg": Self.file(10, at: 1, inode: 7)])
        #expect(state.update(with: ["/d/a.jpg": Self.file(10, at: 1, inode: 7)], at: Self.at(1)).isEmpty, "the start's own scan took it")
        #expect(state.update(with: ["/d/a.jpg": Self.file(10, at: 1, inode: 8)], at: Self.at(2)).isEmpty, "renamed over: a new file")
        #expect(state.update(with: ["/d/a.jpg": Self.file(10, at: 1, inode: 8)], at: Self.at(3)) == ["/d/a.jpg"])
        // Gone (ingested), then dropped again under the same name.
        #expect(state.update(with: [:], at: Self.at(4)).isEmpty)
        _ = state.update(with: ["/d/a.jpg": Self.file(10, at: 1, inode: 8)], at: Self.at(5))
        #expect(state.update(with: ["/d/a.jpg": Self.file(10, at: 1, inode: 8)], at: Self.at(6)) == ["/d/a.jpg"])
    }

    @Test func filesSettledInOneScanComeInArrivalOrder() {
        var state = DropScanState(settle: .seconds(1))
        let listing = [
            "/d/b.jpg": Self.file(1, at: 5, inode: 1), "/d/a.jpg": Self.file(1, at: 5, inode: 2),
            "/d/sub/c.jpg": Self.file(1, at: 3, inode: 3), "/d/a.jpg.json": Self.file(1, at: 4, inode: 4),
        ]
        _ = state.update(with: listing, at: Self.at(0))
        #expect(state.update(with: listing, at: Self.at(1)) == ["/d/sub/c.jpg", "/d/a.jpg.json", "/d/a.jpg", "/d/b.jpg"])
    }

    @Test func aLocalFolderIsNotANetworkFilesystem() {
        #expect(DropFolderFilesystem.filesystemType(of: "/tmp") != nil, "statfs answers")
        #expect(DropFolderFilesystem.networkKind(of: "/tmp") == nil)
        #expect(DropFolderFilesystem.networkKind(of: "/proc") == nil)
    }

    @Test func aRealFolderIsScannedWithItsSubfoldersAndUnfinishedNamesLeftAlone() async throws {
        let folder = "/tmp/drop-poll-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("old".utf8).write(to: URL(fileURLWithPath: folder + "/before.jpg"))
        let poller = try DropPoller(directory: folder, interval: .milliseconds(100), settle: .milliseconds(200))
        poller.start()
        try FileManager.default.createDirectory(atPath: folder + "/run-1", withIntermediateDirectories: true)
        try Data("a".utf8).write(to: URL(fileURLWithPath: folder + "/run-1/a.jpg"))
        try Data("b".utf8).write(to: URL(fileURLWithPath: folder + "/.b.jpg.part"))
        try Data("c".utf8).write(to: URL(fileURLWithPath: folder + "/c.mp4.crdownload"))
        var seen: [String] = []
        let collector = Task {
            var paths: [String] = []
            for await event in poller.events {
                if case .fileReady(let path) = event { paths.append(path) }
            }
            return paths
        }
        try await Task.sleep(for: .milliseconds(800))
        #expect(rename(folder + "/.b.jpg.part", folder + "/b.jpg") == 0)
        try await Task.sleep(for: .milliseconds(800))
        poller.stop()
        seen = await collector.value
        #expect(seen == [folder + "/run-1/a.jpg", folder + "/b.jpg"], "\(seen)")
    }
}
