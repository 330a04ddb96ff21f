public import MediaCore

/// One request to a decoder worker process: a line of JSON on its standard input.
public struct DecodeRequest: Codable, Sendable, Equatable {
    public enum Operation: String, Codable, Sendable {
        case probe, thumbnail, optimize
    }

    public var operation: Operation
    /// A path the worker can open: `/proc/<daemon pid>/fd/N` for a drop the daemon holds open.
    public var path: String
    public var kind: MediaFormat.Kind
    /// The sniffed format, for `probe` and `optimize`.
    public var mimeType: String?
    /// Where `thumbnail` writes its JPEG, and `optimize` the optimised copy.
    public var output: String?
    /// How far `optimize` may go.
    public var optimization: OptimizationRequest?

    public init(
        operation: Operation, path: String, kind: MediaFormat.Kind, mimeType: String? = nil, output: String? = nil,
        optimization: OptimizationRequest? = nil
    ) {
        self.operation = operation
        self.path = path
        self.kind = kind
        self.mimeType = mimeType
        self.output = output
        self.optimization = optimization
    }
}

/// The worker's answer: a line of JSON on its standard output. Exactly one field is set.
public struct DecodeReply: Codable, Sendable, Equatable {
    public struct Failure: Codable, Sendable, Equatable {
        public var reason: DecodeFailure.Reason
        public var message: String

        public init(reason: DecodeFailure.Reason, message: String) {
            self.reason = reason
            self.message = message
        }
    }

    public var probed: ProbedMedia?
    public var thumbnail: ThumbnailSize?
    /// What `optimize` did (absent from the replies of workers older than the operation).
    public var optimized: OptimizationResult?
    public var failure: Failure?

    public init(
        probed: ProbedMedia? = nil, thumbnail: ThumbnailSize? = nil, optimized: OptimizationResult? = nil,
        failure: Failure? = nil
    ) {
        self.probed = probed
        self.thumbnail = thumbnail
        self.optimized = optimized
        self.failure = failure
    }
}
