import Foundation
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

@Suite struct LibraryOpenerTests {
    let noMounts = MountTable(mounted: ["/"], declared: ["/"])

    func open(root: String, url: DatabaseURL, mounts: MountTable? = nil) async throws -> OpenLibrary {
        let configuration = LibraryConfiguration(libraryRoot: root, databaseURL: url)
        let (library, connection) = try await LibraryOpener(
            configuration: configuration, logger: testLogger, mountTable: mounts ?? noMounts
        ).open()
        try await connection.close()
        return library
    }

    func expectRefusal(
        _ code: MediaError.Code, root: String, url: DatabaseURL, mounts: MountTable? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> MediaError? {
        do {
            _ = try await open(root: root, url: url, mounts: mounts)
            Issue.record("expected \(code)", sourceLocation: sourceLocation)
            return nil
        } catch let error as MediaError {
            #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func firstOpenCreatesRootMarkerAndRowThenReopens() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/new/library"
            let first = try await open(root: root, url: url)
            #expect(first.appliedMigrations.count == Migration.bundled.count)
            let marker = try LibraryRoot(path: root).readMarker()
            #expect(marker.libraryId == first.libraryId)
            #expect(first.rootVersion == 1)

            let second = try await open(root: root, url: url)
            #expect(second.libraryId == first.libraryId)
            #expect(second.appliedMigrations.isEmpty)
        }
    }

    @Test func concurrentFirstOpensAgreeOnOneLibrary() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            async let a = open(root: root, url: url)
            async let b = open(root: root, url: url)
            async let c = open(root: root, url: url)
            let ids = try await [a, b, c].map(\.libraryId)
            #expect(Set(ids).count == 1)
            #expect(try LibraryRoot(path: root).readMarker().libraryId == ids[0])
        }
    }

    @Test func aRootWithoutItsMarkerIsRefusedAndNotWrittenInto() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            _ = try await open(root: root, url: url)
            // The drive is "unmounted": its mount point is an empty directory again.
            try FileManager.default.removeItem(atPath: root)
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
            let error = try await expectRefusal(.libraryRootUnmarked, root: root, url: url)
            #expect(error?.message.contains("is its drive mounted?") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)

            try FileManager.default.removeItem(atPath: root)
            _ = try await expectRefusal(.libraryRootMissing, root: root, url: url)
            #expect(!FileManager.default.fileExists(atPath: root))
        }
    }

    @Test func anUnmountedFstabMountPointIsRefusedBeforeAnythingIsCreated() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let mountPoint = folder.path + "/drive"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
            let mounts = MountTable(mounted: ["/"], declared: ["/", mountPoint])
            let error = try await expectRefusal(.libraryRootUnmounted, root: mountPoint + "/library", url: url, mounts: mounts)
            #expect(error?.message.contains("not mounted") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint).isEmpty)
        }
    }

    @Test func aForeignNonEmptyFolderIsRefused() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/downloads"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
            try "x".write(toFile: root + "/holiday.jpg", atomically: true, encoding: .utf8)
            let error = try await expectRefusal(.libraryRootNotEmpty, root: root, url: url)
            #expect(error?.message.contains("holiday.jpg") == true)
            #expect(!FileManager.default.fileExists(atPath: root + "/" + LibraryRoot.markerName))
        }
    }

    @Test func aRootAndDatabaseOfDifferentLibrariesAreRefused() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            _ = try await open(root: root, url: url)
            try await TestDatabase.withFresh { otherURL in
                let other = folder.path + "/other"
                _ = try await open(root: other, url: otherURL)
                let error = try await expectRefusal(.libraryMismatch, root: other, url: url)
                #expect(error?.message.contains("point at the same library") == true)
            }
        }
    }

    @Test func aMovedLibraryAsksForARebase() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            _ = try await open(root: root, url: url)
            let moved = folder.path + "/moved"
            try FileManager.default.moveItem(atPath: root, toPath: moved)
            let error = try await expectRefusal(.libraryMoved, root: moved, url: url)
            #expect(error?.message.contains("mediaq rebase --from \(root) --to \(moved)") == true)
        }
    }

    @Test func aReadOnlyRootIsRefused() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh { url in
            let root = folder.path + "/library"
            _ = try await open(root: root, url: url)
            try await ReadOnlyMount.with(root) {
                let error = try await expectRefusal(.libraryRootNotWritable, root: root, url: url)
                #expect(error?.message.contains("read-only") == true)
            }
        }
    }
}
