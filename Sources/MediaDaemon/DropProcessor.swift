import Foundation
public import Logging
public import MediaCore
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Turns one drop (a media file and, if there is one, its sidecar) into a library asset and
/// leaves the drop folder tidy: stored drops leave it and get a receipt; rejected ones move to
/// `.rejected/` with the reason; a drop that cannot be handled now (database down, library not
/// writable, file still changing) stays exactly where it is, for a later try.
///
/// Layout, relative to the drop folder (subfolders are mirrored):
/// - receipts: `.receipts/NAME.EXT.json` — `{status, id, sha256, kind, path, thumbPath}`;
/// - rejections: `.rejected/NAME.EXT`, `.rejected/NAME.EXT.json` (the sidecar, if any),
///   `.rejected/NAME.EXT.error.json` — `{code, message}`.
public struct DropProcessor: Sendable {
    public let dropDirectory: String
    public let ingestor: Ingestor
    public let logger: Logger
    /// How long a pin from a sidecar holds its asset when the run never unpins it.
    public let pinLifetime: Duration

    public static let receiptsFolder = ".receipts"
    public static let rejectedFolder = ".rejected"

    public init(dropDirectory: String, ingestor: Ingestor, logger: Logger, pinLifetime: Duration = UsageRepository.pinLifetime) {
        self.dropDirectory = dropDirectory
        self.ingestor = ingestor
        self.logger = logger
        self.pinLifetime = pinLifetime
    }

    /// What a receipt holds.
    public struct Receipt: Codable, Sendable, Equatable {
        public let status: String
        public let id: Int64
        public let sha256: String
        public let kind: String
        public let path: String
        public let thumbPath: String?
    }

    public enum Outcome: Sendable, Equatable {
        case stored(Receipt)
        case rejected(code: String, message: String)
    }

    public static func sidecarPath(for media: String) -> String { media + Sidecar.suffix }

    public static func isSidecar(_ path: String) -> Bool { path.hasSuffix(Sidecar.suffix) }

    /// Handles the media file at `mediaPath` with its sidecar if one is there now. A retryable
    /// failure is thrown and nothing is moved.
    public func process(mediaPath: String, on connection: PostgresConnection) async throws(MediaError) -> Outcome {
        let started = ContinuousClock.now
        let sidecarFile = Self.sidecarPath(for: mediaPath)
        var sidecar = Sidecar()
        // What was read, so that only that sidecar is removed at the end: one that arrives (or
        // is rewritten) while the media is being stored stays, and is applied as a late sidecar.
        var sidecarRead: FileStamp?
        if FileManager.default.fileExists(atPath: sidecarFile) {
            sidecarRead = FileStamp(path: sidecarFile)
            do {
                sidecar = try Sidecar.parse(try readSidecar(sidecarFile), file: sidecarFile)
            } catch let error as MediaError {
                guard error.code.disposition == .badInput else { throw error }
                return try reject(mediaPath, code: error.code.name, message: error.message)
            } catch {
                throw MediaError(.sourceChanged, "cannot read sidecar \(sidecarFile): \(error)")
            }
        }
        var request = IngestRequest(
            path: mediaPath, tags: sidecar.tags, provider: sidecar.provider, sourceURL: sidecar.sourceURL,
            providerAssetId: sidecar.providerId, markUsed: sidecar.used, moveSource: true)
        request.callerRemovesSource = true  // after the receipt: a crash between leaves a duplicate, not a loss
        let result: IngestResult
        do {
            result = try await ingestor.ingest(request, on: connection)
        } catch  where error.code == .invalidConfiguration {
            // A provider name the library cannot store is the sidecar's fault.
            return try reject(
                mediaPath, code: MediaError.Code.badSidecar.name, message: "sidecar \(sidecarFile) was refused: \(error.message)")
        }
        guard result.status != .rejected, let id = result.id, let sha = result.sha256, let kind = result.kind,
            let path = result.path
        else {
            return try reject(mediaPath, code: result.error?.code ?? "rejected", message: result.error?.message ?? "rejected")
        }
        if let pin = sidecar.pin {
            try await pinAsset(id, run: pin, lifetime: sidecar.pinLifetime(standard: pinLifetime), on: connection)
        }
        let receipt = Receipt(
            status: result.status.rawValue, id: id, sha256: sha, kind: kind.rawValue, path: path, thumbPath: result.thumbPath)
        try writeJSON(receipt, to: mirrored(mediaPath, in: Self.receiptsFolder) + ".json")
        result.removeSourceName()
        if let sidecarRead, FileStamp(path: sidecarFile) == sidecarRead {
            unlink(sidecarFile)
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        logger.event(
            result.status == .duplicate ? .duplicate : .ingested, "\(result.status.rawValue)",
            metadata: [
                "file": "\(mediaPath)", "id": "\(id)", "sha256": "\(sha)",
                "kind": "\(kind.rawValue)", "status": "\(result.status.rawValue)", "durationMs": "\(milliseconds)",
            ])
        return .stored(receipt)
    }

    /// A sidecar whose media was stored already (it has a receipt) still brings its tags, source,
    /// use and pin; then it is removed. Returns false when there is no receipt: the media has not
    /// been stored, and the sidecar waits for it.
    public func applyLateSidecar(_ sidecarFile: String, on connection: PostgresConnection) async throws(MediaError) -> Bool {
        // Gone already: it was read with its media (a second event for the same sidecar).
        guard FileManager.default.fileExists(atPath: sidecarFile) else { return true }
        let media = String(sidecarFile.dropLast(Sidecar.suffix.count))
        let receiptFile = mirrored(media, in: Self.receiptsFolder) + ".json"
        guard let data = FileManager.default.contents(atPath: receiptFile),
            let receipt = try? JSONDecoder().decode(Receipt.self, from: data)
        else { return false }
        let sidecar: Sidecar
        do {
            sidecar = try Sidecar.parse(try readSidecar(sidecarFile), file: sidecarFile)
        } catch let error as MediaError {
            guard error.code.disposition == .badInput else { throw error }
            try moveToRejected(sidecarFile)
            try writeJSON(
                ["code": error.code.name, "message": error.message],
                to: mirrored(sidecarFile, in: Self.rejectedFolder) + ".error.json")
            logger.event(
                .sidecarRefused,
                "sidecar refused",
                metadata: [
                    "file": "\(sidecarFile)", "code": "\(error.code.name)", "reason": "\(error.message)",
                ])
            return true
        } catch {
            throw MediaError(.sourceChanged, "cannot read sidecar \(sidecarFile): \(error)")
        }
        try await AssetRepository(connection: connection, logger: logger).addDetails(
            assetId: receipt.id, tags: TagNormalizer.normalize(sidecar.tags), provider: sidecar.provider,
            providerAssetId: sidecar.providerId, sourceURL: sidecar.sourceURL, markUsed: sidecar.used)
        ingestor.metadataBacklog?.note()
        if let pin = sidecar.pin {
            try await pinAsset(receipt.id, run: pin, lifetime: sidecar.pinLifetime(standard: pinLifetime), on: connection)
        }
        unlink(sidecarFile)
        logger.event(.sidecarApplied, "late sidecar applied", metadata: ["file": "\(sidecarFile)", "id": "\(receipt.id)"])
        return true
    }

    // MARK: - Steps

    private func reject(_ mediaPath: String, code: String, message: String) throws(MediaError) -> Outcome {
        // The reason first: a crash before the moves leaves the drop to be rejected again.
        try writeJSON(["code": code, "message": message], to: mirrored(mediaPath, in: Self.rejectedFolder) + ".error.json")
        try moveToRejected(mediaPath)
        let sidecarFile = Self.sidecarPath(for: mediaPath)
        if FileManager.default.fileExists(atPath: sidecarFile) { try moveToRejected(sidecarFile) }
        let quarantined = code == MediaError.Code.decoderQuarantined.name
        logger.event(
            quarantined ? .quarantined : .rejected, quarantined ? "quarantined" : "rejected",
            metadata: [
                "file": "\(mediaPath)", "code": "\(code)", "reason": "\(message)",
            ])
        return .rejected(code: code, message: message)
    }

    private func moveToRejected(_ path: String) throws(MediaError) {
        let destination = mirrored(path, in: Self.rejectedFolder)
        try makeParent(of: destination)
        // A name rejected before is kept: the new one gets a numbered name beside it.
        var target = destination
        var counter = 1
        while FileManager.default.fileExists(atPath: target) {
            counter += 1
            target = destination + ".\(counter)"
        }
        guard rename(path, target) == 0 || errno == ENOENT else {
            throw MediaError(.libraryWriteFailed, "cannot move \(path) to \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// `<drop>/<folder>/<the path's place under the drop folder>`.
    func mirrored(_ path: String, in folder: String) -> String {
        let relative =
            path.hasPrefix(dropDirectory + "/")
            ? String(path.dropFirst(dropDirectory.count + 1))
            : (path as NSString).lastPathComponent
        return dropDirectory + "/" + folder + "/" + relative
    }

    private func makeParent(of path: String) throws(MediaError) {
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw MediaError(.libraryWriteFailed, "cannot create a folder for \(path): \(error.localizedDescription)")
        }
    }

    /// Writes a receipt or a reason whole and durably (fsynced, renamed into place, folder
    /// fsynced): the drop's name is removed only after this, so power loss cannot lose both.
    private func writeJSON(_ value: some Encodable, to path: String) throws(MediaError) {
        try makeParent(of: path)
        try AtomicFile.writeJSON(value, to: path, failure: .libraryWriteFailed)
    }

    private func readSidecar(_ path: String) throws -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw MediaError(.sourceChanged, "sidecar \(path) vanished while it was read")
        }
        try Sidecar.checkSize(Int(info.st_size), file: path)  // refused without being read
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    private func pinAsset(_ id: Int64, run: String, lifetime: Duration, on connection: PostgresConnection) async throws(MediaError) {
        try await UsageRepository(connection: connection, logger: logger).pin([id], for: run, lifetime: lifetime)
    }
}
