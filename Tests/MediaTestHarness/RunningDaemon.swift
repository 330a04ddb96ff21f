package import Foundation
package import MediaCore
import MediaDaemon
package import PostgresNIO
package import MediaTestSupport
package import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `mediad` child process with a notify socket of its own.
package final class RunningDaemon {
    package let process: ChildProcess
    package let notify: NotifyReceiver

    /// Drop workers of a test's `mediad` unless its arguments say otherwise: the default (the
    /// number of cores) would make its connections, and so the tests' need, grow with the machine.
    package static let defaultWorkers = 2
    /// What a test database admits when its test runs `mediad`: the daemon's connections, the
    /// test's own and one `mediaq` process.
    package static let testDatabaseConnections = LibraryConfiguration.daemonConnections(workers: defaultWorkers) + 2

    package init(folder: String, arguments: [String], environment: [String: String] = [:], socketName: String = "notify") throws {
        notify = try NotifyReceiver(path: folder + "/\(socketName).sock")
        var extra = environment
        extra["NOTIFY_SOCKET"] = notify.path
        let workers = arguments.contains("--workers") ? [] : ["--workers", "\(Self.defaultWorkers)"]
        process = try ChildProcess.spawn(
            [Executables.path("mediad")] + arguments + workers, environment: Executables.cleanEnvironment(extra))
    }

    package var pid: Int32 { process.pid }

    /// Waits for READY=1; on failure kills the daemon and records its transcript.
    package func waitReady(timeout: Double = 90) -> Bool {
        if notify.receive(until: { $0.contains("READY=1") }, timeout: timeout) != nil { return true }
        process.signal(SIGKILL)
        Issue.record("no READY=1 within \(timeout) s: \(process.wait().transcript)")
        notify.close()
        return false
    }

    /// SIGTERM, STOPPING=1, then the exit; the socket is closed.
    package func stop() -> ChildProcess.Outcome {
        process.signal(SIGTERM)
        let stopping = notify.receive(until: { $0.contains("STOPPING=1") }, timeout: 60)
        let outcome = process.wait()
        notify.close()
        #expect(stopping != nil, "STOPPING=1 after SIGTERM: \(outcome.transcript)")
        return outcome
    }

    /// SIGKILL, as a crash or `kill -9` would, then waits for its decoder workers to go too
    /// (systemd kills a unit's whole cgroup; here the workers notice they are orphaned).
    package func kill() -> ChildProcess.Outcome {
        let workers = ProcessTable.children(of: pid)
        process.signal(SIGKILL)
        let outcome = process.wait()
        notify.close()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, workers.contains(where: { Glibc.kill($0, 0) == 0 }) { usleep(50_000) }
        return outcome
    }
}

/// Drops for the daemon tests.
package enum Drops {
    /// `count` distinct small PNGs (one picture, each with its own text chunk), written to a
    /// staging folder and renamed into `folder`, as a downloader that writes aside would.
    package static func pngs(_ count: Int, into folder: String, prefix: String, staging: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let base = try basePNG(staging)
        var names: [String] = []
        for index in 0..<count {
            let name = "\(prefix)-\(index).png"
            let bytes = DistinctPNG.make(from: base, text: "\(prefix) \(index) \(UUID().uuidString)")
            try Data(bytes).write(to: URL(fileURLWithPath: staging + "/" + name))
            guard rename(staging + "/" + name, folder + "/" + name) == 0 else {
                throw ChildProcess.Failure(description: "rename into \(folder) failed")
            }
            names.append(name)
        }
        return names
    }

    private static func basePNG(_ staging: String) throws -> [UInt8] {
        let path = staging + "/base-\(UUID().uuidString.prefix(6)).png"
        try SampleMedia.make([SampleMedia.convert, "-size", "48x32", "gradient:blue-yellow", path])
        defer { unlink(path) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    package static func receipt(_ drop: String, _ name: String) -> String { drop + "/.receipts/" + name + ".json" }

    package static func receiptCount(_ drop: String, _ names: [String]) -> Int {
        names.filter { FileManager.default.fileExists(atPath: receipt(drop, $0)) }.count
    }

    /// Polls `condition` every 100 ms until it holds or `seconds` pass.
    package static func waitUntil(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }
}

/// The library's files and rows agree: every row's files exist, every file has its row, no
/// temporary file or unfinished intent is left.
package enum LibraryConsistency {
    package static func problems(root: String, url: DatabaseURL) async throws -> [String] {
        let connection = try await TestDatabase.connect(url)
        var expected: Set<String> = []
        // Metadata files a crash may have left behind their rows: written later, so either way is fine.
        var mayLack: Set<String> = []
        var problems: [String] = []
        do {
            let rows = try await connection.query(
                """
                SELECT a.path, t.path, a.kind::text, a.sha256, a.state::text,
                       EXISTS (SELECT 1 FROM asset_metadata_pending p WHERE p.asset_id = a.id)
                FROM asset a LEFT JOIN thumbnail t ON t.asset_id = a.id
                """, logger: testLogger)
            for try await (original, thumbnail, kind, sha256, state, pending)
                in rows.decode((String, String?, String, String, String, Bool).self)
            {
                if state != "lost" { expected.insert(original) }
                if let thumbnail { expected.insert(thumbnail) }
                let metadata = AssetMetadata.path(sha256: sha256, kind: MediaFormat.Kind(rawValue: kind) ?? .image)
                expected.insert(metadata)
                if pending { mayLack.insert(metadata) }
            }
            let intents = try await connection.query("SELECT path FROM file_intent", logger: testLogger)
            for try await path in intents.decode(String.self) { problems.append("unfinished intent \(path)") }
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        var present: Set<String> = []
        for folder in ["images", "videos"] {
            guard let walker = FileManager.default.enumerator(atPath: root + "/" + folder) else { continue }
            for case let relative as String in walker {
                var info = stat()
                if stat(root + "/" + folder + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
                    present.insert(folder + "/" + relative)
                }
            }
        }
        present.formUnion(mayLack)
        problems += expected.subtracting(present).sorted().map { "row without its file: \($0)" }
        problems += present.subtracting(expected).sorted().map { "file without a row: \($0)" }
        let temporaries = (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + ContentStore.temporaryFolder)) ?? []
        problems += temporaries.map { "temporary file left: \($0)" }
        return problems
    }

    package static func expectConsistent(root: String, url: DatabaseURL, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let found = try await problems(root: root, url: url)
        #expect(found == [], "\(found)", sourceLocation: sourceLocation)
    }

    package static func assetCount(_ url: DatabaseURL) async throws -> Int {
        let connection = try await TestDatabase.connect(url)
        do {
            let rows = try await connection.query("SELECT count(*)::int FROM asset", logger: testLogger)
            var count = 0
            for try await value in rows.decode(Int.self) { count = value }
            try await connection.close()
            return count
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
