import MediaCore
import MediaIsolation

/// The decoder pool of the commands that decode (`ingest`, `seed`, `doctor --fix`): libvips and
/// FFmpeg run in `mediad --decoder-worker` processes, as in the daemon, with the library's
/// decoder limits. `mediaq` itself links neither, so that every other command starts fast.
extension DecoderPool {
    static func forCommands(_ configuration: LibraryConfiguration) throws(MediaError) -> DecoderPool {
        let mediad: String
        do {
            mediad = try DecoderCommandLine.siblingDaemon()
        } catch {
            throw MediaError(.invalidConfiguration, error.description)
        }
        var settings = DecoderPool.Settings(
            command: DecoderCommandLine.arguments(executable: mediad, memoryLimit: configuration.daemon.decoderMemoryBytes))
        settings.timeout = configuration.daemon.decodeTimeout
        settings.keptIdle = 1
        return DecoderPool(settings: settings)
    }

    /// A file the worker crashed or hung on is tried once more, as the daemon would; the second
    /// time it is quarantined, which the ingest reports as a rejection.
    static func shouldRetry(_ error: MediaError, attempt: Int) -> Bool {
        (error.code == .decoderCrashed || error.code == .decoderHung) && attempt < 2
    }
}
