import Foundation
import HTTPTypes
import Hummingbird
import MediaCore
import NIOCore
import PostgresNIO

extension LibraryServer {
    func addPages(to router: Router<BasicRequestContext>) {
        router.get("/") { request, context in
            try await respond { () throws(MediaError) in try await gridPage(request) }
        }
        router.get("/assets/:id") { request, context in
            try await respond { () throws(MediaError) in
                guard let id = assetId(context) else { throw MediaError(.assetNotFound, "no asset has that id") }
                return try await assetPage(id, request: request)
            }
        }
        router.get("/stats") { request, context in
            try await respond { () throws(MediaError) in try await statsPage(request) }
        }
        addLogin(to: router)
    }

    /// The asset id of `/assets/:id`: digits only, so `../x` or `1;drop` is no id (404).
    func assetId(_ context: BasicRequestContext) -> Int64? {
        guard let text = context.parameters.get("id"), text.allSatisfy({ $0.isASCII && $0.isNumber }), let id = Int64(text), id > 0
        else { return nil }
        return id
    }

    /// A page, or the error as a page with its status.
    func respond(_ body: () async throws(MediaError) -> Response) async throws -> Response {
        do {
            return try await body()
        } catch {
            if httpStatus(for: error) == .internalServerError || httpStatus(for: error) == .serviceUnavailable {
                logger.error("request failed: \(error.message)", metadata: ["code": "\(error.code)"])
            }
            return html(
                PageFrame.render(
                    title: "error", signedIn: false, writesEnabled: access.writesEnabled,
                    body: "<h1>\(httpStatus(for: error).code)</h1><p class=\"error\">\(HTML.escape(error.message))</p>"),
                status: httpStatus(for: error))
        }
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy:
                    "default-src 'self'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func signedIn(_ request: Request) -> Bool {
        access.isAuthenticated(authorization: nil, session: request.cookies[AccessPolicy.sessionCookie]?.value)
    }

    // MARK: the grid

    func gridPage(_ request: Request) async throws(MediaError) -> Response {
        let started = ContinuousClock.now
        let query = try GridQuery(FormFields(request.uri.query ?? ""))
        var body = searchForm(query)
        if query.tags != nil {
            let (results, fellBack) = try await search(query)
            let shown = Array(results.dropFirst((query.page - 1) * GridQuery.pageSize).prefix(GridQuery.pageSize))
            body +=
                "<p>\(shown.isEmpty ? "nothing matches" : "results \((query.page - 1) * GridQuery.pageSize + 1)–\((query.page - 1) * GridQuery.pageSize + shown.count)")"
            body += fellBack ? " · exact tags fell short: related tags count too" : ""
            body += "</p><div class=\"grid\" id=\"results\">"
            for result in shown { body += cell(result) }
            body += "</div>"
            if results.count == query.page * GridQuery.pageSize && query.page < GridQuery.maximumPage {
                body +=
                    "<p class=\"pager\"><a rel=\"next\" href=\"/?\(HTML.escape(HTML.query(query.fields(page: query.page + 1))))\">next page</a></p>"
            }
        } else {
            let browse = query.browseRequest
            let assets = try await withConnection("cannot list the assets") { connection in
                try await AssetRepository(connection: connection, logger: logger).browse(browse)
            }
            body +=
                "<p>\(assets.isEmpty ? "no assets here" : "\(assets.count) assets, newest first")</p><div class=\"grid\" id=\"results\">"
            for asset in assets { body += cell(asset) }
            body += "</div>"
            if assets.count == GridQuery.pageSize, let last = assets.last {
                body +=
                    "<p class=\"pager\"><a rel=\"next\" href=\"/?\(HTML.escape(HTML.query(query.fields(before: last.id))))\">older</a></p>"
            }
        }
        let elapsed = ContinuousClock.now - started
        var response = html(
            PageFrame.render(title: query.tags ?? "library", signedIn: signedIn(request), writesEnabled: access.writesEnabled, body: body))
        response.headers[HTTPField.Name("Server-Timing")!] =
            "db;dur=\(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000))"
        return response
    }

    /// Both kinds when no kind is chosen, merged best first (the scores are comparable: the
    /// same formula and query).
    func search(_ query: GridQuery) async throws(MediaError) -> (results: [ScoredAsset], fellBack: Bool) {
        let kinds: [MediaFormat.Kind] = query.kind.map { [$0] } ?? [.video, .image]
        var results: [ScoredAsset] = []
        var fellBack = false
        for kind in kinds {
            guard let request = try query.searchRequest(kind: kind) else { continue }
            let exact = query.exact
            let root = root
            let outcome = try await withConnection("cannot search") { connection in
                try await SearchRepository(connection: connection, logger: logger, root: root)
                    .search(request, fallingBackBelow: exact ? 0 : request.limit)
            }
            results += outcome.results
            fellBack = fellBack || outcome.fellBack
        }
        if kinds.count > 1 {
            results.sort { ($0.score, $0.width * $0.height, -$0.id) > ($1.score, $1.width * $1.height, -$1.id) }
            results = Array(results.prefix(query.page * GridQuery.pageSize))
        }
        return (results, fellBack)
    }

    func searchForm(_ query: GridQuery) -> String {
        func option(_ value: String, _ label: String, selected: Bool) -> String {
            "<option value=\"\(value)\"\(selected ? " selected" : "")>\(label)</option>"
        }
        func field(_ name: String, _ label: String, _ value: String?, size: Int = 6, placeholder: String = "") -> String {
            "<label>\(label)<input name=\"\(name)\" size=\"\(size)\" value=\"\(HTML.escape(value ?? ""))\" placeholder=\"\(placeholder)\"></label>"
        }
        var form = "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">"
        form += field("q", "tags", query.tags, size: 28, placeholder: "beach, sunset")
        form += "<label>kind<select name=\"kind\">" + option("all", "all", selected: query.kind == nil)
        form += option("videos", "videos", selected: query.kind == .video) + option("images", "images", selected: query.kind == .image)
        form += "</select></label>"
        form += field("provider", "provider", query.provider, size: 8)
        form += field("min-width", "min width", query.minWidth > 0 ? String(query.minWidth) : nil)
        form += field("min-height", "min height", query.minHeight > 0 ? String(query.minHeight) : nil)
        form += field("min-duration", "min seconds", query.minDurationSeconds.map { String($0) })
        form += field("aspect", "aspect", query.aspect, size: 5, placeholder: "9:16")
        form += "<label>listing<select name=\"listing\">"
        for listing in BrowseRequest.Listing.allCases {
            form += option(listing.rawValue, listing.rawValue, selected: query.listing == listing)
        }
        form += "</select></label>"
        form += "<label>exact<input type=\"checkbox\" name=\"exact\"\(query.exact ? " checked" : "")></label>"
        form += "<button type=\"submit\">search</button></form>"
        return form
    }

    func thumbnail(_ id: Int64, _ present: Bool) -> String {
        present
            ? "<img src=\"/assets/\(id)/thumbnail\" loading=\"lazy\" width=\"200\" height=\"200\" alt=\"asset \(id)\">"
            : "<div class=\"nothumb\">no thumbnail</div>"
    }

    func cell(_ asset: BrowsedAsset) -> String {
        var meta = "#\(asset.id) · \(asset.width)×\(asset.height)"
        if let duration = asset.durationMs { meta += " · " + HTML.duration(duration) }
        meta += " · " + HTML.bytes(asset.bytes)
        if let provider = asset.provider { meta += " · " + HTML.escape(provider) }
        if asset.rating > 0 { meta += " · " + String(repeating: "★", count: asset.rating) }
        if asset.hidden { meta += " · hidden" }
        if asset.state != "present" { meta += " · " + HTML.escape(asset.state) }
        return
            "<div class=\"cell\" data-id=\"\(asset.id)\"><a href=\"/assets/\(asset.id)\">\(thumbnail(asset.id, asset.hasThumbnail))</a><div class=\"meta\">\(meta)</div></div>"
    }

    func cell(_ result: ScoredAsset) -> String {
        let parts = result.scoreParts
        var meta = "#\(result.id) · \(result.width)×\(result.height)"
        if let duration = result.durationMs { meta += " · " + HTML.duration(duration) }
        if let provider = result.provider { meta += " · " + HTML.escape(provider) }
        var text = "<div class=\"meta\">\(meta)<br><b>score \(HTML.number(result.score))</b>"
        text +=
            "<div class=\"parts\">tagAnd \(HTML.number(parts.tagAnd)) · tagOr \(HTML.number(parts.tagOr)) · recency \(HTML.number(parts.recency))×\(HTML.number(parts.recencyBoost)) · aspectFit \(HTML.number(parts.aspectFit)) · tags \(parts.matchedTags)/\(parts.queryTags)"
        if parts.rating > 0 { text += " · rating \(parts.rating)" }
        text += "</div>"
        let via = result.matchedVia.map { match in
            match.relation == "exact"
                ? (match.tag == match.queryTag ? HTML.escape(match.tag) : "\(HTML.escape(match.queryTag))→\(HTML.escape(match.tag))")
                : "\(HTML.escape(match.queryTag))→\(HTML.escape(match.tag)) (\(HTML.escape(match.relation)))"
        }
        if !via.isEmpty { text += "<div class=\"via\">matched via " + via.joined(separator: ", ") + "</div>" }
        text += "</div>"
        return
            "<div class=\"cell\" data-id=\"\(result.id)\"><a href=\"/assets/\(result.id)\">\(thumbnail(result.id, result.thumbPath != nil))</a>\(text)</div>"
    }
}
