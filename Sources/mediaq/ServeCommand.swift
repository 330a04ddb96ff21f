import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import MediaServe
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Browse, search and curate the library in a web browser; and its JSON API.",
        discussion: """
            Serves the grid of thumbnails with search and filters (/), each asset (/assets/ID), \
            its files by id only (/assets/ID/original, /assets/ID/thumbnail, with ETag and byte \
            ranges), the library's statistics (/stats) and a JSON API that answers what \
            `mediaq search`, `show` and `plan --no-mark-used` print with --json (/api/search, \
            /api/assets/ID, POST /api/plan; described at /openapi.json). See docs/serve.md.

            Listens on 127.0.0.1:8080 unless --listen says otherwise. A token, from --token-file \
            or MEDIAQ_SERVE_TOKEN (at least 16 characters), is required to listen on any other \
            address and for every write: curation (tag, hide, unhide, rate, rm, block) is signed \
            in at /login, or sent with Authorization: Bearer TOKEN. Without a token the server \
            takes no writes. Opens the library as a reader; rm and block also need write access \
            to the library root. Runs until SIGTERM or SIGINT.

            Exit codes: 0 stopped by a signal; 1 other failure (the address is in use); 2 usage \
            (a bad --listen, no token for a non-loopback address, an unreadable or short token); \
            75 database or library root unavailable (within 5 s).
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("Address and port to listen on.", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("File holding the token (else MEDIAQ_SERVE_TOKEN).", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Database connections the server keeps at most.", valueName: "n"))
    var connections = 4

    /// `host:port`, IPv6 in brackets (`[::1]:8080`).
    static func parseListen(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), !host.isEmpty else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    func readToken() throws -> String? {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw ValidationError("--token-file \(tokenFile) cannot be read")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ProcessInfo.processInfo.environment["MEDIAQ_SERVE_TOKEN"].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func validate() throws {
        guard let (host, _) = Self.parseListen(listen) else { throw ValidationError("--listen must be host:port, e.g. 127.0.0.1:8080") }
        if !(1...64).contains(connections) { throw ValidationError("--connections must be 1 to 64") }
        let token = try readToken()
        if let token, token.count < AccessPolicy.minimumTokenLength {
            throw ValidationError("the token must be at least \(AccessPolicy.minimumTokenLength) characters")
        }
        if token == nil && !AccessPolicy.isLoopback(host) {
            throw ValidationError("listening on \(host) needs a token (--token-file or MEDIAQ_SERVE_TOKEN)")
        }
    }

    func run() async throws {
        let logger = options.makeLogger()
        guard let (host, port) = Self.parseListen(listen) else { throw ExitCode(ExitStatus.usage) }
        let token = try readToken()
        let server: LibraryServer
        let pool: ConnectionPool
        do {
            let configuration = try await options.library.load()
            let library = try await withOpenLibrary(configuration, logger: logger) { (library, _) throws(MediaError) in library }
            pool = try ConnectionPool(
                connector: DatabaseConnector(url: library.databaseURL, logger: logger), maximumConnections: connections, logger: logger)
            server = LibraryServer(
                library: library, pool: pool, access: AccessPolicy(token: token, loopbackOnly: AccessPolicy.isLoopback(host)),
                logger: logger)
        } catch {
            throw fail(error, program: "mediaq serve", json: options.json)
        }
        let application = server.application(host: host, port: port) { _, bound in
            let shown = host.contains(":") ? "[\(host)]" : host
            logger.notice("mediaq serve: listening on http://\(shown):\(bound ?? port)/")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: pool), .init(service: application)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            printError("mediaq serve: \(String(reflecting: error))")
            throw ExitCode(ExitStatus.failure)
        }
    }
}
