public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An asset's durable facts as a small JSON file in the library, beside its original, so that
/// the library's files alone can rebuild its database (`mediaq reindex`), as git-annex keeps
/// metadata with the content. Written from the rows after every change (see
/// `MetadataRepository`); what only the database needs (usage times, pins) is not in it.
///
/// Layout: `{images|videos}/meta/<sha[0:2]>/<sha>.json`. Format: docs/storage.md.
public struct AssetMetadata: Codable, Equatable, Sendable {
    public static let formatName = "media-library/asset"
    public static let currentVersion = 1

    public struct Source: Codable, Equatable, Sendable {
        public var provider: String
        public var providerAssetId: String?
        public var sourceUrl: String?
        public var firstSeenAt: Date
        /// The tags this source's file carried as keywords, normalised, in the order read.
        /// Absent when there were none, so files written before keywords were read decode the same.
        public var fileKeywords: [String]?

        public init(
            provider: String, providerAssetId: String? = nil, sourceUrl: String? = nil, firstSeenAt: Date,
            fileKeywords: [String]? = nil
        ) {
            self.provider = provider
            self.providerAssetId = providerAssetId
            self.sourceUrl = sourceUrl
            self.firstSeenAt = firstSeenAt
            self.fileKeywords = fileKeywords
        }
    }

    /// What is stored when the original was optimised (docs/storage.md, "Optimised originals"):
    /// the file on disk hashes to `sha256` here and is `bytes` long; the document's own
    /// `sha256` and `bytes` stay the download's. Absent while the stored file is the download.
    public struct Stored: Codable, Equatable, Sendable {
        public var sha256: String
        public var bytes: Int64
        /// `jpeg-lossless`, `png-lossless`, `mp4-faststart`, `h264-crf23`...
        public var method: String
        /// A lossy rewrite's measured quality (PSNR, dB).
        public var quality: Double?

        public init(sha256: String, bytes: Int64, method: String, quality: Double? = nil) {
            self.sha256 = sha256
            self.bytes = bytes
            self.method = method
            self.quality = quality
        }
    }

    public var format: String = formatName
    public var version: Int = currentVersion
    public var sha256: String
    public var kind: MediaFormat.Kind
    /// The original's canonical extension (its name in the library is `<sha256>.<ext>`).
    public var ext: String
    /// The download's size (the stored file's is `stored.bytes` when optimised).
    public var bytes: Int64
    public var originalName: String?
    public var addedAt: Date
    /// Normalised, sorted.
    public var tags: [String]
    /// Oldest first.
    public var sources: [Source]
    /// An operator hid the asset (`mediaq hide`): kept, never offered. Absent when not hidden,
    /// so files written before curation existed read the same.
    public var hidden: Bool?
    /// An operator's stars (`mediaq rate`, 1 to 5); absent when not rated.
    public var rating: Int?
    /// The stored file, when it is not the download (optimised).
    public var stored: Stored?

    /// Relative path of an asset's metadata file.
    public static func path(sha256: String, kind: MediaFormat.Kind) -> String {
        "\(ContentStore.folder(for: kind))/meta/\(sha256.prefix(2))/\(sha256).json"
    }

    public var path: String { Self.path(sha256: sha256, kind: kind) }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    public func encoded() -> Data {
        // Encoding plain strings, numbers and dates cannot fail.
        var data = (try? Self.encoder.encode(self)) ?? Data()
        data.append(0x0A)
        return data
    }

    /// Reads a metadata file; nil when there is none. A file that is not one throws, naming it.
    public static func read(at absolutePath: String) throws(MediaError) -> AssetMetadata? {
        guard let data = FileManager.default.contents(atPath: absolutePath) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let metadata: AssetMetadata
        do {
            metadata = try decoder.decode(AssetMetadata.self, from: data)
        } catch {
            throw MediaError(.badMetadataFile, "\(absolutePath) is not an asset metadata file: \(error)")
        }
        guard metadata.format == formatName, metadata.version <= currentVersion else {
            throw MediaError(
                .badMetadataFile,
                "\(absolutePath) is \(metadata.format) version \(metadata.version); this mediaq reads \(formatName) up to version \(currentVersion)"
            )
        }
        return metadata
    }

    /// Writes the file whole or not at all, creating its folder. The new file is written in the
    /// library's `.tmp` (named for this process, so a crash leaves nothing that recovery does
    /// not remove) and renamed over the old one. With `durable`, the file and its folder are
    /// fsynced; without, the caller makes a batch durable at once (`FileIO.syncFilesystem`).
    public func write(in store: ContentStore, durable: Bool = true) throws(MediaError) {
        let destination = store.absolute(path)
        let folder = (destination as NSString).deletingLastPathComponent
        do {
            try store.createDirectory(store.temporaryDirectory)
            try store.createDirectory(folder)
        } catch {
            throw Ingestor.storeError(error)
        }
        let temporary = store.temporaryPath(suffix: ".json")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw MediaError(.libraryWriteFailed, "cannot write \(temporary): \(LibraryRoot.errnoText())") }
        var failure = encoded().withUnsafeBytes { FileIO.writeAll(fd, $0) }
        if failure == nil && durable && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == nil && rename(temporary, destination) != 0 { failure = errno }
        if let failure {
            unlink(temporary)
            throw MediaError(.libraryWriteFailed, "cannot write \(destination): \(LibraryRoot.errnoText(failure))")
        }
        if durable { LibraryRoot.syncDirectory(folder) }
    }
}
