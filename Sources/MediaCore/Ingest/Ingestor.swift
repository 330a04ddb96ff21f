import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// The one ingest function: the daemon and `mediaq ingest` both call it.
///
/// For one file: open it safely, sniff its real format, check the name agrees, probe it (the
/// pixel limit applies before any decode), copy it into the library while hashing, verify the
/// copy, then either merge into the asset that already has those bytes, or make the thumbnail,
/// place the files and record the rows in one transaction. A rejection leaves nothing behind.
public struct Ingestor: Sendable {
    public let store: ContentStore
    public let decoder: any MediaDecoder
    public let logger: Logger
    /// Largest width × height of an image accepted, checked from the header.
    public let pixelLimit: Int64
    /// When set, a file larger than the whole budget is rejected (`larger_than_budget`).
    public var budget: StorageBudget?
    /// Told when rows changed whose metadata files are to be written (by `writePendingMetadata`
    /// or a background writer).
    public var metadataBacklog: MetadataBacklog?
    /// Whether the keywords written into a file become its tags (`ingest.fileKeywords`).
    public var readsFileKeywords = true

    public static let defaultPixelLimit: Int64 = 100_000_000

    public init(root: String, decoder: any MediaDecoder, logger: Logger, pixelLimit: Int64 = defaultPixelLimit) {
        self.store = ContentStore(root: root)
        self.decoder = decoder
        self.logger = logger
        self.pixelLimit = pixelLimit
    }

    /// Ingests one file. Rejections come back as a result; a retryable failure (database down,
    /// library unwritable, file still changing) is thrown, with nothing stored.
    public func ingest(_ request: IngestRequest, on connection: PostgresConnection) async throws(MediaError) -> IngestResult {
        let file = request.path
        let source: OpenSource
        do {
            source = try OpenSource(path: file)
        } catch {
            return .rejected(file, Self.rejection(error, file: file))
        }
        let format: MediaFormat
        switch try inspect(source) {
        case .success(let found): format = found
        case .failure(let rejection): return .rejected(file, rejection)
        }
        if let budget, let reason = budget.neverFits(incoming: source.size) {
            return .rejected(file, MediaError(.largerThanBudget, "\(file) was rejected: \(reason)"))
        }
        let probed: ProbedMedia
        do {
            probed = try await decoder.probe(path: source.stablePath, format: format)
        } catch {
            let message = Self.named(error.message, file: file, stable: source.stablePath)
            switch error.reason {
            case .crashed: throw MediaError(.decoderCrashed, "\(file) waits: \(message)")
            case .hung: throw MediaError(.decoderHung, "\(file) waits: \(message)")
            case .quarantined: return .rejected(file, MediaError(.decoderQuarantined, "\(file) was quarantined: \(message)"))
            case .noVideoStream: return .rejected(file, MediaError(.noVideoStream, "\(file) was rejected: \(message)"))
            case .undecodable, .failed: return .rejected(file, MediaError(.undecodable, "\(file) was rejected: \(message)"))
            }
        }
        if format.kind == .image, Int64(probed.width) * Int64(probed.height) > pixelLimit {
            return .rejected(
                file,
                MediaError(
                    .tooManyPixels,
                    "\(file) was rejected: \(probed.width)×\(probed.height) is over the limit of \(pixelLimit / 1_000_000) megapixels"))
        }

        // Checked before the bytes are copied: a bad provider name wastes no I/O.
        let fileTags = readsFileKeywords ? FileKeywords.tags(from: probed.keywords) : nil
        let tags = FileKeywords.merged(TagNormalizer.normalize(request.tags), with: fileTags)
        var provenance = try Provenance(request)
        provenance.fileKeywords = fileTags
        let blocks = BlockRepository(connection: connection, logger: logger)
        if let id = provenance.providerAssetId, let block = try await blocks.match(provider: provenance.provider, providerAssetId: id) {
            return .rejected(file, Self.blockedRejection(file, block, because: "\(provenance.provider) id \(id) names"))
        }
        let copy: ContentStore.StoredCopy
        do {
            if request.moveSource, let linked = try store.moveIn(from: source) {
                copy = linked
            } else {
                copy = try store.copyIn(from: source)
            }
        } catch {
            throw Self.storeError(error)
        }
        var temporaries = [copy.temporaryPath]
        defer { temporaries.forEach { unlink($0) } }

        if let block = try await blocks.match(sha256: copy.sha256) {
            return .rejected(file, Self.blockedRejection(file, block, because: "its bytes are"))
        }

        let repository = AssetRepository(connection: connection, logger: logger)

        // Merging into an asset GC is removing would lose the drop: it waits until the removal is done.
        if try await repository.isBeingCollected(sha256: copy.sha256) {
            throw MediaError(.assetBeingCollected, "\(file) waits: the same bytes are being collected from the library")
        }
        if let existing = try await repository.asset(sha256: copy.sha256) {
            // Lost, or gone without anyone noticing yet: the same bytes put it back in its place.
            if existing.state == "lost" || (existing.state == "present" && !store.exists(existing.path)) {
                try await bringBack(existing, from: copy, with: repository)
            }
            try await repository.merge(into: existing.id, tags: tags, provenance: provenance, markUsed: request.markUsed)
            metadataBacklog?.note()
            var result = existing.result(file: file, status: .duplicate)
            release(source, for: request, into: &result)
            return result
        }

        let kind = format.kind
        let originalPath = ContentStore.originalPath(sha256: copy.sha256, extension: format.canonicalExtension, kind: kind)
        let thumbnailPath = ContentStore.thumbnailPath(sha256: copy.sha256, kind: kind)
        let thumbnail = await makeThumbnail(of: copy.temporaryPath, kind: kind)
        if case .made(let path, _, _, _) = thumbnail { temporaries.append(path) }

        // Record the intent before touching the library's folders: a crash from here on is
        // undone at the next start (see IngestRecovery).
        try await repository.recordIntents([originalPath, thumbnailPath])
        var placed: [String] = []
        do {
            // A file at the path that is not these bytes is an optimised original whose row is
            // gone (a database restored from before it, not yet reindexed): the download takes
            // its place, as the row about to be written describes the download.
            if store.exists(originalPath), (try? ContentStore.sha256(ofFileAt: store.absolute(originalPath))) != copy.sha256 {
                try store.remove(originalPath)
            }
            if try store.place(copy.temporaryPath, at: originalPath) { placed.append(originalPath) }
            if case .made(let path, _, _, _) = thumbnail, try store.place(path, at: thumbnailPath, mode: 0o444) {
                placed.append(thumbnailPath)
            }
        } catch {
            placed.forEach { try? store.remove($0) }
            try? await repository.forgetIntents([originalPath, thumbnailPath])
            if request.moveSource { store.restoreSourceMode(source) }
            throw Self.storeError(error)
        }

        let asset = NewAsset(
            kind: kind, sha256: copy.sha256, format: format, bytes: copy.bytes, probed: probed,
            path: originalPath, originalName: (file as NSString).lastPathComponent)
        do {
            let outcome = try await repository.insert(
                asset, thumbnail: thumbnail.row(path: thumbnailPath), tags: tags, provenance: provenance,
                markUsed: request.markUsed, intents: [originalPath, thumbnailPath])
            switch outcome {
            case .inserted(let id):
                metadataBacklog?.note()
                logger.debug("ingested", metadata: ["file": "\(file)", "id": "\(id)", "sha256": "\(copy.sha256)"])
                var result = IngestResult(file: file, status: .ingested)
                release(source, for: request, into: &result)
                result.id = id
                result.sha256 = copy.sha256
                result.kind = kind
                result.path = originalPath
                result.thumbPath = thumbnail.isMade ? thumbnailPath : nil
                result.width = probed.width
                result.height = probed.height
                result.durationMs = probed.durationMs
                return result
            case .alreadyThere(let existing):
                // Another process stored the same bytes a moment earlier: its files and row
                // stand, ours merged into them. A thumbnail it does not list is not kept.
                if existing.thumbPath == nil, placed.contains(thumbnailPath) {
                    try? store.remove(thumbnailPath)
                }
                try await repository.forgetIntents([originalPath, thumbnailPath])
                metadataBacklog?.note()
                var result = existing.result(file: file, status: .duplicate)
                release(source, for: request, into: &result)
                return result
            }
        } catch {
            // The rows did not commit: take back the files this call placed.
            placed.forEach { try? store.remove($0) }
            try? await repository.forgetIntents([originalPath, thumbnailPath])
            if request.moveSource { store.restoreSourceMode(source) }
            throw error
        }
    }

    // MARK: - Steps

    /// Writes the metadata files behind their rows (this ingest's, and any a crash left), in
    /// batches. Not a failure of the ingest when it cannot: the rows keep their marks, and the
    /// files are written later (`MetadataWriter`, `mediaq reindex`, `doctor --fix`).
    public func writePendingMetadata(on connection: PostgresConnection) async {
        do {
            try await MetadataRepository(connection: connection, logger: logger).flushAll(in: store)
        } catch {
            metadataBacklog?.note()
            logger.event(.metadataFailed, "metadata files not written yet", metadata: ["reason": "\(error)"])
        }
    }

    /// The asset's original was gone (marked lost, or not yet) and the same bytes came again: they go back to
    /// its place, under a create intent as at ingest, and it is offered again with its tags.
    private func bringBack(
        _ asset: StoredAsset, from copy: ContentStore.StoredCopy, with repository: AssetRepository
    ) async throws(MediaError) {
        try await repository.recordIntents([asset.path])
        do {
            try store.place(copy.temporaryPath, at: asset.path)
        } catch {
            try? await repository.forgetIntents([asset.path])
            throw Self.storeError(error)
        }
        try await repository.markFoundAsDownloaded(asset.id)
        try await repository.forgetIntents([asset.path])
        logger.info("a lost original came back", metadata: ["id": "\(asset.id)", "path": "\(asset.path)"])
    }

    /// A moved source is stored: its name goes now, or is left for the caller to remove.
    private func release(_ source: OpenSource, for request: IngestRequest, into result: inout IngestResult) {
        guard request.moveSource else { return }
        if request.callerRemovesSource {
            result.sourceToRemove = source.identity
        } else {
            store.removeSourceName(source)
        }
    }

    /// The sniffed format, or the rejection that the bytes or the name call for.
    func inspect(_ source: OpenSource) throws(MediaError) -> Result<MediaFormat, MediaError> {
        let file = source.path
        if source.size == 0 {
            return .failure(MediaError(.emptyFile, "\(file) was rejected: it is empty"))
        }
        let head: [UInt8]
        do {
            head = try source.head(MediaFormat.sniffLength)
        } catch {
            return .failure(Self.rejection(error, file: file))
        }
        let ext = (file as NSString).pathExtension
        switch MediaFormat.sniff(head) {
        case .empty:
            return .failure(MediaError(.emptyFile, "\(file) was rejected: it is empty"))
        case .markup:
            return .failure(MediaError(.notMedia, "\(file) was rejected: it is an HTML or XML page, not an image or video"))
        case .unknown:
            return .failure(
                MediaError(
                    .unknownFormat, "\(file) was rejected: its bytes are not an image or video format the library stores"))
        case .media(let format):
            guard format.accepts(fileExtension: ext) else {
                return .failure(
                    MediaError(
                        .extensionMismatch,
                        "\(file) was rejected: it is named .\(ext) but its bytes are \(format.name) (.\(format.canonicalExtension))"))
            }
            let tail: [UInt8]
            do {
                tail = try source.tail(65536)
            } catch {
                return .failure(Self.rejection(error, file: file))
            }
            guard format.looksComplete(tail: tail, size: source.size, head: head) else {
                return .failure(
                    MediaError(
                        .undecodable, "\(file) was rejected: it is a truncated \(format.name) file (its end is missing)"))
            }
            return .success(format)
        }
    }

    enum Thumbnail {
        case made(path: String, width: Int, height: Int, bytes: Int64)
        case missing(reason: String)

        var isMade: Bool { if case .made = self { true } else { false } }

        func row(path: String) -> AssetRepository.ThumbnailRow {
            switch self {
            case .made(_, let width, let height, let bytes):
                return .init(path: path, width: width, height: height, bytes: bytes, missingReason: nil)
            case .missing(let reason):
                return .init(path: nil, width: nil, height: nil, bytes: nil, missingReason: reason)
            }
        }
    }

    /// Tries twice; after that the asset is stored without a thumbnail and the reason is kept.
    func makeThumbnail(of path: String, kind: MediaFormat.Kind) async -> Thumbnail {
        var reason = ""
        for attempt in 1...2 {
            let output = store.temporaryPath(suffix: ".jpg")
            do {
                let size = try await decoder.writeThumbnail(of: path, kind: kind, to: output)
                var info = stat()
                let bytes = stat(output, &info) == 0 ? Int64(info.st_size) : 0
                return .made(path: output, width: size.width, height: size.height, bytes: bytes)
            } catch {
                unlink(output)
                reason = error.message
                logger.event(.thumbnailFailed, "thumbnail failed", metadata: ["attempt": "\(attempt)", "reason": "\(reason)"])
            }
        }
        return .missing(reason: reason)
    }

    static func blockedRejection(_ file: String, _ block: BlockRepository.Match, because what: String) -> MediaError {
        let former = block.formerAssetId.map { " (it was asset #\($0))" } ?? ""
        return MediaError(
            .blocked,
            "\(file) was refused: \(what) content an operator blocked on \(block.blockedAt.formatted(.iso8601))\(former), "
                + "sha256 \(block.sha256); `mediaq unblock \(block.sha256)` lifts the block")
    }

    static func rejection(_ failure: ContentStore.StoreFailure, file: String) -> MediaError {
        switch failure {
        case .notARegularFile(let message): return MediaError(.notARegularFile, "\(file) was rejected: \(message)")
        case .badSource(let message): return MediaError(.unreadable, "\(file) was rejected: \(message)")
        case .sourceChanged(let message): return MediaError(.sourceChanged, message)
        case .libraryWrite(let message), .verifyFailed(let message): return MediaError(.libraryWriteFailed, message)
        }
    }

    static func storeError(_ failure: ContentStore.StoreFailure) -> MediaError {
        switch failure {
        case .badSource(let message), .notARegularFile(let message): MediaError(.unreadable, message)
        case .sourceChanged(let message): MediaError(.sourceChanged, message)
        case .libraryWrite(let message), .verifyFailed(let message): MediaError(.libraryWriteFailed, message)
        }
    }

    /// Decoders see `/proc/self/fd/N`; people should see the file's name.
    static func named(_ message: String, file: String, stable: String) -> String {
        message.replacingOccurrences(of: stable, with: file)
    }
}

/// Where a file came from, as the request gave it.
struct Provenance: Sendable {
    let provider: String
    let providerAssetId: String?
    let sourceURL: String?
    /// The tags that came from the file's own keywords (normalised); nil when none.
    var fileKeywords: [String]?

    init(_ request: IngestRequest) throws(MediaError) {
        let provider = (request.provider ?? "local").trimmingCharacters(in: .whitespaces).lowercased()
        guard provider.range(of: "^[a-z0-9][a-z0-9._-]{0,63}$", options: .regularExpression) != nil else {
            throw MediaError(
                .invalidConfiguration,
                "provider '\(request.provider ?? "")' must be letters, digits, '.', '_' or '-' (at most 64)")
        }
        self.provider = provider
        self.providerAssetId = request.providerAssetId.flatMap { $0.isEmpty ? nil : $0 }
        self.sourceURL = request.sourceURL.flatMap { $0.isEmpty ? nil : $0 }
    }
}
