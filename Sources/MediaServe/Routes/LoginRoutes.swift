import Hummingbird
import MediaCore
import NIOCore

extension LibraryServer {
    /// `/login`: the token typed once; a session cookie (HttpOnly, SameSite=Strict) afterwards.
    func addLogin(to router: Router<BasicRequestContext>) {
        router.get("/login") { request, context in
            let next = safeNext(FormFields(request.uri.query ?? "")["next"])
            var body = "<h1>sign in</h1>"
            if !access.writesEnabled {
                body += "<p>This server was started without a token: it takes no writes.</p>"
            } else {
                body +=
                    "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"\(HTML.escape(next))\">"
                    + "<label>token <input type=\"password\" name=\"token\" autocomplete=\"current-password\"></label> "
                    + "<button type=\"submit\">sign in</button></form>"
            }
            return html(PageFrame.render(title: "sign in", signedIn: false, writesEnabled: access.writesEnabled, body: body))
        }
        router.post("/login") { request, context in
            let fields = try await form(request)
            guard let token = fields["token"], access.accepts(token: token), let session = access.newSession() else {
                return html(
                    PageFrame.render(
                        title: "sign in", signedIn: false, writesEnabled: access.writesEnabled,
                        body: "<p class=\"error\">wrong token</p><p><a href=\"/login\">again</a></p>"), status: .unauthorized)
            }
            var response = Response(status: .seeOther, headers: [.location: safeNext(fields["next"])])
            response.setCookie(
                Cookie(
                    name: AccessPolicy.sessionCookie, value: session, maxAge: 7 * 24 * 3600, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
    }

    /// Where to go after signing in: a path on this server only (`//host` or `https://…` is not).
    func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains("..") else { return "/" }
        return next
    }

    /// A POST's form fields (at most 64 KB).
    func form(_ request: Request) async throws -> FormFields {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        return FormFields(String(buffer: buffer))
    }
}
