import Foundation

/// A PostgreSQL connection URL, read the way libpq reads one, limited to what the library needs:
///
///     postgres[ql]://[user[:password]@][host][:port][/database][?param=value&...]
///
/// - An empty host, or a `host` query parameter that starts with `/`, means a unix socket in that
///   directory (`/var/run/postgresql` when empty, as libpq on Debian).
/// - Parameters: `host`, `port`, `user`, `password`, `dbname`, `sslmode`
///   (`disable`, `prefer`, `require`; default `prefer` over TCP, none on a socket),
///   `connect_timeout` (seconds).
/// - User defaults to the operating-system user; database defaults to the user.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself, `<directory>/.s.PGSQL.<port>`.
        case unixSocket(path: String)
    }

    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    public var connectTimeoutSeconds: Double?

    public init(
        endpoint: Endpoint, user: String, password: String? = nil, database: String,
        tlsMode: TLSMode = .disable, connectTimeoutSeconds: Double? = nil
    ) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// The URL with its password replaced, safe to print and log.
    public var description: String { render(password: password == nil ? nil : "***") }

    /// The full URL, password included: for handing to another process, never for printing.
    public var urlString: String { render(password: password) }

    /// Parses `text`; `defaultUser` stands in for libpq's use of the login name.
    public static func parse(_ text: String, defaultUser: String) throws(MediaError) -> DatabaseURL {
        func invalid(_ why: String) -> MediaError {
            MediaError(.invalidConfiguration, "DATABASE_URL is not a valid PostgreSQL URL: \(why)")
        }
        guard let schemeEnd = text.range(of: "://") else {
            throw invalid("it must start with postgres:// or postgresql://")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("unknown scheme '\(scheme)'; use postgres:// or postgresql://")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var pathPart: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            pathPart = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try decode(credentials[..<colon], invalid)
                password = try decode(credentials[credentials.index(after: colon)...], invalid)
            } else {
                user = try decode(credentials, invalid)
            }
        }
        var host: String
        var port: Int?
        if rest.hasPrefix("[") {  // [ipv6]:port
            guard let close = rest.firstIndex(of: "]") else { throw invalid("unclosed '[' in host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { port = try parsePort(after.dropFirst(), invalid) }
        } else if let colon = rest.lastIndex(of: ":") {
            host = try decode(rest[..<colon], invalid)
            port = try parsePort(rest[rest.index(after: colon)...], invalid)
        } else {
            host = try decode(rest, invalid)
        }
        var database = pathPart.isEmpty ? nil : try decode(pathPart, invalid)
        var tlsMode: TLSMode?
        var timeout: Double?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0], invalid)
            let value = parts.count > 1 ? try decode(parts[1], invalid) : ""
            switch key {
            case "host": host = value
            case "port": port = try parsePort(Substring(value), invalid)
            case "user": user = value
            case "password": password = value
            case "dbname": database = value
            case "sslmode":
                switch value {
                case "disable", "allow": tlsMode = .disable
                case "prefer": tlsMode = .prefer
                case "require", "verify-ca", "verify-full": tlsMode = .require
                default: throw invalid("unknown sslmode '\(value)'")
                }
            case "connect_timeout":
                guard let seconds = Double(value), seconds > 0 else {
                    throw invalid("connect_timeout must be a positive number of seconds")
                }
                timeout = seconds
            case "application_name", "options", "target_session_attrs":
                continue  // understood by libpq, harmless to ignore here
            default:
                throw invalid("unsupported parameter '\(key)'")
            }
        }
        let resolvedPort = port ?? 5432
        let endpoint: Endpoint
        if host.isEmpty || host.hasPrefix("/") {
            let directory = host.isEmpty ? "/var/run/postgresql" : host
            endpoint = .unixSocket(path: "\(directory)/.s.PGSQL.\(resolvedPort)")
        } else {
            endpoint = .tcp(host: host, port: resolvedPort)
        }
        let resolvedUser = (user?.isEmpty == false ? user : nil) ?? defaultUser
        let defaultTLS: TLSMode = { if case .tcp = endpoint { return .prefer } else { return .disable } }()
        return DatabaseURL(
            endpoint: endpoint, user: resolvedUser, password: password,
            database: (database?.isEmpty == false ? database : nil) ?? resolvedUser,
            tlsMode: tlsMode ?? defaultTLS, connectTimeoutSeconds: timeout)
    }

    private static func decode(
        _ text: Substring, _ invalid: (String) -> MediaError
    ) throws(MediaError) -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw invalid("bad percent-encoding in '\(text)'")
        }
        return decoded
    }

    private static func parsePort(
        _ text: Substring, _ invalid: (String) -> MediaError
    ) throws(MediaError) -> Int? {
        if text.isEmpty { return nil }
        guard let port = Int(text), (1...65535).contains(port) else {
            throw invalid("port '\(text)' is not a number from 1 to 65535")
        }
        return port
    }

    private func render(password: String?) -> String {
        func encode(_ text: String) -> String {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
        }
        var credentials = encode(user)
        if let password { credentials += ":" + (password == "***" ? password : encode(password)) }
        var parameters: [String] = []
        let authority: String
        switch endpoint {
        case .tcp(let host, let port):
            authority = (host.contains(":") ? "[\(host)]" : encode(host)) + ":\(port)"
        case .unixSocket(let path):
            authority = ""
            let directory = (path as NSString).deletingLastPathComponent
            let port = path.split(separator: ".").last.flatMap { Int($0) } ?? 5432
            parameters.append("host=\(encode(directory))")
            if port != 5432 { parameters.append("port=\(port)") }
        }
        parameters.append("sslmode=\(tlsMode.rawValue)")
        if let connectTimeoutSeconds {
            parameters.append("connect_timeout=\(connectTimeoutSeconds)")
        }
        return "postgres://\(credentials)@\(authority)/\(encode(database))?"
            + parameters.joined(separator: "&")
    }
}
