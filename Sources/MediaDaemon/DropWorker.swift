import Foundation
import MediaCore
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// One worker's loop: take the next due drop, check the library, lease a connection, handle
/// the drop within its deadline, and on failure put it back with the right wait (a pause of
/// every worker for a library-wide fault, a growing delay for the drop alone otherwise).
extension DropService {
    func work(_ index: Int) async {
        while let item = await queue.take(worker: index) {
            let settings = self.settings
            if item.whenQuiet, let age = Self.timeSinceModified(item.path), age < settings.quietPeriod {
                // Still being written, or written a moment ago: look again when it has been quiet.
                await queue.retry(item, at: .now + (settings.quietPeriod - age), countsAsAttempt: false)
                continue
            }
            do throws(MediaError) {
                try root.confirm(libraryId: libraryId)
                let deadline = settings.deadline(forBytes: Self.size(of: item.path))
                await queue.expectBack(worker: index, by: .now + database.leaseTimeout + deadline + .seconds(5))
                try await database.withConnection(item.path, within: deadline) { connection in
                    try await self.handle(item, on: connection)
                }
                await endFault()
            } catch {
                await retry(item, after: error)
            }
        }
    }

    static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    fileprivate func handle(_ item: DropQueue.Item, on connection: PostgresConnection) async throws(MediaError) {
        let processor = self.processor
        if DropProcessor.isSidecar(item.path) {
            let media = String(item.path.dropLast(Sidecar.suffix.count))
            let applied = try await processor.applyLateSidecar(item.path, on: connection)
            if !applied, await queue.isHeld(media) {
                // Its media is being stored right now (within its deadline): look again once
                // that is done, however long it takes.
                await queue.retry(item, at: .now + .milliseconds(100), countsAsAttempt: false)
                return
            }
            // Applied; or its media has not come yet, and will read it when it does.
            await queue.finish(item.path, outcome: nil)
        } else if FileManager.default.fileExists(atPath: item.path) {
            try await quota?.admit(item.path, on: connection)
            let outcome = try await processor.process(mediaPath: item.path, on: connection)
            await queue.finish(item.path, outcome: outcome)
        } else {
            await queue.finish(item.path, outcome: nil)  // gone: handled by an earlier event
        }
    }

    static func timeSinceModified(_ path: String) -> Duration? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let modified = attributes[.modificationDate] as? Date
        else { return nil }
        return .milliseconds(Int64(max(0, Date().timeIntervalSince(modified)) * 1000))
    }

    /// Failures that concern the whole library rather than one file: every drop waits.
    static func isLibraryWide(_ code: MediaError.Code) -> Bool {
        [
            .databaseUnavailable, .databaseTimeout, .databaseError, .embeddedDatabaseFailed, .schemaNotCurrent,
            .libraryRootMissing, .libraryRootUnmarked, .libraryRootNotWritable, .libraryRootUnmounted,
            .libraryMismatch, .libraryWriteFailed, .overBudget,
        ].contains(code)
    }

    fileprivate func retry(_ item: DropQueue.Item, after error: MediaError) async {
        let maximum = settings.maximumBackoff
        if Self.isLibraryWide(error.code) {
            // The drop stays where it is; all work pauses and one worker probes after the pause.
            let (pause, started) = await queue.beginFault(error.message, maximum: maximum)
            if started {
                logger.event(
                    .waiting,
                    "drops wait",
                    metadata: [
                        "code": "\(error.code.name)", "reason": "\(error.message)", "retryIn": "\(pause)",
                    ])
            } else {
                logger.debug("still waiting", metadata: ["file": "\(item.path)", "reason": "\(error.message)"])
            }
            await queue.retry(item, at: .now + pause, countsAsAttempt: false)
        } else {
            let delay = min(maximum, .seconds(1) * (1 << min(item.attempts, 6)))
            let event: LogEventKind =
                error.code == .decoderCrashed ? .decoderCrashed : error.code == .decoderHung ? .decoderHung : .retrying
            logger.event(
                event, "drop waits",
                metadata: [
                    "file": "\(item.path)", "code": "\(error.code.name)", "reason": "\(error.message)",
                    "retryIn": "\(delay)",
                ], level: .warning)
            await queue.retry(item, at: .now + delay)
        }
    }

    fileprivate func endFault() async {
        if let ended = await queue.endFault() {
            logger.event(.resumed, "drops resume", metadata: ["waitedFor": "\(ended)"])
        }
    }
}
