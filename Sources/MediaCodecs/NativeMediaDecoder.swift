public import MediaCore

/// The core's `MediaDecoder`, over libvips for images and FFmpeg's libraries for videos.
public struct NativeMediaDecoder: MediaDecoder {
    public init() {}

    public func probe(path: String, format: MediaFormat) async throws(DecodeFailure) -> ProbedMedia {
        try probeNow(path: path, format: format)
    }

    public func writeThumbnail(
        of path: String, kind: MediaFormat.Kind, to jpegPath: String
    ) async throws(DecodeFailure) -> ThumbnailSize {
        try writeThumbnailNow(of: path, kind: kind, to: jpegPath)
    }

    /// `probe` on the calling thread (the isolated decoder's worker process has no other work).
    public func probeNow(path: String, format: MediaFormat) throws(DecodeFailure) -> ProbedMedia {
        switch format.kind {
        case .image:
            do {
                let info = try ImageProbe.probe(path: path)
                var probed = ProbedMedia(width: info.width, height: info.height)
                probed.pageCount = info.pageCount
                probed.keywords = info.keywords.isEmpty ? nil : info.keywords
                return probed
            } catch {
                throw DecodeFailure(.undecodable, error.message)
            }
        case .video:
            do {
                let info = try VideoProbe.probe(path: path)
                var probed = ProbedMedia(width: info.width, height: info.height)
                probed.durationMs = info.durationMs
                probed.fps = info.fps
                probed.videoCodec = info.videoCodec
                probed.audioCodec = info.audioCodec
                probed.bitrate = info.bitrate
                probed.hasAudio = info.hasAudio
                return probed
            } catch {
                throw DecodeFailure(error.kind == .noVideoStream ? .noVideoStream : .undecodable, error.message)
            }
        }
    }

    /// `writeThumbnail` on the calling thread.
    public func writeThumbnailNow(
        of path: String, kind: MediaFormat.Kind, to jpegPath: String
    ) throws(DecodeFailure) -> ThumbnailSize {
        switch kind {
        case .image:
            do {
                let size = try ImageThumbnailer.writeThumbnail(imagePath: path, jpegPath: jpegPath)
                return ThumbnailSize(width: size.width, height: size.height)
            } catch {
                throw DecodeFailure(.failed, error.message)
            }
        case .video:
            do {
                let size = try PosterExtractor.writePoster(videoPath: path, jpegPath: jpegPath)
                return ThumbnailSize(width: size.width, height: size.height)
            } catch {
                throw DecodeFailure(.failed, error.message)
            }
        }
    }
}
