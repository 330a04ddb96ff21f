import Crypto
public import Foundation

/// Who may do what (docs/serve.md, "Safety"): on a loopback address anyone on this machine may
/// read; anything else, and every write (every POST), needs the token. A browser proves it once
/// at `/login` and then carries a session cookie (HttpOnly, SameSite=Strict) signed with a key
/// derived from the token; each form carries a CSRF token bound to that session. Programs send
/// `Authorization: Bearer TOKEN` instead and need no cookie.
///
/// Stateless: a session is a random id and its HMAC, so a restart with the same token keeps
/// sessions and a new token ends them all.
public struct AccessPolicy: Sendable {
    /// The name of the session cookie.
    public static let sessionCookie = "mediaq_session"
    /// The shortest token accepted: a guessable token on a network address is no protection.
    public static let minimumTokenLength = 16

    public let token: String?
    /// The server listens on a loopback address only: reads need no token.
    public let loopbackOnly: Bool
    private let key: SymmetricKey?

    public init(token: String?, loopbackOnly: Bool) {
        let token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.token = token
        self.loopbackOnly = loopbackOnly
        self.key = token.map { SymmetricKey(data: SHA256.hash(data: Data(("mediaq-serve session key\0" + $0).utf8))) }
    }

    /// Writes are possible at all: a token is configured.
    public var writesEnabled: Bool { token != nil }

    /// The request proves the token: a bearer header with it, or a session cookie signed with it.
    public func isAuthenticated(authorization: String?, session: String?) -> Bool {
        guard let token else { return false }
        if let authorization, authorization.hasPrefix("Bearer ") {
            return Self.constantTimeEquals(String(authorization.dropFirst("Bearer ".count)), token)
        }
        if let session { return isValidSession(session) }
        return false
    }

    /// The token as typed at `/login`.
    public func accepts(token candidate: String) -> Bool {
        guard let token else { return false }
        return Self.constantTimeEquals(candidate, token)
    }

    /// A new session cookie value: a random id and its signature.
    public func newSession() -> String? {
        guard key != nil else { return nil }
        let id = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return id + "." + sign("session:" + id)
    }

    public func isValidSession(_ value: String) -> Bool {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 32, key != nil else { return false }
        return Self.constantTimeEquals(String(parts[1]), sign("session:" + parts[0]))
    }

    /// The CSRF token that forms of `session` carry.
    public func csrfToken(session: String) -> String {
        sign("csrf:" + session)
    }

    public func isValidCSRF(_ candidate: String?, session: String?) -> Bool {
        guard let candidate, let session, isValidSession(session) else { return false }
        return Self.constantTimeEquals(candidate, csrfToken(session: session))
    }

    private func sign(_ text: String) -> String {
        guard let key else { return "" }
        return HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares without stopping at the first difference, so the time taken says nothing of
    /// how much of a guess was right.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }

    /// A browser's `Origin` (or, without one, `Referer`) names this server: a form posted
    /// from another site is refused even before its CSRF token is checked. Programs that send
    /// neither are judged by their token alone.
    public static func isSameOrigin(origin: String?, referer: String?, host: String?) -> Bool {
        guard let source = origin ?? referer else { return true }
        guard let host, !host.isEmpty, source != "null" else { return false }
        for scheme in ["http://", "https://"] {
            let expected = scheme + host
            if source == expected || source.hasPrefix(expected + "/") { return true }
        }
        return false
    }

    /// Whether `host` (as given to --listen) is a loopback address.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
