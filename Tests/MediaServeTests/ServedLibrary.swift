import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MediaCore
import MediaServe
import MediaTestHarness
import NIOCore
import PostgresNIO
import Testing

/// A library made through `mediaq` (as a user would) and served in-process by `LibraryServer`,
/// with Hummingbird's router test client: real PostgreSQL, real files, no socket.
final class ServedLibrary: @unchecked Sendable {
    let folder: TemporaryFolder
    let root: String
    let url: DatabaseURL
    /// The assets made by `seed`: a landscape beach image, a portrait beach video, a forest image.
    let beachImage: Int64
    let beachVideo: Int64
    let forestImage: Int64

    static let token = "correct-horse-battery-staple"

    private init(url: DatabaseURL) async throws {
        let folder = try TemporaryFolder()
        self.folder = folder
        root = folder.path + "/library"
        self.url = url
        let common = ["--library-root", root, "--database-url", url.urlString]
        // Child processes are waited for on a thread of their own, not the cooperative pool.
        let samples = folder.path
        let ids = try await onOwnThread { () throws -> [Int64] in
            let made = try Executables.mediaq(["db", "migrate"] + common)
            guard made.status == 0 else { throw Failure(made.transcript) }
            var ids: [Int64] = []
            for (name, tags, provider, size, video) in [
                ("beach.png", "beach, sunset", "pexels", "640x360", false),
                ("tall.mp4", "beaches", "pixabay", "360x640", true),
                ("woods.png", "forest", "unsplash", "400x400", false),
            ] {
                let file = samples + "/" + name
                if video {
                    try SampleMedia.video(file, seconds: 2, size: size, extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
                } else {
                    try SampleMedia.make([SampleMedia.convert, "-size", size, "xc:red", file])
                }
                let outcome = try Executables.mediaq(
                    [
                        "ingest", file, "--tags", tags, "--provider", provider, "--source-url", "https://\(provider).example/\(name)",
                        "--json",
                    ]
                        + common)
                guard outcome.status == 0,
                    let object = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any],
                    let files = object["files"] as? [[String: Any]], let id = files.first?["id"] as? Int
                else { throw Failure(outcome.transcript) }
                ids.append(Int64(id))
            }
            return ids
        }
        (beachImage, beachVideo, forestImage) = (ids[0], ids[1], ids[2])
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ text: String) { description = text }
    }

    /// Runs `body` with a client of a server over a fresh library.
    static func with(
        token: String? = ServedLibrary.token, loopbackOnly: Bool = true, setup: TestingSetup = .router,
        _ body: @escaping @Sendable (ServedLibrary, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestDatabase.withFresh(connections: 6) { url in
            let library = try await ServedLibrary(url: url)
            defer { library.folder.remove() }
            let configuration = LibraryConfiguration(libraryRoot: library.root, databaseURL: url)
            // Not the commands' 4 s answer: beside the whole suite, the test cluster can be slower.
            let (opened, connection) = try await LibraryOpener(configuration: configuration, logger: testLogger, mode: .reader)
                .openExisting(within: 60)
            try await connection.close()
            let pool = try ConnectionPool(
                connector: DatabaseConnector(url: url, logger: testLogger), maximumConnections: 2, logger: testLogger)
            let server = LibraryServer(
                library: opened, pool: pool, access: AccessPolicy(token: token, loopbackOnly: loopbackOnly), logger: testLogger)
            try await server.application(host: "127.0.0.1", port: 0, services: [pool]).test(setup) { client in
                try await body(library, client)
            }
        }
    }

    /// One number from the database.
    func count(_ sql: String) async throws -> Int64 {
        let connection = try await TestDatabase.connect(url)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        for try await value in rows.decode(Int64.self) { return value }
        return -1
    }

    /// What a curation may change, to show that a refused request changed nothing.
    func fingerprint() async throws -> [Int64] {
        [
            try await count("SELECT count(*) FROM asset WHERE state = 'present'"),
            try await count("SELECT count(*) FROM asset WHERE hidden"),
            try await count("SELECT count(*) FROM asset_tag"),
            try await count("SELECT coalesce(sum(rating), 0)::int8 FROM asset"),
            try await count("SELECT count(*) FROM blocked"),
        ]
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var data: Data { Data(body.readableBytesView) }
}
