public import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Rewrites stored originals smaller without changing what they are (`mediaq optimize`, and
/// `mediad` in the background when `media.optimize = lossless`).
///
/// The asset keeps its identity, the SHA-256 of its download; only the stored facts change
/// (docs/storage.md, "Optimised originals"). One original at a time:
/// 1. the optimiser writes a copy to `.tmp` and proves it equal to the source (pixels, packets,
///    or a PSNR floor when lossy);
/// 2. the copy is kept only when it is worth it (`OptimizationDecision`);
/// 3. it is hashed, given the original's mode and fsynced, and a `replace` intent naming it is
///    committed;
/// 4. it is renamed over the original, and the folder fsynced;
/// 5. one transaction gives the row the new stored facts and removes the intent.
/// A kill at any point leaves the old file or the new one, never none; recovery
/// (`IngestRecovery`) then hashes the file to tell which and brings the row in line.
public struct OriginalOptimization: Sendable {
    public let store: ContentStore
    public let optimizer: any OriginalOptimizer
    public let request: OptimizationRequest
    /// The share of its bytes a copy must save to replace the original (`media.optimizeMinSaving`).
    public let minimumSaving: Double
    /// Writes and measures the copies, replaces nothing.
    public let dryRun: Bool
    public let logger: Logger
    /// A pause between the intent's commit and the rename, for tests that kill a run there
    /// (`MEDIAQ_OPTIMIZE_PAUSE_MS`).
    public var pauseBeforeRename: Duration?
    /// A lossless run works through the assets whose last try failed instead of the untried
    /// ones (after a crash was fixed, or `media.optimizeTimeoutSeconds` raised).
    public var retryFailed = false

    public init(
        root: String, optimizer: any OriginalOptimizer, request: OptimizationRequest,
        minimumSaving: Double = LibraryConfiguration.defaultOptimizeMinSaving, dryRun: Bool = false, logger: Logger
    ) {
        self.store = ContentStore(root: root)
        self.optimizer = optimizer
        self.request = request
        self.minimumSaving = minimumSaving
        self.dryRun = dryRun
        self.logger = logger
    }

    /// The assets a run with this request works through.
    public var selection: OptimizationRepository.Selection {
        if case .reencodeVideo = request { return .videosNotReencoded }
        return retryFailed ? .failedBefore : .untried
    }

    /// Works through up to `limit` candidates (all when nil), oldest first. `progress` gets
    /// (done, total, the latest outcome). `shouldYield` is asked before each asset: the daemon
    /// waits there while drops are queued.
    public func run(
        on connection: PostgresConnection, limit: Int? = nil,
        progress: @Sendable (Int, Int, AssetOutcome) -> Void = { _, _, _ in }
    ) async throws(MediaError) -> Summary {
        let started = ContinuousClock.now
        let repository = OptimizationRepository(connection: connection, logger: logger)
        let remaining = try await repository.remaining(selection)
        let total = min(limit ?? Int.max, remaining)
        var summary = Summary()
        summary.dryRun = dryRun
        var after: Int64 = 0
        while summary.examined < total {
            let batch = try await repository.candidates(selection, after: after, limit: min(50, total - summary.examined))
            guard !batch.isEmpty else { break }
            for candidate in batch {
                after = candidate.id
                let outcome = try await optimize(candidate, on: connection)
                summary.add(outcome)
                progress(summary.examined, total, outcome)
            }
        }
        summary.seconds = (ContinuousClock.now - started) / .seconds(1)
        return summary
    }

    /// Optimises one original, replacing it when worth it (see the type's steps).
    public func optimize(
        _ candidate: OptimizationRepository.Candidate, on connection: PostgresConnection
    ) async throws(MediaError) -> AssetOutcome {
        let repository = OptimizationRepository(connection: connection, logger: logger)
        func finish(
            _ outcome: Outcome, method: String? = nil, bytesAfter: Int64? = nil, quality: Double? = nil, reason: String? = nil
        )
            async throws(MediaError) -> AssetOutcome
        {
            let result = AssetOutcome(
                id: candidate.id, kind: candidate.kind, path: candidate.path, outcome: outcome, method: method,
                bytesBefore: candidate.bytes, bytesAfter: bytesAfter ?? candidate.bytes, quality: quality, reason: reason)
            // A lossy run leaves the background's record alone: lossless may still apply later.
            if !dryRun && outcome != .busy && outcome != .optimized && request == .lossless {
                try await repository.recordOutcome(candidate.id, outcome.rawValue)
            }
            log(result)
            return result
        }
        guard let format = MediaFormat.withMimeType(candidate.mimeType) else {
            return try await finish(.notApplicable, reason: "no optimiser knows \(candidate.mimeType)")
        }
        do {
            try store.createDirectory(store.temporaryDirectory)
        } catch {
            throw Ingestor.storeError(error)
        }
        let output = store.temporaryPath(suffix: "." + candidate.ext)
        var keepOutput = false
        defer { if !keepOutput { unlink(output) } }
        let result: OptimizationResult
        do {
            result = try await optimizer.optimize(
                path: store.absolute(candidate.path), format: format, to: output, request: request)
        } catch {
            return try await finish(.failed, reason: "\(error.reason.rawValue): \(error.message)")
        }
        guard result.applicable else {
            return try await finish(.notApplicable, method: nil, reason: result.reason)
        }
        var info = stat()
        guard stat(output, &info) == 0 else {
            return try await finish(.failed, method: result.method, reason: "the optimiser wrote no file at \(output)")
        }
        let bytesAfter = Int64(info.st_size)
        if let refusal = OptimizationDecision.refusal(
            result, bytesBefore: candidate.bytes, bytesAfter: bytesAfter, kind: candidate.kind, request: request,
            minimumSaving: minimumSaving)
        {
            let outcome: Outcome = refusal.isFailure ? .failed : .notWorthIt
            return try await finish(
                outcome, method: result.method, bytesAfter: bytesAfter, quality: result.quality, reason: refusal.reason)
        }
        if dryRun {
            return try await finish(.optimized, method: result.method, bytesAfter: bytesAfter, quality: result.quality)
        }
        let original = store.absolute(candidate.path)
        let sha256: String
        do {
            sha256 = try await Self.prepare(output, modeOf: original)
        } catch {
            return try await finish(.failed, method: result.method, reason: error.message)
        }
        guard sha256 != candidate.storedSha256 else {
            return try await finish(.notWorthIt, method: result.method, reason: "the copy is the stored file")
        }
        let temporaryRelative = ContentStore.temporaryFolder + "/" + (output as NSString).lastPathComponent
        let replacement = OptimizationRepository.Replacement(
            assetId: candidate.id, path: candidate.path, temporaryPath: temporaryRelative, sha256: sha256, bytes: bytesAfter,
            method: result.method, quality: result.quality)
        guard try await repository.recordReplaceIntent(replacement) else {
            return try await finish(.busy, method: result.method, reason: "another process holds \(candidate.path)")
        }
        if let pause = pauseBeforeRename { try? await Task.sleep(for: pause) }
        guard rename(output, original) == 0 else {
            let reason = "cannot replace \(original): \(LibraryRoot.errnoText())"
            try await repository.forgetReplaceIntent(path: candidate.path)
            return try await finish(.failed, method: result.method, reason: reason)
        }
        keepOutput = true
        LibraryRoot.syncDirectory((original as NSString).deletingLastPathComponent)
        try await repository.applyReplacement(replacement)
        // The metadata file follows the rows now; a failure leaves the mark for the next flush.
        _ = try? await MetadataRepository(connection: connection, logger: logger).flush([candidate.id], in: store)
        return try await finish(.optimized, method: result.method, bytesAfter: bytesAfter, quality: result.quality)
    }

    /// Gives the copy the original's mode (originals are read-only), makes it durable and
    /// hashes it, on a thread of its own (a video is gigabytes).
    static func prepare(_ path: String, modeOf original: String) async throws(MediaError) -> String {
        try await onOwnThread { () throws(MediaError) -> String in
            var info = stat()
            let mode = stat(original, &info) == 0 ? info.st_mode & 0o7777 : 0o444
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw MediaError(.libraryWriteFailed, "cannot open \(path): \(LibraryRoot.errnoText())") }
            defer { close(fd) }
            guard fchmod(fd, mode) == 0, fsync(fd) == 0 else {
                throw MediaError(.libraryWriteFailed, "cannot make \(path) durable: \(LibraryRoot.errnoText())")
            }
            guard let digest = try? FileIO.sha256(streaming: fd).sha256 else {
                throw MediaError(.libraryWriteFailed, "cannot read \(path): \(LibraryRoot.errnoText())")
            }
            return digest
        }
    }

    private func log(_ outcome: AssetOutcome) {
        var metadata: Logger.Metadata = [
            "asset": "\(outcome.id)", "outcome": "\(outcome.outcome.rawValue)", "bytesBefore": "\(outcome.bytesBefore)",
            "bytesAfter": "\(outcome.bytesAfter)", "dryRun": "\(dryRun)",
        ]
        if let method = outcome.method { metadata["method"] = "\(method)" }
        if let quality = outcome.quality { metadata["quality"] = "\(quality)" }
        if let reason = outcome.reason { metadata["reason"] = "\(reason)" }
        if outcome.outcome == .failed {
            logger.event(.optimizeFailed, "original not optimised", metadata: metadata)
        } else {
            logger.event(.optimized, "original optimised", metadata: metadata)
        }
    }
}

/// Whether an optimised copy replaces the original: pure, so the rule is read and tested in one place.
public enum OptimizationDecision {
    public struct Refusal: Sendable, Equatable {
        public let reason: String
        /// The copy broke a promise (larger than claimed, below the quality floor) rather than
        /// merely saving too little.
        public let isFailure: Bool
    }

    /// Nil when the copy is kept. A copy is kept when it is at least `minimumSaving` smaller;
    /// a remux that moved a video's index to the front is kept under that share (players
    /// then start without reading the file's end), as long as it is not larger. A lossy copy
    /// must also meet the request's quality floor.
    public static func refusal(
        _ result: OptimizationResult, bytesBefore: Int64, bytesAfter: Int64, kind: MediaFormat.Kind,
        request: OptimizationRequest, minimumSaving: Double
    ) -> Refusal? {
        if case .reencodeVideo(_, _, _, let floor) = request {
            guard let quality = result.quality else {
                return Refusal(reason: "the re-encoded copy has no quality score", isFailure: true)
            }
            if quality < floor {
                return Refusal(
                    reason: "quality \(String(format: "%.2f", quality)) dB is below the floor of \(floor) dB", isFailure: true)
            }
        }
        guard bytesAfter > 0 else { return Refusal(reason: "the copy is empty", isFailure: true) }
        if kind == .video && result.movedIndexFirst && bytesAfter <= bytesBefore { return nil }
        let saved = Double(bytesBefore - bytesAfter) / Double(max(bytesBefore, 1))
        guard saved >= minimumSaving, bytesAfter < bytesBefore else {
            return Refusal(
                reason: "saves \(String(format: "%.1f", saved * 100)) %, less than \(String(format: "%.1f", minimumSaving * 100)) %",
                isFailure: false)
        }
        return nil
    }
}
