public import Foundation

/// What `mediaq plan` reads: a video script's segments, each with the tags gather extracted,
/// its duration and the media it needs, plus the target aspect and minimum size.
///
///     {
///       "aspect": "9:16",
///       "minWidth": 1080, "minHeight": 1920,
///       "segments": [
///         {"id": "hook", "tags": ["beach", "sunset"], "durationSeconds": 4.5, "media": ["video", "image"]}
///       ]
///     }
///
/// | key | type | required | meaning |
/// |-----|------|----------|---------|
/// | `segments` | list | yes, at least one | in script order |
/// | `segments[].id` | string | yes, unique | echoed in the manifest |
/// | `segments[].tags` | list of strings, or one comma-separated string | yes | normalised as stored tags |
/// | `segments[].durationSeconds` | number ≥ 0 | no | a video must be at least this long |
/// | `segments[].media` | list of `video`, `image` | no (both) | what the segment needs |
/// | `segments[].requiredTags` | list of strings, or one comma-separated string | no | a pick must carry every one (after normalisation) |
/// | `aspect` | `"W:H"` or a number | no | desired displayed aspect: ranks, does not filter |
/// | `minWidth`, `minHeight` | whole number ≥ 0 | no (0) | smallest acceptable displayed size |
///
/// Other keys are ignored, so gather may pass a richer document. Every error names the key
/// (`segments[2].tags`).
public struct PlanScript: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public var id: String
        public var tags: [String]
        public var durationSeconds: Double?
        /// In the order plan fills them: videos first.
        public var media: [MediaFormat.Kind]
        /// Tags every pick must carry (the quality floor's hard part).
        public var requiredTags: [String]

        public init(
            id: String, tags: [String], durationSeconds: Double? = nil, media: [MediaFormat.Kind] = [.video, .image],
            requiredTags: [String] = []
        ) {
            self.id = id
            self.tags = tags
            self.durationSeconds = durationSeconds
            self.media = media
            self.requiredTags = requiredTags
        }
    }

    public var segments: [Segment]
    /// Width / height.
    public var aspect: Double?
    /// As written, for the missing list.
    public var aspectText: String?
    public var minWidth: Int
    public var minHeight: Int

    public init(segments: [Segment], aspect: Double? = nil, aspectText: String? = nil, minWidth: Int = 0, minHeight: Int = 0) {
        self.segments = segments
        self.aspect = aspect
        self.aspectText = aspectText
        self.minWidth = minWidth
        self.minHeight = minHeight
    }

    public static func load(_ path: String) throws(MediaError) -> PlanScript {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw MediaError(.badScript, "script \(path) cannot be read: \(error.localizedDescription)")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws(MediaError) -> PlanScript {
        func bad(_ text: String) -> MediaError { MediaError(.badScript, "script \(file): \(text)") }
        let document: JSONValue
        do {
            document = try JSONValue.parse(data)
        } catch {
            throw bad("not valid JSON")
        }
        guard case .object(let top) = document else { throw bad("must be a JSON object with \"segments\"") }

        var script = PlanScript(segments: [])
        if let value = top["aspect"], value != .null {
            switch value {
            case .string(let text):
                guard let ratio = AspectRatio.parse(text) else {
                    throw bad("aspect must be a ratio such as \"9:16\" or a positive number, not \(value.described)")
                }
                script.aspect = ratio
                script.aspectText = text
            case .number(let ratio) where ratio > 0 && ratio.isFinite:
                script.aspect = ratio
                script.aspectText = value.described
            default:
                throw bad("aspect must be a ratio such as \"9:16\" or a positive number, not \(value.described)")
            }
        }
        for (key, path) in [("minWidth", \PlanScript.minWidth), ("minHeight", \PlanScript.minHeight)] {
            guard let value = top[key], value != .null else { continue }
            guard let size = value.integer, size >= 0 else {
                throw bad("\(key) must be a whole number of pixels, 0 or more, not \(value.described)")
            }
            script[keyPath: path] = size
        }

        guard let list = top["segments"] else { throw bad("segments is missing") }
        guard case .array(let segments) = list else {
            throw bad("segments must be a list of segments, not \(list.described)")
        }
        guard !segments.isEmpty else { throw bad("segments is empty; give at least one segment") }
        var seen: Set<String> = []
        for (index, element) in segments.enumerated() {
            let key = "segments[\(index)]"
            let segment = try Self.segment(element, key: key, bad)
            guard seen.insert(segment.id).inserted else {
                throw bad("\(key).id \"\(segment.id)\" is used by an earlier segment; ids must be unique")
            }
            script.segments.append(segment)
        }
        return script
    }

    /// A list of strings or one comma-separated string; nil when absent or null.
    private static func tagList(_ value: JSONValue?, key: String, _ bad: (String) -> MediaError) throws(MediaError) -> [String]? {
        switch value {
        case nil, .null?:
            return nil
        case .string(let text)?:
            return [text]
        case .array(let list)?:
            var tags: [String] = []
            for (position, tag) in list.enumerated() {
                guard case .string(let text) = tag else { throw bad("\(key)[\(position)] must be a string, not \(tag.described)") }
                tags.append(text)
            }
            return tags
        case let other?:
            throw bad("\(key) must be a list of strings or one comma-separated string, not \(other.described)")
        }
    }

    private static func segment(_ element: JSONValue, key: String, _ bad: (String) -> MediaError) throws(MediaError) -> Segment {
        guard case .object(let fields) = element else { throw bad("\(key) must be an object, not \(element.described)") }
        guard case .string(let id)? = fields["id"], !id.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw bad("\(key).id must be a non-empty string, not \(fields["id"]?.described ?? "missing")")
        }
        guard let tags = try tagList(fields["tags"], key: key + ".tags", bad) else {
            throw bad("\(key).tags must be a list of strings or one comma-separated string, not missing")
        }
        guard !TagNormalizer.normalize(tags).isEmpty else {
            throw bad("\(key).tags has no tag left after normalisation (\(tags.joined(separator: ", ")))")
        }
        var segment = Segment(id: id, tags: tags)
        if let required = try tagList(fields["requiredTags"], key: key + ".requiredTags", bad) {
            segment.requiredTags = TagNormalizer.normalize(required)
        }
        if let value = fields["durationSeconds"], value != .null {
            guard case .number(let seconds) = value, seconds >= 0, seconds.isFinite, seconds < 86_400 else {
                throw bad("\(key).durationSeconds must be a number of seconds, 0 or more, not \(value.described)")
            }
            segment.durationSeconds = seconds
        }
        if let value = fields["media"], value != .null {
            guard case .array(let list) = value, !list.isEmpty else {
                throw bad("\(key).media must be a non-empty list of \"video\" and \"image\", not \(value.described)")
            }
            var kinds: Set<MediaFormat.Kind> = []
            for (position, item) in list.enumerated() {
                switch item {
                case .string("video"), .string("videos"): kinds.insert(.video)
                case .string("image"), .string("images"): kinds.insert(.image)
                default: throw bad("\(key).media[\(position)] must be \"video\" or \"image\", not \(item.described)")
                }
            }
            // Videos first, whatever the order written.
            segment.media = [MediaFormat.Kind.video, .image].filter(kinds.contains)
        }
        return segment
    }
}
