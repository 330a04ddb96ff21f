import Foundation
public import Logging

/// A library-wide list kept as a JSON file in the library root beside the rows it mirrors
/// (`blocked.json`, `aliases.json`), so that a reindex after a lost database brings back what
/// no asset's metadata file holds (docs/storage.md).
public protocol RootListFile: Codable, Equatable, Sendable {
    /// The `format` field the file must carry.
    static var formatName: String { get }
    static var fileName: String { get }
    /// What the file is, for the error about one that is not.
    static var description: String { get }
    /// The list when there is no file.
    static var empty: Self { get }
    var format: String { get }
    var isEmpty: Bool { get }
}

extension RootListFile {
    /// The file in `root`; `empty` when there is none. One that is not this list throws
    /// `badMetadataFile`.
    public static func read(root: String) throws(MediaError) -> Self {
        let path = root + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return empty }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            let list = try decoder.decode(Self.self, from: data)
            guard list.format == formatName else { throw MediaError(.badMetadataFile, "its format is \(list.format)") }
            return list
        } catch {
            throw MediaError(.badMetadataFile, "\(path) is not \(description): \(error)")
        }
    }

    /// Replaces the file in `root` atomically.
    public func write(root: String) throws(MediaError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data: Data
        do {
            data = try encoder.encode(self) + Data("\n".utf8)
        } catch {
            throw MediaError(.libraryWriteFailed, "cannot encode \(Self.fileName): \(error)")
        }
        try AtomicFile.write(data, to: root + "/" + Self.fileName, failure: .libraryWriteFailed)
    }

    /// Writes the list `rows` reads from the database. Not a failure of the caller's change
    /// when it cannot: the rows hold, and the next change or reindex writes the file. A library
    /// that never had an entry gets no file.
    public static func writeFollowingRows(
        root: String, logger: Logger, _ rows: () async throws(MediaError) -> Self
    ) async {
        do {
            let list = try await rows()
            if list.isEmpty && !exists(in: root) { return }
            try list.write(root: root)
        } catch {
            logger.warning("\(fileName) was not written yet: \(error.message)")
        }
    }

    /// Whether `root` has the file.
    public static func exists(in root: String) -> Bool { FileManager.default.fileExists(atPath: root + "/" + fileName) }
}
