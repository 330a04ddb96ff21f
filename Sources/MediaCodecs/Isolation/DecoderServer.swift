import Foundation
import MediaCore
import MediaIsolation

#if canImport(Glibc)
import Glibc
#endif

/// The child side of `DecoderPool`: a process that reads one `DecodeRequest` per line
/// on standard input, decodes with libvips/FFmpeg in process, and writes one `DecodeReply` per
/// line on standard output. A decoder that crashes or hangs takes only this process down; the
/// daemon sees it, kills what hangs, and starts another.
public enum DecoderServer {
    /// Set to `1` in a worker's environment, a file whose first mebibyte holds
    /// `MEDIAD-FAULT:crash` or `MEDIAD-FAULT:hang` makes the worker abort or hang on it: how the
    /// tests plant a decoder fault, since no known file crashes the installed libraries.
    public static let faultInjectionVariable = "MEDIAD_DECODER_FAULTS"

    /// Serves requests until standard input ends (the daemon closed it or died). Never returns.
    /// `memoryLimit` caps the address space (RLIMIT_AS): a decoder that runs away fails its
    /// allocation or dies here rather than pushing the daemon's host into swap.
    /// `lowPriority`: the worker runs at nice 19 (the background optimiser's workers).
    public static func serve(memoryLimit: Int64?, lowPriority: Bool = false) -> Never {
        if lowPriority && setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19) != 0 {
            report("cannot lower the worker's priority: \(String(cString: strerror(errno)))")
        }
        if let memoryLimit {
            var limit = rlimit(rlim_cur: rlim_t(memoryLimit), rlim_max: rlim_t(memoryLimit))
            if setrlimit(Int32(RLIMIT_AS.rawValue), &limit) != 0 {
                report("cannot limit the decoder's memory: \(String(cString: strerror(errno)))")
            }
        }
        // systemd's stop sends SIGTERM to the whole unit: the request in hand is finished, and
        // the worker ends when the daemon closes its pipe or is gone.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        exitWhenOrphaned()
        do {
            try NativeLibraries.startVips()
        } catch {
            report("cannot start libvips: \(error.description)")
            exit(1)
        }
        let faults = ProcessInfo.processInfo.environment[faultInjectionVariable] == "1"
        let decoder = NativeMediaDecoder()
        let optimizer = NativeOriginalOptimizer()
        let encoder = JSONEncoder()
        while let line = readLine(strippingNewline: true) {
            let reply: DecodeReply
            do {
                let request = try JSONDecoder().decode(DecodeRequest.self, from: Data(line.utf8))
                if faults { injectFault(for: request.path) }
                reply = handle(request, with: decoder, optimizer: optimizer)
            } catch {
                reply = DecodeReply(failure: .init(reason: .failed, message: "the decoder could not read its request: \(error)"))
            }
            guard var bytes = try? encoder.encode(reply) else { exit(1) }
            bytes.append(UInt8(ascii: "\n"))
            let failed = bytes.withUnsafeBytes { FileIO.writeAll(STDOUT_FILENO, $0) }
            if failed != nil { exit(0) }  // the daemon is gone
        }
        exit(0)
    }

    /// Starts libvips, prints the native libraries' versions as one line of JSON and exits
    /// (1, with the reason on standard error, when libvips does not start).
    public static func printVersions() -> Never {
        do {
            try NativeLibraries.startVips()
        } catch {
            report("cannot start libvips: \(error.description)")
            exit(1)
        }
        let native = NativeLibraries.versions()
        let versions = NativeLibraryVersions(
            libvips: native.libvips, ffmpeg: native.ffmpeg, libavformat: native.libavformat,
            libavcodec: native.libavcodec, libswscale: native.libswscale)
        guard let json = try? JSONEncoder().encode(versions) else { exit(1) }
        print(String(decoding: json, as: UTF8.self))
        exit(0)
    }

    static func handle(
        _ request: DecodeRequest, with decoder: NativeMediaDecoder, optimizer: NativeOriginalOptimizer
    ) -> DecodeReply {
        do throws(DecodeFailure) {
            switch request.operation {
            case .probe:
                guard let format = request.mimeType.flatMap(MediaFormat.withMimeType) else {
                    return DecodeReply(failure: .init(reason: .failed, message: "unknown format \(request.mimeType ?? "(none)")"))
                }
                return DecodeReply(probed: try decoder.probeNow(path: request.path, format: format))
            case .thumbnail:
                guard let output = request.output else {
                    return DecodeReply(failure: .init(reason: .failed, message: "no thumbnail path given"))
                }
                return DecodeReply(thumbnail: try decoder.writeThumbnailNow(of: request.path, kind: request.kind, to: output))
            case .optimize:
                guard let format = request.mimeType.flatMap(MediaFormat.withMimeType) else {
                    return DecodeReply(failure: .init(reason: .failed, message: "unknown format \(request.mimeType ?? "(none)")"))
                }
                guard let output = request.output, let optimization = request.optimization else {
                    return DecodeReply(failure: .init(reason: .failed, message: "no output path or optimisation given"))
                }
                let result = try optimizer.optimizeNow(path: request.path, format: format, to: output, request: optimization)
                return DecodeReply(optimized: result)
            }
        } catch {
            return DecodeReply(failure: .init(reason: error.reason, message: error.message))
        }
    }

    /// The worker must not outlive the daemon, even while a decoder hangs and standard input is
    /// not being read: a thread looks for the parent five times a second. (Under systemd the
    /// unit's cgroup is killed as a whole anyway.) Not PR_SET_PDEATHSIG: it fires when the
    /// *thread* that started the worker ends, and the daemon starts workers from pool threads.
    private static func exitWhenOrphaned() {
        let parent = getppid()
        let watcher = Thread {
            while getppid() == parent { usleep(200_000) }
            _exit(0)
        }
        watcher.start()
    }

    private static func injectFault(for path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        let head = (try? handle.read(upToCount: 1 << 20)) ?? Data()
        try? handle.close()
        if head.range(of: Data("MEDIAD-FAULT:crash".utf8)) != nil {
            abort()
        }
        if head.range(of: Data("MEDIAD-FAULT:hang".utf8)) != nil {
            while true { sleep(3600) }
        }
    }

    private static func report(_ message: String) {
        let line = "mediad decoder worker: \(message)\n"
        _ = line.utf8CString.withUnsafeBytes { FileIO.writeAll(STDERR_FILENO, UnsafeRawBufferPointer(rebasing: $0.dropLast())) }
    }
}
