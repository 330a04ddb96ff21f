import Hummingbird

/// The rules of `AccessPolicy` applied before any route: methods other than GET, HEAD and POST
/// are refused (405); off loopback nothing but `/login` answers without the token; a POST needs
/// the token (bearer or session) and, from a browser, this server as its origin. The CSRF token
/// of a form is checked where the form is read (`CurationRoutes`).
struct AccessMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let access: AccessPolicy

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard [.get, .head, .post].contains(request.method) else {
            return plain(.methodNotAllowed, "\(request.method) is not served here: GET pages and files, POST forms")
        }
        let path = request.uri.path
        let isLogin = path == "/login"
        let authenticated = access.isAuthenticated(
            authorization: request.headers[.authorization], session: request.cookies[AccessPolicy.sessionCookie]?.value)
        if !access.loopbackOnly && !isLogin && !authenticated {
            if request.method == .get && !path.hasPrefix("/api/") && !path.hasPrefix("/assets/") {
                return Response(status: .seeOther, headers: [.location: "/login"])
            }
            return plain(.unauthorized, "this server needs its token: Authorization: Bearer TOKEN, or sign in at /login")
        }
        if request.method == .post {
            guard
                AccessPolicy.isSameOrigin(
                    origin: request.headers[.origin], referer: request.headers[.referer], host: request.head.authority)
            else {
                return plain(.forbidden, "a form from another site is refused")
            }
            if !isLogin {
                guard access.writesEnabled else {
                    return plain(.forbidden, "this server takes no writes: start it with --token-file or MEDIAQ_SERVE_TOKEN")
                }
                guard authenticated else { return plain(.unauthorized, "a write needs the token: sign in at /login") }
            }
        }
        return try await next(request, context)
    }
}
