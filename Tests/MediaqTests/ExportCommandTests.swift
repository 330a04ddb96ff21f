import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mediaq export` in each mode, on this machine's real filesystems.
@Suite(.serialized) struct ExportCommandTests {
    struct Output: Decodable {
        struct Result: Decodable {
            struct Skipped: Decodable {
                let mode: String
                let reason: String
            }
            let id: Int64
            let sha256: String
            let source: String
            let path: String
            let status: String
            let mode: String
            let verified: String
            let skipped: [Skipped]
        }
        struct Failure: Decodable {
            let id: Int64
            let code: String
            let message: String
        }
        let ok: Bool
        let exported: [Result]
        let failed: [Failure]
    }

    /// Whether `directory`'s filesystem clones files, asked of the kernel directly.
    static func reflinkWorks(in directory: String) -> Bool {
        let source = directory + "/.probe-source"
        let clone = directory + "/.probe-clone"
        defer {
            unlink(source)
            unlink(clone)
        }
        guard FileManager.default.createFile(atPath: source, contents: Data(repeating: 7, count: 8192)) else { return false }
        let input = open(source, O_RDONLY)
        let output = open(clone, O_WRONLY | O_CREAT, 0o600)
        defer {
            close(input)
            close(output)
        }
        return ioctl(output, UInt(0x4004_9409), input) == 0
    }

    static func inode(_ path: String) -> (UInt64, UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    func export(
        _ library: CommandLibrary, _ ids: [Int64], to directory: String, mode: String?, extra: [String] = []
    ) throws -> (ChildProcess.Outcome, Output?) {
        let outcome = try library.mediaq(
            ["export"] + ids.map(String.init) + ["--to", directory, "--json"] + (mode.map { ["--mode", $0] } ?? []) + extra)
        return (outcome, try? JSONDecoder().decode(Output.self, from: Data(outcome.standardOutput.utf8)))
    }

    @Test func eachModeMakesAVerifiedResult() async throws {
        try await CommandLibrary.with { library in
            let image = try library.add("photo.png", tags: "x")
            let video = try library.add("clip.mp4", tags: "x", video: true)
            let reflinks = Self.reflinkWorks(in: library.folder.path)

            // hardlink: the original itself, under a second name.
            let (linked, hard) = try export(library, [image, video], to: "hard", mode: "hardlink")
            #expect(linked.status == 0, "\(linked.transcript)")
            let hardResults = try #require(hard?.exported)
            #expect(
                hardResults.map(\.id) == [image, video] && hardResults.allSatisfy { $0.mode == "hardlink" && $0.verified == "same-file" })
            for result in hardResults {
                #expect(result.path == library.folder.path + "/hard/" + result.sha256 + (result.id == image ? ".png" : ".mp4"))
                #expect(result.source.hasPrefix(library.root + "/"))
                #expect(Self.inode(result.path)! == Self.inode(result.source)!)
            }

            // symlink: a link to the original's absolute path.
            let (symbolic, soft) = try export(library, [image], to: library.folder.path + "/soft", mode: "symlink")
            #expect(symbolic.status == 0, "\(symbolic.transcript)")
            let softResult = try #require(soft?.exported.first)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: softResult.path) == softResult.source)

            // copy: another inode with the same bytes.
            let (copied, copy) = try export(library, [video], to: "copies", mode: "copy")
            #expect(copied.status == 0, "\(copied.transcript)")
            let copyResult = try #require(copy?.exported.first)
            #expect(copyResult.mode == "copy" && copyResult.verified == "sha256")
            #expect(Self.inode(copyResult.path)! != Self.inode(copyResult.source)!)
            #expect(try ContentStore.sha256(ofFileAt: copyResult.path) == copyResult.sha256)
            #expect(try FileManager.default.contentsOfDirectory(atPath: library.folder.path + "/copies").count == 1, "no temporary left")

            // reflink: works where the filesystem clones, else says so and writes nothing.
            let (cloned, clone) = try export(library, [image], to: "clones", mode: "reflink")
            if reflinks {
                #expect(cloned.status == 0, "\(cloned.transcript)")
                #expect(clone?.exported.first?.mode == "reflink")
            } else {
                #expect(cloned.status == 65, "\(cloned.transcript)")
                #expect(cloned.standardError.contains("reflink") && cloned.standardError.contains("--mode auto"))
                #expect(clone?.failed.first?.code == "export_mode_unsupported")
                #expect(try FileManager.default.contentsOfDirectory(atPath: library.folder.path + "/clones").isEmpty)
            }

            // auto: the cheapest that works here, never a copy on one filesystem.
            let (automatic, auto) = try export(library, [image], to: "auto", mode: nil)
            #expect(automatic.status == 0, "\(automatic.transcript)")
            let autoResult = try #require(auto?.exported.first)
            #expect(autoResult.mode == (reflinks ? "reflink" : "hardlink"))
            #expect(autoResult.skipped.map(\.mode) == (reflinks ? [] : ["reflink"]))

            // Exporting again finds the result there; something else at the name is never replaced.
            let (again, repeated) = try export(library, [image, video], to: "hard", mode: "copy")
            #expect(again.status == 0, "\(again.transcript)")
            #expect(repeated?.exported.map(\.status) == ["existing", "existing"])
            #expect(repeated?.exported.map(\.mode) == ["hardlink", "hardlink"])
            let videoSha = hardResults[1].sha256
            let conflictPath = library.folder.path + "/conflict/" + videoSha + ".mp4"
            try FileManager.default.createDirectory(atPath: library.folder.path + "/conflict", withIntermediateDirectories: true)
            try "not the video".write(toFile: conflictPath, atomically: false, encoding: .utf8)
            let (conflicted, conflict) = try export(library, [image, video], to: "conflict", mode: nil)
            #expect(conflicted.status == 65, "\(conflicted.transcript)")
            #expect(conflict?.exported.map(\.id) == [image], "the other asset is still exported")
            #expect(conflict?.failed.map(\.code) == ["export_conflict"])
            #expect(try String(contentsOfFile: conflictPath, encoding: .utf8) == "not the video")

            // An unknown id exports nothing and makes no folder.
            let (unknown, _) = try export(library, [image, 999], to: "never", mode: nil)
            #expect(unknown.status == 65, "\(unknown.transcript)")
            #expect(!FileManager.default.fileExists(atPath: library.folder.path + "/never"))
        }
    }

    /// Across filesystems neither a clone nor a hard link can work. Auto then copies, which no
    /// GC can break, unless the export pins the assets for its run (--pin RUN): then a symbolic
    /// link, whose original GC keeps while the pin lives.
    @Test func autoAcrossFilesystemsCopiesUnlessPinnedForTheRun() async throws {
        try await CommandLibrary.with { library in
            let image = try library.add("photo.png", tags: "x")
            let unpinned = try library.add("other.png", tags: "x", colour: "blue")
            let other = library.folder.path + "/other-filesystem"
            try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
            let environment = ProcessInfo.processInfo.environment
            let mounted = try ChildProcess.run(
                ["/usr/bin/mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", other], environment: environment)
            try #require(mounted.status == 0, "mount tmpfs: \(mounted.output)")
            defer { _ = try? ChildProcess.run(["/usr/bin/umount", other], environment: environment) }

            let (unpinnedOutcome, unpinnedOutput) = try export(library, [image], to: other + "/unpinned", mode: nil)
            #expect(unpinnedOutcome.status == 0, "\(unpinnedOutcome.transcript)")
            let copyResult = try #require(unpinnedOutput?.exported.first)
            #expect(copyResult.mode == "copy" && copyResult.verified == "sha256")
            #expect(copyResult.skipped.map(\.mode) == ["reflink", "hardlink", "symlink"])
            #expect(copyResult.skipped.last?.reason.contains("--pin") == true)

            let (outcome, output) = try export(library, [image], to: other + "/project", mode: nil, extra: ["--pin", "render-7"])
            #expect(outcome.status == 0, "\(outcome.transcript)")
            let result = try #require(output?.exported.first)
            #expect(result.mode == "symlink" && result.verified == "same-file")
            #expect(result.skipped.map(\.mode) == ["reflink", "hardlink"])
            #expect(result.skipped.allSatisfy { $0.reason.contains("different filesystems") || $0.reason.contains("reflink") })
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: result.path) == result.source)
            #expect(try await library.query("SELECT asset_id FROM pin WHERE run_id = 'render-7' AND expires_at > now()") == [image])

            // GC down to nothing takes the unpinned asset and keeps the pinned one: the link
            // still reads its original.
            let gc = try library.mediaq(["gc", "--target", "0", "--json"])
            #expect(gc.status == 0 && gc.standardOutput.contains("\"skippedPinned\" : 1"), "\(gc.transcript)")
            #expect(FileManager.default.fileExists(atPath: result.path), "the link is not dangling")
            #expect(try await library.query("SELECT id FROM asset") == [image], "asset \(unpinned) was collected")

            let (hard, _) = try export(library, [image], to: other + "/hard", mode: "hardlink")
            #expect(hard.status == 65, "\(hard.transcript)")
            #expect(hard.standardError.contains("different filesystems"))
            let (copy, copied) = try export(library, [image], to: other + "/copy", mode: "copy")
            #expect(copy.status == 0, "\(copy.transcript)")
            #expect(copied?.exported.first?.verified == "sha256")
        }
    }

    /// On a filesystem that clones (XFS with reflink, made for the test on a loop device), a
    /// reflink is what auto uses: an independent file that shares the original's blocks.
    @Test func reflinkWhereTheFilesystemClones() async throws {
        let scratch = try TemporaryFolder()
        defer { scratch.remove() }
        let environment = ProcessInfo.processInfo.environment
        let image = scratch.path + "/xfs.img"
        let mountPoint = scratch.path + "/xfs"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        for command in [
            ["/usr/bin/truncate", "-s", "320M", image],
            ["/usr/sbin/mkfs.xfs", "-q", "-m", "reflink=1", image],
            ["/usr/bin/mount", "-o", "loop", image, mountPoint],
        ] {
            let outcome = try ChildProcess.run(command, environment: environment)
            try #require(outcome.status == 0, "\(command.joined(separator: " ")): \(outcome.output)")
        }
        defer { _ = try? ChildProcess.run(["/usr/bin/umount", mountPoint], environment: environment) }
        try #require(chmod(mountPoint, 0o755) == 0)
        #expect(Self.reflinkWorks(in: mountPoint))

        try await TestDatabase.withFresh { url in
            // The 320 MB filesystem is far below the default 1 GB free-space reserve.
            let library = try CommandLibrary(url: url, root: mountPoint + "/library", environment: ["MEDIA_RESERVE_BYTES": "0"])
            defer { library.folder.remove() }
            let video = try library.add("clip.mp4", tags: "x", video: true)
            for (mode, folder) in [(nil, "auto"), ("reflink", "clone")] {
                let (outcome, output) = try export(library, [video], to: mountPoint + "/" + folder, mode: mode)
                #expect(outcome.status == 0, "\(outcome.transcript)")
                let result = try #require(output?.exported.first)
                #expect(result.mode == "reflink" && result.verified == "sha256" && result.skipped.isEmpty)
                #expect(Self.inode(result.path)! != Self.inode(result.source)!, "an independent file")
                #expect(try ContentStore.sha256(ofFileAt: result.path) == result.sha256)
                var info = stat()
                #expect(stat(result.path, &info) == 0 && info.st_mode & 0o777 == 0o644, "the project's own, writable copy")
            }
        }
    }
}
