import Foundation

/// One file to add to the library, with what is known of it.
public struct IngestRequest: Sendable {
    public var path: String
    /// Raw tags; the ingest normalises them.
    public var tags: [String]
    public var provider: String?
    public var sourceURL: String?
    public var providerAssetId: String?
    /// Mark the asset used now (gather downloaded it for a video).
    public var markUsed: Bool
    /// Take the file rather than copy it: on the library's filesystem it is linked in without a
    /// copy, elsewhere copied; either way its name is removed once it is stored (ingested or a
    /// duplicate). A rejected file stays where it is.
    public var moveSource: Bool
    /// With `moveSource`: leave the source's name in place; the caller removes it (with
    /// `IngestResult.removeSourceName()`) once it has recorded the outcome, so a crash between
    /// the two leaves the file to be seen again (as a duplicate) rather than gone unrecorded.
    public var callerRemovesSource = false

    public init(
        path: String, tags: [String] = [], provider: String? = nil, sourceURL: String? = nil,
        providerAssetId: String? = nil, markUsed: Bool = false, moveSource: Bool = false
    ) {
        self.moveSource = moveSource
        self.path = path
        self.tags = tags
        self.provider = provider
        self.sourceURL = sourceURL
        self.providerAssetId = providerAssetId
        self.markUsed = markUsed
    }
}

/// What became of one file.
public struct IngestResult: Sendable, Encodable {
    public enum Status: String, Sendable, Encodable {
        case ingested, duplicate, rejected
    }

    public struct Failure: Sendable, Encodable {
        public let code: String
        public let message: String
    }

    public let file: String
    public let status: Status
    public var id: Int64?
    public var sha256: String?
    public var kind: MediaFormat.Kind?
    /// Relative to LIBRARY_ROOT.
    public var path: String?
    public var thumbPath: String?
    public var width: Int?
    public var height: Int?
    public var durationMs: Int64?
    public var error: Failure?
    /// The stored file's identity, when its name is the caller's to remove.
    var sourceToRemove: OpenSource.Identity?

    /// Removes the stored source's name (see `IngestRequest.callerRemovesSource`), if it still
    /// names the file that was stored.
    public func removeSourceName() {
        if let sourceToRemove { ContentStore.removeName(sourceToRemove) }
    }

    enum CodingKeys: String, CodingKey {
        case file, status, id, sha256, kind, path, thumbPath, width, height, durationMs, error
    }

    static func rejected(_ file: String, _ error: MediaError) -> IngestResult {
        IngestResult(file: file, status: .rejected, error: .init(code: error.code.name, message: error.message))
    }
}
