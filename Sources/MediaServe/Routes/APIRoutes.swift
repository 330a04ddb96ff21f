import Foundation
import Hummingbird
import MediaCommandSupport
import MediaCore
import NIOCore

extension LibraryServer {
    /// The read commands over HTTP, answering exactly what `mediaq … --json` prints (the same
    /// types, encoded by the same `JSONOutput`): `/api/search` is `mediaq search`,
    /// `/api/assets/ID` is `mediaq show ID`, `POST /api/plan` is `mediaq plan SCRIPT
    /// --no-mark-used`. Failures are `{"ok": false, "error": {"code", "message"}}` with a 4xx or 5xx.
    func addAPI(to router: Router<BasicRequestContext>) {
        router.get("/api/search") { request, context in
            await json { () throws(MediaError) in
                let fields = FormFields(request.uri.query ?? "")
                let (request, minMatches, kindName) = try apiSearchRequest(fields)
                let root = root
                let outcome = try await withConnection("cannot search") { connection in
                    try await SearchRepository(connection: connection, logger: logger, root: root)
                        .search(request, fallingBackBelow: minMatches)
                }
                return SearchReport(kind: kindName, request: request, outcome: outcome)
            }
        }
        router.get("/api/assets/:id") { request, context in
            await json { () throws(MediaError) in
                guard let id = assetId(context) else { throw MediaError(.assetNotFound, "no asset has that id") }
                let details = try await withConnection("cannot read asset \(id)") { connection in
                    try await AssetRepository(connection: connection, logger: logger).details(idOrSHA256: String(id))
                }
                guard let details else { throw MediaError(.assetNotFound, "no asset has id \(id)") }
                return details
            }
        }
        router.post("/api/plan") { request, context in
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: 1 << 20)
            } catch {
                return jsonError(MediaError(.invalidRequest, "a plan script is at most 1 MB"))
            }
            let exact = FormFields(request.uri.query ?? "")["exact"] != nil
            return await json { () throws(MediaError) in
                let script = try PlanScript.parse(Data(body.readableBytesView), file: "the request body")
                var settings = LocalLibrarySettings()
                if exact { settings.relatedTags = false }
                let root = root
                let settingsCopy = settings
                var plan = try await withConnection("cannot plan") { connection in
                    let repository = SearchRepository(
                        connection: connection, logger: logger, root: root, statements: PreparedStatements(connection: connection))
                    return try await Planner.plan(script, settings: settingsCopy) { request throws(MediaError) in
                        try await repository.search(request)
                    }
                }
                plan.markedUsed = false
                plan.libraryRoot = root
                return plan
            }
        }
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.data)))
        }
    }

    /// `mediaq search`'s options, by the same names (`kind` is its argument).
    func apiSearchRequest(_ fields: FormFields) throws(MediaError) -> (SearchRequest, minMatches: Int, kind: String) {
        func bad(_ text: String) -> MediaError { MediaError(.invalidRequest, text) }
        func integer(_ name: String, _ fallback: Int) throws(MediaError) -> Int {
            guard let text = fields[name] else { return fallback }
            guard let value = Int(text) else { throw bad("\(name) must be a whole number") }
            return value
        }
        func decimal(_ name: String) throws(MediaError) -> Double? {
            guard let text = fields[name] else { return nil }
            guard let value = Double(text), value.isFinite else { throw bad("\(name) must be a number") }
            return value
        }
        let kind: MediaFormat.Kind
        switch fields["kind"] {
        case "videos", "video": kind = .video
        case "images", "image": kind = .image
        default: throw bad("kind must be videos or images")
        }
        var aspect: Double?
        if let text = fields["aspect"] {
            guard let value = AspectRatio.parse(text) else { throw bad("aspect '\(text)' is not a ratio such as 9:16") }
            aspect = value
        }
        if let minDuration = try decimal("min-duration"), minDuration < 0 { throw bad("min-duration must be 0 or more") }
        let request = SearchRequest(
            kind: kind, tags: QueryTags(fields.all("tags")), minWidth: try integer("min-width", 0),
            minHeight: try integer("min-height", 0), minDurationMs: try decimal("min-duration").map(SearchRequest.milliseconds(seconds:)),
            aspect: aspect, provider: fields["provider"]?.lowercased(), limit: try integer("limit", SearchRequest.defaultLimit),
            recencyBoost: try decimal("recency-boost") ?? Scoring.defaultRecencyBoost)
        try request.validate()
        let exact = fields["exact"] != nil
        let minMatches = try integer("min-matches", request.limit)
        guard (1...SearchRequest.maximumLimit).contains(minMatches) else {
            throw bad("min-matches must be 1 to \(SearchRequest.maximumLimit)")
        }
        return (request, exact ? 0 : minMatches, kind == .video ? "videos" : "images")
    }

    func json(_ body: () async throws(MediaError) -> some Encodable) async -> Response {
        do {
            let value = try await body()
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: JSONOutput.encode(value) + "\n")))
        } catch {
            return jsonError(error)
        }
    }

    func jsonError(_ error: MediaError) -> Response {
        Response(
            status: httpStatus(for: error), headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: JSONOutput.encode(ErrorReport(error)) + "\n")))
    }
}

/// The OpenAPI 3 document of the JSON API, written by hand (`Resources/openapi.json`).
enum OpenAPIDocument {
    static let data: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return Array("{}".utf8)
        }
        return Array(data)
    }()
}
