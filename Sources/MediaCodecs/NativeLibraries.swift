import CFFmpeg
import CMediaShim
import Synchronization

/// The native media libraries this build links, started once per process.
public enum NativeLibraries {
    public struct Versions: Sendable, Codable, Equatable {
        public let libvips: String
        public let ffmpeg: String
        public let libavformat: String
        public let libavcodec: String
        public let libswscale: String
    }

    private static let vipsStarted = Mutex<Result<Void, VipsStartError>?>(nil)

    public struct VipsStartError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Starts libvips once: one worker thread per operation (the daemon runs its own workers
    /// side by side) and no operation cache (a long-running process must not hold images).
    public static func startVips() throws(VipsStartError) {
        let outcome = vipsStarted.withLock { state -> Result<Void, VipsStartError> in
            if let state { return state }
            var message = [CChar](repeating: 0, count: 512)
            let status = mshim_vips_init("media-library", 1, 0, &message, 512)
            let result: Result<Void, VipsStartError> =
                status == 0
                ? .success(())
                : .failure(VipsStartError(description: String(decoding: message.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self)))
            state = result
            return result
        }
        try outcome.get()
    }

    public static func versions() -> Versions {
        func dotted(_ packed: UInt32) -> String {
            "\(packed >> 16).\((packed >> 8) & 0xFF).\(packed & 0xFF)"
        }
        return Versions(
            libvips: String(cString: mshim_vips_version()),
            ffmpeg: String(cString: av_version_info()),
            libavformat: dotted(avformat_version()),
            libavcodec: dotted(avcodec_version()),
            libswscale: dotted(swscale_version()))
    }
}
