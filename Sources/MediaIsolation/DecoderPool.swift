import Dispatch
import Foundation
public import MediaCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's `MediaDecoder`: every probe and thumbnail runs in a worker process of its own
/// (`DecoderServer`), with an address-space limit and a time limit, so a file that crashes or
/// hangs libvips or FFmpeg costs one worker, never the daemon.
///
/// A file the decoder dies or hangs on once is reported as `.crashed` (the drop is tried again
/// later: the worker may have been starved by a neighbour); the second time on the same file
/// (same device, inode, size and modification time) it is `.quarantined`.
///
/// It is also the daemon's `OriginalOptimizer`: optimisations run in the same workers, with a
/// time limit of their own (`optimizeTimeout`), since re-coding a large video takes minutes.
public final class DecoderPool: MediaDecoder, OriginalOptimizer, Sendable {
    public struct Settings: Sendable {
        /// The worker's command line; the daemon uses its own executable in worker mode.
        public var command: [String]
        /// Longest a probe or a thumbnail may take before the worker is killed.
        public var timeout: Duration = .seconds(60)
        /// Longest an optimisation (`optimize`) may take before the worker is killed.
        public var optimizeTimeout: Duration = .seconds(600)
        /// Idle workers kept for the next request (the daemon's worker count).
        public var keptIdle: Int = 2

        public init(command: [String]) {
            self.command = command
        }
    }

    private let settings: Mutex<Settings>
    private let idle = Mutex<[DecoderProcess]>([])
    private let crashes = Mutex<[FileStamp: Int]>([:])

    public init(settings: Settings) {
        self.settings = Mutex(settings)
        // Writing a request to a worker that just died must be an error, not the end of us.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Changes the time limit for requests from now on (configuration reload).
    public func setTimeout(_ timeout: Duration) {
        settings.withLock { $0.timeout = timeout }
    }

    /// Changes the time limit for optimisations from now on (configuration reload).
    public func setOptimizeTimeout(_ timeout: Duration) {
        settings.withLock { $0.optimizeTimeout = timeout }
    }

    /// Ends the idle workers; call when the daemon stops.
    public func shutdown() {
        let workers = idle.withLock { workers in
            defer { workers.removeAll() }
            return workers
        }
        workers.forEach { $0.stop() }
    }

    public func probe(path: String, format: MediaFormat) async throws(DecodeFailure) -> ProbedMedia {
        let request = DecodeRequest(operation: .probe, path: Self.openableByChild(path), kind: format.kind, mimeType: format.mimeType)
        let reply = try await run(request, file: path)
        guard let probed = reply.probed else { throw DecodeFailure(.failed, "the decoder worker sent no measurements") }
        return probed
    }

    public func writeThumbnail(of path: String, kind: MediaFormat.Kind, to jpegPath: String) async throws(DecodeFailure) -> ThumbnailSize {
        let request = DecodeRequest(operation: .thumbnail, path: Self.openableByChild(path), kind: kind, output: jpegPath)
        let reply = try await run(request, file: path)
        guard let size = reply.thumbnail else { throw DecodeFailure(.failed, "the decoder worker sent no thumbnail size") }
        return size
    }

    public func optimize(
        path: String, format: MediaFormat, to output: String, request: OptimizationRequest
    ) async throws(DecodeFailure) -> OptimizationResult {
        let workerRequest = DecodeRequest(
            operation: .optimize, path: Self.openableByChild(path), kind: format.kind, mimeType: format.mimeType,
            output: output, optimization: request)
        let reply = try await run(workerRequest, file: path)
        guard let result = reply.optimized else { throw DecodeFailure(.failed, "the decoder worker sent no optimisation result") }
        return result
    }

    // MARK: -

    private enum Outcome: Sendable {
        case reply(DecodeReply)
        case died(String)
        case hung(String)
        case cannotStart(String)
    }

    private func run(_ request: DecodeRequest, file: String) async throws(DecodeFailure) -> DecodeReply {
        let identity = FileStamp(path: file)
        // Waiting for a worker blocks a thread; not one of the few that run Swift tasks.
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: self.exchange(request))
            }
        }
        switch outcome {
        case .reply(let reply):
            if let failure = reply.failure {
                throw DecodeFailure(failure.reason, failure.message.replacingOccurrences(of: request.path, with: file))
            }
            return reply
        case .cannotStart(let reason):
            throw DecodeFailure(.crashed, reason)
        case .died(let how) where request.operation == .optimize, .hung(let how) where request.operation == .optimize:
            // An optimisation is optional work on a file already stored: a crash or hang says
            // nothing the library should quarantine the file for, so it is not counted.
            if case .hung = outcome {
                throw DecodeFailure(
                    .hung,
                    "the optimiser \(how) while optimising it: stopped at the time limit, media.optimizeTimeoutSeconds "
                        + "(MEDIA_OPTIMIZE_TIMEOUT_SECONDS); raise it and run `mediaq optimize --retry-failed`")
            }
            throw DecodeFailure(.crashed, "the optimiser \(how) while optimising it")
        case .died(let how), .hung(let how):
            let count =
                identity.map { identity in
                    crashes.withLock { counts in
                        if counts.count > 10_000 { counts.removeAll() }  // bounded: a long-running daemon
                        counts[identity, default: 0] += 1
                        return counts[identity]!
                    }
                } ?? 1
            let what = request.kind == .video ? "video decoder" : "image decoder"
            let operation =
                switch request.operation {
                case .probe: "reading"
                case .thumbnail: "making the thumbnail of"
                case .optimize: "optimising"
                }
            if count >= 2 {
                throw DecodeFailure(.quarantined, "the \(what) \(how) while \(operation) it, for the second time")
            }
            if case .hung = outcome { throw DecodeFailure(.hung, "the \(what) \(how) while \(operation) it") }
            throw DecodeFailure(.crashed, "the \(what) \(how) while \(operation) it")
        }
    }

    private func exchange(_ request: DecodeRequest) -> Outcome {
        let current = settings.withLock { $0 }
        let worker: DecoderProcess
        if let reusable = takeIdle() {
            worker = reusable
        } else {
            do {
                worker = try DecoderProcess.start(current.command)
            } catch {
                return .cannotStart(error.description)
            }
        }
        guard let line = try? JSONEncoder().encode(request) else {
            giveBack(worker, keep: current.keptIdle)
            return .reply(DecodeReply(failure: .init(reason: .failed, message: "cannot encode a decoder request")))
        }
        let timeout = request.operation == .optimize ? current.optimizeTimeout : current.timeout
        switch worker.exchange(Array(line), timeout: timeout) {
        case .reply(let bytes):
            guard let reply = try? JSONDecoder().decode(DecodeReply.self, from: Data(bytes)) else {
                worker.kill()
                return .died("sent an unreadable answer")
            }
            giveBack(worker, keep: current.keptIdle)
            return .reply(reply)
        case .died(let how):
            return .died(how)
        case .timedOut:
            worker.kill()
            return .hung("hung (no answer within \(timeout))")
        }
    }

    private func takeIdle() -> DecoderProcess? {
        while let worker = idle.withLock({ $0.popLast() }) {
            if worker.isAlive { return worker }
            worker.stop()
        }
        return nil
    }

    private func giveBack(_ worker: DecoderProcess, keep: Int) {
        let kept = idle.withLock { workers in
            guard workers.count < keep else { return false }
            workers.append(worker)
            return true
        }
        if !kept { worker.stop() }
    }

    /// `/proc/self/fd/N` names the daemon's open file only inside the daemon; the worker (same
    /// user) reaches the same open file through the daemon's pid.
    static func openableByChild(_ path: String) -> String {
        guard path.hasPrefix("/proc/self/") else { return path }
        return "/proc/\(getpid())/" + path.dropFirst("/proc/self/".count)
    }
}
