import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Takes an original found in the library's folders back into the database: `mediaq reindex`
/// for every original, `doctor --fix` for one without a row. The bytes are the truth: the name
/// must be their SHA-256, the format is sniffed and probed again, the thumbnail is kept when it
/// is there and made when not; tags and sources come from the asset's metadata file. Nothing
/// here removes or moves an original. The metadata files of what it records are the caller's
/// to write (`Ingestor.writePendingMetadata`), in a batch.
public struct OriginalAdopter: Sendable {
    let ingestor: Ingestor
    let logger: Logger

    /// `readsFileKeywords` (`ingest.fileKeywords`): an original without a metadata file takes the
    /// keywords written into it as its tags, as ingest would.
    public init(root: String, decoder: any MediaDecoder, logger: Logger, readsFileKeywords: Bool = true) {
        var ingestor = Ingestor(root: root, decoder: decoder, logger: logger, pixelLimit: .max)
        ingestor.readsFileKeywords = readsFileKeywords
        self.ingestor = ingestor
        self.logger = logger
    }

    var store: ContentStore { ingestor.store }

    /// Writes the metadata files of what was adopted (see `Ingestor.writePendingMetadata`).
    public func writePendingMetadata(on connection: PostgresConnection) async {
        await ingestor.writePendingMetadata(on: connection)
    }

    public enum Outcome: Sendable, Equatable {
        /// Recorded now; whether a metadata file gave its tags and sources.
        case adopted(id: Int64, withMetadata: Bool)
        /// Recorded already, and its rows now say what its metadata file says.
        case updated(id: Int64)
        /// Recorded already, nothing to change.
        case unchanged(id: Int64)
        /// Its bytes do not hash to its name: left where it is, for doctor to quarantine.
        case corrupt(detail: String)
        /// Left as it is, with the reason: not an original's name, an unreadable metadata file,
        /// bytes the decoder refuses.
        case skipped(code: String, detail: String)
    }

    /// The name of an original: `{images|videos}/original/<sha[0:2]>/<sha>.<ext>`.
    public static func parse(_ relative: String) -> (kind: MediaFormat.Kind, sha256: String, ext: String)? {
        let parts = relative.split(separator: "/").map(String.init)
        guard parts.count == 4, parts[1] == "original" else { return nil }
        let kind: MediaFormat.Kind
        switch parts[0] {
        case "images": kind = .image
        case "videos": kind = .video
        default: return nil
        }
        let name = parts[3].split(separator: ".", maxSplits: 1).map(String.init)
        guard name.count == 2, name[0].count == 64, name[0].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
            parts[2] == String(name[0].prefix(2))
        else { return nil }
        return (kind, name[0], name[1])
    }

    /// Adopts the original at `relative` (relative to the root), or brings its rows in line with
    /// its metadata file when it is recorded already.
    public func adopt(_ relative: String, on connection: PostgresConnection) async throws(MediaError) -> Outcome {
        guard let (kind, sha256, ext) = Self.parse(relative) else {
            return .skipped(code: "not_an_original", detail: "\(relative) is not named <sha256>.<ext> in its folder")
        }
        let metadata: AssetMetadata?
        do {
            metadata = try AssetMetadata.read(at: store.absolute(AssetMetadata.path(sha256: sha256, kind: kind)))
        } catch {
            return .skipped(code: error.code.name, detail: error.message)
        }
        let repository = AssetRepository(connection: connection, logger: logger)
        if let existing = try await repository.asset(sha256: sha256) {
            if existing.state == "lost" { try await repository.markFound(existing.id) }
            guard let metadata else { return .unchanged(id: existing.id) }
            let changed = try await repository.apply(metadata, to: existing.id)
            return changed ? .updated(id: existing.id) : .unchanged(id: existing.id)
        }
        return try await record(relative, kind: kind, sha256: sha256, ext: ext, metadata: metadata, on: connection)
    }

    private func record(
        _ relative: String, kind: MediaFormat.Kind, sha256: String, ext: String, metadata: AssetMetadata?,
        on connection: PostgresConnection
    ) async throws(MediaError) -> Outcome {
        let absolute = store.absolute(relative)
        let source: OpenSource
        do {
            source = try OpenSource(path: absolute)
        } catch {
            return .skipped(code: Ingestor.rejection(error, file: relative).code.name, detail: "\(error)")
        }
        let found: String
        do {
            found = try FileIO.sha256(streaming: source.fd).sha256
        } catch {
            throw MediaError(.libraryWriteFailed, "cannot read \(absolute): \(LibraryRoot.errnoText(error.code))")
        }
        // An optimised original hashes to the stored hash its metadata file records.
        guard found == sha256 || (metadata?.stored.map { $0.sha256 == found && $0.bytes == source.size } ?? false) else {
            return .corrupt(detail: "\(relative): its bytes hash to \(found.prefix(12)), not \(sha256.prefix(12))")
        }
        // The download itself is back (an older copy of the folders): what the file said was
        // stored is no longer what is.
        var metadata = metadata
        if found == sha256 { metadata?.stored = nil }
        let format: MediaFormat
        switch try ingestor.inspect(source) {
        case .success(let sniffed) where sniffed.kind == kind && sniffed.canonicalExtension == ext: format = sniffed
        case .success(let sniffed):
            return .skipped(
                code: MediaError.Code.extensionMismatch.name, detail: "\(relative) holds \(sniffed.name) bytes, not .\(ext)")
        case .failure(let rejection): return .skipped(code: rejection.code.name, detail: rejection.message)
        }
        var probed: ProbedMedia
        do {
            probed = try await ingestor.decoder.probe(path: source.stablePath, format: format)
            if !ingestor.readsFileKeywords { probed.keywords = nil }
        } catch {
            return .skipped(code: MediaError.Code.undecodable.name, detail: "\(relative): \(error.message)")
        }

        // The thumbnail on disk is kept (measured again); a missing one is made, with an intent
        // around its placing as at ingest.
        let thumbnailPath = ContentStore.thumbnailPath(sha256: sha256, kind: kind)
        var thumbnail: AssetRepository.ThumbnailRow
        var intents: [String] = []
        let repository = AssetRepository(connection: connection, logger: logger)
        if let size = try? await ingestor.decoder.probe(path: store.absolute(thumbnailPath), format: .jpeg) {
            thumbnail = .init(
                path: thumbnailPath, width: size.width, height: size.height,
                bytes: FileIO.size(of: store.absolute(thumbnailPath)).flatMap { $0 > 0 ? $0 : nil }, missingReason: nil)
        } else {
            switch await ingestor.makeThumbnail(of: source.stablePath, kind: kind) {
            case .made(let temporary, let width, let height, let bytes):
                defer { unlink(temporary) }
                try await repository.recordIntents([thumbnailPath])
                intents = [thumbnailPath]
                try? store.remove(thumbnailPath)
                do {
                    try store.place(temporary, at: thumbnailPath, mode: 0o444)
                } catch {
                    try? await repository.forgetIntents(intents)
                    throw Ingestor.storeError(error)
                }
                thumbnail = .init(path: thumbnailPath, width: width, height: height, bytes: bytes, missingReason: nil)
            case .missing(let reason):
                thumbnail = .init(path: nil, width: nil, height: nil, bytes: nil, missingReason: reason)
            }
        }

        let asset = NewAsset(
            kind: kind, sha256: sha256, format: format, bytes: source.size, probed: probed, path: relative,
            originalName: metadata?.originalName)
        let id: Int64?
        do throws(MediaError) {
            id = try await repository.adopt(asset, thumbnail: thumbnail, metadata: metadata, intents: intents)
        } catch {
            if !intents.isEmpty {
                try? store.remove(thumbnailPath)
                try? await repository.forgetIntents(intents)
            }
            throw error
        }
        guard let id else {
            // Recorded by another process meanwhile: its rows stand.
            if !intents.isEmpty { try? await repository.forgetIntents(intents) }
            return try await adopt(relative, on: connection)
        }
        return .adopted(id: id, withMetadata: metadata != nil)
    }
}
