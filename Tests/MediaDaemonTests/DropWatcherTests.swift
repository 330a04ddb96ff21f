import Foundation
import MediaDaemon
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Real inotify on a real folder.
@Suite struct DropWatcherTests {
    final class Folder {
        let path: String
        init() throws {
            path = "/tmp/drop-watch-" + UUID().uuidString.prefix(8).lowercased()
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Collects events until `expected` paths were all reported, or `seconds` pass.
    /// `created`: files reported as created (to be taken when quiet) count as seen too.
    func collect(
        _ watcher: DropWatcher, until expected: Set<String>, seconds: Double = 10, created: Bool = false
    ) async -> (files: Set<String>, overflow: Bool) {
        let events = watcher.events
        return await withTaskGroup(of: (Set<String>, Bool).self) { group in
            group.addTask {
                var seen: Set<String> = []
                var overflow = false
                for await event in events {
                    switch event {
                    case .fileReady(let path): seen.insert(path)
                    case .fileCreated(let path):
                        guard created else { continue }
                        seen.insert(path)
                    case .overflow: overflow = true
                    }
                    if expected.isEmpty ? overflow : expected.isSubset(of: seen) { break }
                }
                return (seen, overflow)
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                watcher.stop()
                return ([], false)
            }
            let first = await group.next() ?? ([], false)
            group.cancelAll()
            watcher.stop()
            return first
        }
    }

    func write(_ path: String, _ text: String = "data") throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    @Test func reportsFilesWrittenInPlaceAndRenamedIn() async throws {
        let folder = try Folder()
        let staging = try Folder()
        let watcher = try DropWatcher(directory: folder.path)
        watcher.start()
        let inPlace = folder.path + "/written.jpg"
        try write(inPlace)
        let staged = staging.path + "/download.mp4"
        try write(staged)
        let renamed = folder.path + "/renamed.mp4"
        #expect(rename(staged, renamed) == 0)
        let (files, _) = await collect(watcher, until: [inPlace, renamed])
        #expect(files.isSuperset(of: [inPlace, renamed]))
    }

    @Test func ignoresUnfinishedNamesUntilRenamed() async throws {
        let folder = try Folder()
        let watcher = try DropWatcher(directory: folder.path)
        watcher.start()
        for name in [".hidden.jpg", "a.jpg.part", "b.tmp", "c.crdownload", "d.download"] {
            try write(folder.path + "/" + name)
        }
        let final = folder.path + "/a.jpg"
        #expect(rename(folder.path + "/a.jpg.part", final) == 0)
        let marker = folder.path + "/zzz-last.jpg"
        try write(marker)
        let (files, _) = await collect(watcher, until: [final, marker])
        #expect(files == [final, marker])
    }

    @Test func watchesSubfoldersMadeLaterAndWhatIsAlreadyInThem() async throws {
        let folder = try Folder()
        let watcher = try DropWatcher(directory: folder.path)
        watcher.start()
        let nested = folder.path + "/run-1/videos/clip.mp4"
        try write(nested)  // creates run-1 and run-1/videos, then the file, faster than a watch is added
        try await Task.sleep(for: .milliseconds(200))
        let later = folder.path + "/run-1/videos/later.mp4"
        try write(later)
        // The file found in the new folder may still be being written in place: reported as
        // created (taken once quiet, or at its close), never as ready on sight.
        let (files, _) = await collect(watcher, until: [nested, later], created: true)
        #expect(files.isSuperset(of: [nested, later]))
    }

    @Test func reportsAnOverflowWhenTheKernelDropsEvents() async throws {
        let folder = try Folder()
        // Watches exist but nobody reads: the kernel queue (max_queued_events) overflows.
        let watcher = try DropWatcher(directory: folder.path)
        let limit =
            Int(
                (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        for index in 0..<(limit + 200) {
            try write(folder.path + "/f\(index).jpg", "")
        }
        watcher.start()
        let (_, overflow) = await collect(watcher, until: [], seconds: 20)
        #expect(overflow)
        #expect(DropWatcher.existingFiles(under: folder.path).count == limit + 200, "a rescan finds every file")
    }

    @Test func existingFilesSkipsHiddenFoldersAndUnfinishedNames() throws {
        let folder = try Folder()
        try write(folder.path + "/a.jpg")
        try write(folder.path + "/sub/b.mp4")
        try write(folder.path + "/.receipts/a.jpg.json")
        try write(folder.path + "/c.jpg.part")
        #expect(DropWatcher.existingFiles(under: folder.path) == [folder.path + "/a.jpg", folder.path + "/sub/b.mp4"])
    }

    @Test func reportsAFileLinkedIntoTheFolderAsCreated() async throws {
        let folder = try Folder()
        let staging = try Folder()
        let watcher = try DropWatcher(directory: folder.path)
        watcher.start()
        try write(staging.path + "/made-elsewhere.jpg")
        let linked = folder.path + "/linked.jpg"
        #expect(link(staging.path + "/made-elsewhere.jpg", linked) == 0)
        let events = watcher.events
        let created = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await event in events where event == .fileCreated(linked) { return true }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                watcher.stop()
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            watcher.stop()
            return first
        }
        #expect(created)
    }

    @Test func aMissingFolderIsAClearError() {
        #expect(throws: DropWatchError.self) { try DropWatcher(directory: "/nonexistent/drop") }
    }
}

@Suite struct ReceiptPruningTests {
    @Test func removesOnlyReceiptsOlderThanTheRetention() throws {
        let drop = "/tmp/receipts-" + UUID().uuidString.prefix(8).lowercased()
        defer { try? FileManager.default.removeItem(atPath: drop) }
        let folder = drop + "/.receipts/run-1"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let old = folder + "/old.jpg.json"
        let fresh = drop + "/.receipts/fresh.jpg.json"
        #expect(FileManager.default.createFile(atPath: old, contents: Data("{}".utf8)))
        #expect(FileManager.default.createFile(atPath: fresh, contents: Data("{}".utf8)))
        let eightDaysAgo = Date().addingTimeInterval(-8 * 86_400)
        try FileManager.default.setAttributes([.modificationDate: eightDaysAgo], ofItemAtPath: old)
        #expect(DropService.pruneReceipts(in: drop, olderThan: .seconds(7 * 86_400)) == 1)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: fresh))
    }
}
