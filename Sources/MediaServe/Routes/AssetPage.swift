import Foundation
import Hummingbird
import MediaCore
import NIOCore
import PostgresNIO

extension LibraryServer {
    /// One asset: the original (an image, or a video the browser scrubs through Range
    /// requests), its facts, tags, sources, use and pins, thumbnail state and the curation forms.
    func assetPage(_ id: Int64, request: Request) async throws(MediaError) -> Response {
        let (details, pins) = try await withConnection("cannot read asset \(id)") { connection in
            let details = try await AssetRepository(connection: connection, logger: logger).details(idOrSHA256: String(id))
            let pins = try await UsageRepository(connection: connection, logger: logger).livePins().filter { $0.assets.contains(id) }
            return (details, pins)
        }
        guard let asset = details, asset.state != "deleting" else { throw MediaError(.assetNotFound, "no asset has id \(id)") }
        var body = "<h1>#\(asset.id) · \(HTML.escape(asset.kind))</h1><div class=\"original\">"
        if asset.state != "present" {
            body += "<p class=\"error\">the original is \(HTML.escape(asset.state))</p>"
        } else if asset.kind == "video" {
            body +=
                "<video controls preload=\"metadata\" width=\"\(asset.width)\" height=\"\(asset.height)\" poster=\"/assets/\(id)/thumbnail\" src=\"/assets/\(id)/original\"></video>"
        } else {
            body += "<img src=\"/assets/\(id)/original\" width=\"\(asset.width)\" height=\"\(asset.height)\" alt=\"asset \(id)\">"
        }
        body += "</div><table class=\"facts\">"
        func row(_ name: String, _ value: String) { body += "<tr><th>\(name)</th><td>\(value)</td></tr>" }
        row("size", "\(asset.width)×\(asset.height) · \(HTML.bytes(asset.bytes)) · \(HTML.escape(asset.mimeType))")
        if let duration = asset.durationMs { row("duration", HTML.duration(duration)) }
        let codecs = [asset.videoCodec, asset.audioCodec].compactMap { $0 }
        if !codecs.isEmpty { row("codecs", HTML.escape(codecs.joined(separator: " + "))) }
        if let fps = asset.fps { row("frame rate", String(format: "%.2f fps", fps)) }
        row("sha256", "<code>\(HTML.escape(asset.sha256))</code>")
        row("state", HTML.escape(asset.state) + (asset.hidden ? " · hidden" : ""))
        row("rating", asset.rating == 0 ? "not rated" : String(repeating: "★", count: asset.rating))
        row("added", HTML.date(asset.createdAt))
        row("used", "\(asset.useCount) times, last \(HTML.date(asset.lastUsedAt))")
        row(
            "pins",
            pins.isEmpty
                ? "none" : pins.map { "\(HTML.escape($0.runId)) until \(HTML.date($0.expiresUntil))" }.joined(separator: "<br>"))
        let thumbnail = asset.thumbnail.map { "\($0.status)" + ($0.reason.map { ": " + $0 } ?? "") } ?? "none"
        row("thumbnail", HTML.escape(thumbnail))
        if let name = asset.originalName { row("original name", HTML.escape(name)) }
        body += "</table><h2>tags</h2><p class=\"tags\">"
        body += asset.tags.map { "<a href=\"/?\(HTML.escape(HTML.query([("q", $0)])))\"><span>\(HTML.escape($0))</span></a>" }.joined()
        body += "</p><h2>sources</h2><ul>"
        for source in asset.sources {
            body += "<li>\(HTML.escape(source.provider))"
            if let providerId = source.providerId { body += " #\(HTML.escape(providerId))" }
            body += " · \(HTML.externalLink(source.sourceUrl)) · first seen \(HTML.date(source.firstSeenAt))"
            if let keywords = source.fileKeywords { body += " · file keywords: \(HTML.escape(keywords.joined(separator: ", ")))" }
            body += "</li>"
        }
        body += "</ul>"
        body += curationForms(asset, request: request)
        return html(
            PageFrame.render(title: "#\(id)", signedIn: signedIn(request), writesEnabled: access.writesEnabled, body: body))
    }

    func curationForms(_ asset: AssetDetails, request: Request) -> String {
        guard access.writesEnabled else { return "<p>curation needs a token: <code>mediaq serve --token-file</code></p>" }
        guard let session = request.cookies[AccessPolicy.sessionCookie]?.value, access.isValidSession(session) else {
            return "<p><a href=\"/login?next=/assets/\(asset.id)\">sign in</a> to tag, hide, rate or remove</p>"
        }
        let csrf = "<input type=\"hidden\" name=\"csrf\" value=\"\(access.csrfToken(session: session))\">"
        func form(_ action: String, _ inner: String, _ button: String) -> String {
            "<form method=\"post\" action=\"/assets/\(asset.id)/\(action)\">\(csrf)\(inner)<button type=\"submit\">\(button)</button></form>"
        }
        var out = "<h2>curate</h2><div class=\"curation\">"
        out += form(
            "tags",
            "<input name=\"add\" placeholder=\"add tags\" size=\"14\"><input name=\"remove\" placeholder=\"remove tags\" size=\"14\">",
            "retag")
        out += asset.hidden ? form("unhide", "", "unhide") : form("hide", "", "hide")
        var stars = "<select name=\"stars\">"
        for value in 0...Scoring.maximumRating {
            stars += "<option value=\"\(value)\"\(value == asset.rating ? " selected" : "")>\(value)</option>"
        }
        out += form("rate", stars + "</select>", "rate")
        out += form("rm", "<label><input type=\"checkbox\" name=\"force\"> even if pinned</label>", "remove")
        out += form("block", "<label><input type=\"checkbox\" name=\"force\"> even if pinned</label>", "block")
        return out + "</div>"
    }
}
