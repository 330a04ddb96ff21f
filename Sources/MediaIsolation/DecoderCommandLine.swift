public import Foundation

/// The command line of a decoder worker: `mediad --decoder-worker --memory-limit BYTES`.
///
/// `mediad` runs its own executable in worker mode. `mediaq` links no codec (so that a search
/// does not pay for loading libvips and FFmpeg), and borrows the `mediad` installed beside it
/// for the commands that decode (`ingest`, `seed`, `doctor --fix`).
public enum DecoderCommandLine {
    public static let flag = "--decoder-worker"
    /// Overrides where `mediaq` finds `mediad` (an absolute path).
    public static let executableVariable = "MEDIAQ_MEDIAD"

    /// Makes the worker lower its own CPU priority to the lowest (nice 19) before it serves:
    /// for the daemon's background optimiser, whose rewrites and pixel comparisons must not take
    /// the cores from drops or from the pipeline.
    public static let lowPriorityFlag = "--low-priority"

    /// `executable` in worker mode.
    public static func arguments(executable: String, memoryLimit: Int64, lowPriority: Bool = false) -> [String] {
        [executable, flag, "--memory-limit", String(memoryLimit)] + (lowPriority ? [lowPriorityFlag] : [])
    }

    /// The memory limit a worker was started with.
    public static func memoryLimit(in arguments: [String]) -> Int64? {
        guard let index = arguments.firstIndex(of: "--memory-limit"), index + 1 < arguments.count else { return nil }
        return Int64(arguments[index + 1])
    }

    /// The `mediad` beside the running executable, or the one `MEDIAQ_MEDIAD` names; an error
    /// that says where it looked when there is none.
    public static func siblingDaemon(
        environment: [String: String] = ProcessInfo.processInfo.environment
    )
        throws(MissingWorker) -> String
    {
        if let named = environment[executableVariable], !named.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: named) else {
                throw MissingWorker(path: named, variable: executableVariable)
            }
            return named
        }
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let sibling = URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent("mediad").path
        guard FileManager.default.isExecutableFile(atPath: sibling) else {
            throw MissingWorker(path: sibling, variable: executableVariable)
        }
        return sibling
    }

    public struct MissingWorker: Error, CustomStringConvertible {
        public let path: String
        public let variable: String
        public var description: String {
            "decoding needs mediad's decoder worker, and there is no executable mediad at \(path) "
                + "(install mediad beside mediaq, or set \(variable) to its path)"
        }
    }
}

extension DecoderCommandLine {
    /// `mediad --decoder-worker --versions`: starts libvips, prints `NativeLibraryVersions` as
    /// JSON and exits; how `mediaq version` reports the libraries that decode for it.
    public static let versionsFlag = "--versions"
}

/// The versions of the native libraries a decoder worker runs.
public struct NativeLibraryVersions: Sendable, Codable, Equatable {
    public let libvips: String
    public let ffmpeg: String
    public let libavformat: String
    public let libavcodec: String
    public let libswscale: String

    public init(libvips: String, ffmpeg: String, libavformat: String, libavcodec: String, libswscale: String) {
        self.libvips = libvips
        self.ffmpeg = ffmpeg
        self.libavformat = libavformat
        self.libavcodec = libavcodec
        self.libswscale = libswscale
    }
}
