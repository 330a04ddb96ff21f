package import Foundation
package import MediaCodecs
package import MediaCore
package import PostgresNIO

/// A library on a fresh database, with an ingestor over the real decoders.
package final class IngestLibrary {
    package let folder: TemporaryFolder
    package let root: String
    package let connection: PostgresConnection
    package let ingestor: Ingestor
    package let samples: String

    package init(url: DatabaseURL, pixelLimit: Int64 = Ingestor.defaultPixelLimit) async throws {
        folder = try TemporaryFolder()
        root = folder.path + "/library"
        samples = folder.path + "/samples"
        try FileManager.default.createDirectory(atPath: samples, withIntermediateDirectories: true)
        let configuration = LibraryConfiguration(libraryRoot: root, databaseURL: url)
        let (_, connection) = try await LibraryOpener(
            configuration: configuration, logger: testLogger, mountTable: MountTable(mounted: [], declared: [])
        ).open()
        self.connection = connection
        ingestor = Ingestor(root: root, decoder: NativeMediaDecoder(), logger: testLogger, pixelLimit: pixelLimit)
    }

    package func sample(_ name: String) -> String { samples + "/" + name }

    package func ingest(_ path: String, tags: [String] = [], provider: String? = nil, id: String? = nil) async throws -> IngestResult {
        try await ingestor.ingest(IngestRequest(path: path, tags: tags, provider: provider, providerAssetId: id), on: connection)
    }

    package func count(_ sql: String) async throws -> Int {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        for try await value in rows.decode(Int.self) { return value }
        return -1
    }

    /// Every file under the library's content folders and its temporary folder.
    /// The originals, thumbnails and temporary files in the library (metadata files: `metadataFiles`).
    package func storedFiles() -> [String] {
        allFiles().filter { !$0.contains("/meta/") }
    }

    package func metadataFiles() -> [String] {
        allFiles().filter { $0.contains("/meta/") }
    }

    private func allFiles() -> [String] {
        ["images", "videos", ContentStore.temporaryFolder].flatMap { folder -> [String] in
            let base = root + "/" + folder
            guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
            return walker.compactMap { $0 as? String }.map { folder + "/" + $0 }
                .filter { !FileManager.default.isDirectory(root + "/" + $0) }
        }.sorted()
    }

    package func close() async {
        try? await connection.close()
        folder.remove()
    }
}

extension FileManager {
    package func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
