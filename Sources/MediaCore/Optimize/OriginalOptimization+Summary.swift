// What an optimisation run reports: each original's outcome, and the totals by kind that
// `mediaq optimize --json` prints. The byte totals are of the originals kept optimised.
extension OriginalOptimization {
    /// What became of one original.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        /// Replaced by its smaller copy (with `--dry-run`: would have been).
        case optimized
        /// The copy saved too little: the original stays.
        case notWorthIt = "not_worth_it"
        /// Nothing to do for this file (a GIF, a video under the bitrate ceiling).
        case notApplicable = "not_applicable"
        /// The optimiser failed or refused its result (a check, the quality floor): the original stays.
        case failed
        /// Another process holds the file (GC removing it, another run replacing it): not tried.
        case busy
    }

    public struct AssetOutcome: Sendable, Codable, Equatable {
        public let id: Int64
        public let kind: MediaFormat.Kind
        public let path: String
        public let outcome: Outcome
        public let method: String?
        public let bytesBefore: Int64
        /// The copy's size (kept or not); `bytesBefore` when none was written.
        public let bytesAfter: Int64
        public let quality: Double?
        public let reason: String?
    }

    /// Totals of one kind.
    public struct KindSummary: Sendable, Codable, Equatable {
        public var optimized = 0
        /// Of the optimised originals: their size before and after.
        public var bytesBefore: Int64 = 0
        public var bytesAfter: Int64 = 0
        public var bytesSaved: Int64 { bytesBefore - bytesAfter }

        enum CodingKeys: String, CodingKey { case optimized, bytesBefore, bytesAfter, bytesSaved }

        public init() {}

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            optimized = try container.decode(Int.self, forKey: .optimized)
            bytesBefore = try container.decode(Int64.self, forKey: .bytesBefore)
            bytesAfter = try container.decode(Int64.self, forKey: .bytesAfter)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(optimized, forKey: .optimized)
            try container.encode(bytesBefore, forKey: .bytesBefore)
            try container.encode(bytesAfter, forKey: .bytesAfter)
            try container.encode(bytesSaved, forKey: .bytesSaved)
        }
    }

    public struct Summary: Sendable, Codable, Equatable {
        public var dryRun = false
        public var examined = 0
        public var optimized = 0
        public var notWorthIt = 0
        public var notApplicable = 0
        public var failed = 0
        public var busy = 0
        public var image = KindSummary()
        public var video = KindSummary()
        public var bytesSaved: Int64 { image.bytesSaved + video.bytesSaved }
        public var seconds = 0.0
        public var assets: [AssetOutcome] = []

        public init() {}

        mutating func add(_ outcome: AssetOutcome) {
            examined += 1
            assets.append(outcome)
            switch outcome.outcome {
            case .optimized:
                optimized += 1
                let before = outcome.bytesBefore
                let after = outcome.bytesAfter
                if outcome.kind == .image {
                    image.optimized += 1
                    image.bytesBefore += before
                    image.bytesAfter += after
                } else {
                    video.optimized += 1
                    video.bytesBefore += before
                    video.bytesAfter += after
                }
            case .notWorthIt: notWorthIt += 1
            case .notApplicable: notApplicable += 1
            case .failed: failed += 1
            case .busy: busy += 1
            }
        }

        enum CodingKeys: String, CodingKey {
            case dryRun, examined, optimized, notWorthIt, notApplicable, failed, busy, image, video, bytesSaved, seconds,
                assets
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            dryRun = try container.decode(Bool.self, forKey: .dryRun)
            examined = try container.decode(Int.self, forKey: .examined)
            optimized = try container.decode(Int.self, forKey: .optimized)
            notWorthIt = try container.decode(Int.self, forKey: .notWorthIt)
            notApplicable = try container.decode(Int.self, forKey: .notApplicable)
            failed = try container.decode(Int.self, forKey: .failed)
            busy = try container.decode(Int.self, forKey: .busy)
            image = try container.decode(KindSummary.self, forKey: .image)
            video = try container.decode(KindSummary.self, forKey: .video)
            seconds = try container.decode(Double.self, forKey: .seconds)
            assets = try container.decode([AssetOutcome].self, forKey: .assets)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(dryRun, forKey: .dryRun)
            try container.encode(examined, forKey: .examined)
            try container.encode(optimized, forKey: .optimized)
            try container.encode(notWorthIt, forKey: .notWorthIt)
            try container.encode(notApplicable, forKey: .notApplicable)
            try container.encode(failed, forKey: .failed)
            try container.encode(busy, forKey: .busy)
            try container.encode(image, forKey: .image)
            try container.encode(video, forKey: .video)
            try container.encode(bytesSaved, forKey: .bytesSaved)
            try container.encode(seconds, forKey: .seconds)
            try container.encode(assets, forKey: .assets)
        }
    }
}
