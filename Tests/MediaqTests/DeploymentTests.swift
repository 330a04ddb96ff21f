import Foundation
@testable import MediaCore
import MediaTestHarness
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The library deployed as docs/operations.md says: installed by scripts/install-system.sh,
/// `mediad` under its own account, gather as another Unix user in the library's group running
/// the TypeScript client of clients/typescript; and the traps of a shared deployment refused:
/// no silent second library, no schema migrated by the wrong program, no flag with two meanings.
@Suite(.serialized) struct DeploymentTests {
    static let daemonAccount = "mltest-mediad"
    static let gatherAccount = "mltest-gather"
    static let group = "mltest-media"

    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    // MARK: - No silent second library

    @Test func aCommandRunFromAnotherFolderFindsNoLibraryAndMakesNone() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // Neutralise a system-wide /etc/media-library/config.json on the machine running the tests.
        let empty = folder.path + "/empty.json"
        try "{}".write(toFile: empty, atomically: true, encoding: .utf8)
        try #require(!FileManager.default.fileExists(atPath: LibraryConfiguration.defaultMountedRoot))
        let environment = Executables.cleanEnvironment(["MEDIA_CONFIG": empty])
        for arguments in [["search", "images", "--tags", "sea"], ["stats"], ["known", "--provider", "pexels", "1"], ["ingest", empty]] {
            let outcome = try ChildProcess.run(
                [Executables.path("mediaq")] + arguments + ["--json"], workingDirectory: folder.path, environment: environment)
            #expect(outcome.status == 75, "\(arguments): \(outcome.transcript)")
            #expect(outcome.standardError.contains("\(folder.path)/cache/library"), "\(outcome.transcript)")
            #expect(outcome.standardError.contains("the default"), "says where the path came from: \(outcome.transcript)")
            #expect(outcome.standardOutput.contains("\"library_root_missing\""), "\(outcome.transcript)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/cache"), "no library was made")
    }

    // MARK: - Schema skew

    @Test func aSchemaOfAnotherVersionIsRefusedNotMigrated() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            try library.ingestPNGs(1)
            let latest = Migration.bundled.last!
            // An older schema: the newest migration is not recorded (as after installing a newer
            // mediaq beside a mediad that has not restarted).
            try await library.execute("DELETE FROM schema_migration WHERE version = \(latest.version)")
            for arguments in [["search", "images", "--tags", "beach"], ["ingest", library.folder + "/nothing.png"], ["gc", "--dry-run"]] {
                let older = try library.mediaq(arguments + ["--json"])
                #expect(older.status == 75, "\(arguments): \(older.transcript)")
                #expect(older.standardOutput.contains("\"schema_not_current\""), "\(older.transcript)")
                #expect(older.standardError.contains(latest.fileName) && older.standardError.contains("mediad"), "\(older.transcript)")
            }
            #expect(
                try await library.integers("SELECT count(*) FROM schema_migration WHERE version = \(latest.version)") == [0],
                "nothing was migrated")
            // mediaq db migrate (or mediad) is the one that migrates; here it only records the
            // version again, since the objects are there: put the row back as it was.
            try await library.execute(
                "INSERT INTO schema_migration (version, name, checksum, duration_ms) VALUES (\(latest.version), '\(latest.name)', '\(latest.checksum)', 0)"
            )
            #expect(try library.mediaq(["search", "images", "--tags", "beach"]).status == 0)

            // A newer schema: this mediaq is older than the database.
            try await library.execute(
                "INSERT INTO schema_migration (version, name, checksum, duration_ms) VALUES (9999, 'from_the_future', 'x', 0)")
            let newer = try library.mediaq(["search", "images", "--tags", "beach", "--json"])
            #expect(newer.status == 1 && newer.standardOutput.contains("\"schema_too_new\""), "\(newer.transcript)")
            #expect(newer.standardError.contains("upgrade"), "\(newer.transcript)")
            let migrate = try library.mediaq(["db", "migrate"])
            #expect(migrate.status == 1, "db migrate refuses too: \(migrate.transcript)")
        }
    }

    // MARK: - One meaning per flag

    @Test func thePipelinesFileWhereTheLibrarysBelongsIsNamed() async throws {
        try await MaintenanceCommandTests.withLibrary { library in
            let stock = library.folder + "/stock-assets.json"
            try #"{"localLibrary": {"minMatches": {"videos": 1, "images": 1}}}"#.write(toFile: stock, atomically: true, encoding: .utf8)
            let script = library.folder + "/script.json"
            try #"{"segments": [{"id": "s1", "tags": ["beach"]}]}"#.write(toFile: script, atomically: true, encoding: .utf8)
            let wrong = try library.mediaq(["plan", script, "--config", stock, "--no-mark-used"])
            #expect(wrong.status == 2 && wrong.standardError.contains("--stock-config"), "\(wrong.transcript)")
            let right = try library.mediaq(["plan", script, "--stock-config", stock, "--no-mark-used"])
            #expect(right.status == 0, "\(right.transcript)")
            // known with no ids (a provider search that found nothing) is an empty answer.
            struct Known: Decodable {
                let known: [String]
                let unknown: [String]
            }
            let none = try library.mediaq(["known", "--provider", "pexels", "--json"])
            #expect(none.status == 0, "\(none.transcript)")
            let answer = try JSONDecoder().decode(Known.self, from: Data(none.standardOutput.utf8))
            #expect(answer.known.isEmpty && answer.unknown.isEmpty)
        }
    }

    // MARK: - The documented client is the tested one

    @Test func theIntegrationGuideQuotesTheClientAsItIs() throws {
        let module = try String(contentsOfFile: Self.repository + "/clients/typescript/src/media-library.ts", encoding: .utf8)
        let guide = try String(contentsOfFile: Self.repository + "/docs/integration.md", encoding: .utf8)
        var regions = 0
        for block in module.components(separatedBy: "// #region ").dropFirst() {
            let name = String(block.prefix { $0 != "\n" })
            let end = try #require(block.range(of: "\n// #endregion " + name), "region \(name) ends")
            let body = block[block.index(after: block.firstIndex(of: "\n")!)..<end.lowerBound]
            #expect(guide.contains("```ts\n" + body + "\n```"), "docs/integration.md quotes region \(name) as it is")
            regions += 1
        }
        #expect(regions == 4)
    }

    // MARK: - Two Unix users

    /// Runs `arguments` as `account`, with its groups, keeping the environment.
    static func asUser(_ account: String, _ arguments: [String], environment: [String: String]) throws -> ChildProcess {
        let entry = try #require(getpwnam(account), "no account \(account)").pointee
        return try ChildProcess.spawn(
            ["/usr/bin/setpriv", "--reuid=\(entry.pw_uid)", "--regid=\(entry.pw_gid)", "--init-groups", "--"] + arguments,
            workingDirectory: "/", environment: environment)
    }

    /// A loopback TCP port nothing listens on now (the kernel's pick, released at once).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound, "cannot find a free port")
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func ensureAccount(_ name: String) throws {
        guard getpwnam(name) == nil else { return }
        let made = try ChildProcess.run(
            ["/usr/sbin/useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            environment: ProcessInfo.processInfo.environment)
        try #require(made.status == 0, "\(made.transcript)")
    }

    @Test func theTypeScriptClientRunsAsGatherAgainstMediadUnderItsOwnAccount() async throws {
        try #require(geteuid() == 0, "this test creates Unix accounts and runs processes as them: run the suite as root")
        let folder = try TemporaryFolder()
        defer {
            _ = try? ChildProcess.run(["/usr/bin/pkill", "-KILL", "-u", Self.daemonAccount, "-x", "mediad"], environment: [:])
            folder.remove()
        }
        try Self.ensureAccount(Self.gatherAccount)

        // 1. The install step, into this test's folders.
        let root = folder.path + "/library"
        let prefix = folder.path + "/prefix"
        let etc = folder.path + "/etc"
        let units = folder.path + "/units"
        var installEnvironment = ProcessInfo.processInfo.environment
        installEnvironment.merge([
            "LIBRARY_ROOT": root, "MEDIA_USER": Self.daemonAccount, "MEDIA_GROUP": Self.group, "MEDIA_READERS": Self.gatherAccount,
            "PREFIX": prefix, "BIN_DIR": Executables.directory, "ETC_DIR": etc, "UNIT_DIR": units,
        ]) { $1 }
        let install = try ChildProcess.run(["/bin/bash", Self.repository + "/scripts/install-system.sh"], environment: installEnvironment)
        try #require(install.status == 0, "\(install.transcript)")
        var info = stat()
        try #require(stat(root, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o2750 && info.st_uid == getpwnam(Self.daemonAccount)!.pointee.pw_uid)
        #expect(info.st_gid == getgrnam(Self.group)!.pointee.gr_gid)
        try #require(stat(root + "/drop", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o2770)
        let configuration = try String(contentsOfFile: etc + "/config.json", encoding: .utf8)
        #expect(configuration.contains("\"root\": \"\(root)\""), "\(configuration)")
        let unit = try String(contentsOfFile: units + "/mediad.service", encoding: .utf8)
        #expect(unit.contains("User=\(Self.daemonAccount)\n") && unit.contains("Group=\(Self.group)\n"), "\(unit)")
        #expect(unit.contains("ReadWritePaths=\(root)\n") && unit.contains("ExecStart=\(prefix)/bin/mediad\n"), "\(unit)")
        let security = try ChildProcess.run(
            ["/usr/bin/systemd-analyze", "security", "--offline=true", "--threshold=10", units + "/mediad.service"],
            environment: ProcessInfo.processInfo.environment)
        #expect(security.status == 0, "the installed unit keeps its hardening: \(security.transcript)")
        let serveUnit = try String(contentsOfFile: units + "/mediaq-serve.service", encoding: .utf8)
        #expect(serveUnit.contains("SupplementaryGroups=\(Self.group)\n") && serveUnit.contains("ReadOnlyPaths=\(root)\n"), "\(serveUnit)")
        #expect(serveUnit.contains("ExecStart=\(prefix)/bin/mediaq serve "), "\(serveUnit)")
        let serveSecurity = try ChildProcess.run(
            ["/usr/bin/systemd-analyze", "security", "--offline=true", "--threshold=10", units + "/mediaq-serve.service"],
            environment: ProcessInfo.processInfo.environment)
        #expect(serveSecurity.status == 0, "the installed serve unit keeps its hardening: \(serveSecurity.transcript)")
        let again = try ChildProcess.run(["/bin/bash", Self.repository + "/scripts/install-system.sh"], environment: installEnvironment)
        #expect(again.status == 0 && again.standardOutput.contains("kept"), "safe to run again: \(again.transcript)")

        // 2. mediad as its account; every other program finds the library through config.json.
        let environment = Executables.cleanEnvironment([
            "MEDIA_CONFIG": etc + "/config.json", "MEDIAD_SIDECAR_GRACE_MS": "300", "MEDIAD_LOG_LEVEL": "warning",
            "MEDIAQ_PROGRAM": prefix + "/bin/mediaq",
        ])
        let daemon = try Self.asUser(Self.daemonAccount, [prefix + "/bin/mediad"], environment: environment)
        var daemonEnded = false
        defer {
            if !daemonEnded {
                daemon.signal(SIGKILL)
                _ = daemon.wait()
            }
        }
        let mediaq = prefix + "/bin/mediaq"
        func gather(_ arguments: [String]) throws -> ChildProcess.Outcome {
            try Self.asUser(Self.gatherAccount, arguments, environment: environment).wait()
        }
        let deadline = ContinuousClock.now + .seconds(120)
        var stats = try gather([mediaq, "stats", "--json"])
        while stats.status != 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            stats = try gather([mediaq, "stats", "--json"])
        }
        try #require(stats.status == 0, "gather reads the library: \(stats.transcript)")
        #expect(try gather(["/usr/bin/test", "-w", root]).status == 1, "gather cannot write the library root")
        #expect(try gather(["/usr/bin/test", "-w", root + "/drop"]).status == 0, "gather can drop")
        let cluster = EmbeddedCluster(libraryRoot: root, logger: testLogger)
        try #require(stat(cluster.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o770 && info.st_gid == getgrnam(Self.group)!.pointee.gr_gid, "the socket is the group's")
        let outsider = try Self.asUser("nobody", [mediaq, "stats", "--json"], environment: environment).wait()
        #expect(outsider.status == 75 && outsider.standardError.contains("group"), "not for everyone: \(outsider.transcript)")

        // 3. The TypeScript module, compiled by Debian's tsc, run with Node as gather.
        let javascript = folder.path + "/js"
        let compiled = try ChildProcess.run(
            ["/usr/bin/tsc", "-p", Self.repository + "/clients/typescript", "--outDir", javascript],
            environment: ProcessInfo.processInfo.environment)
        try #require(compiled.status == 0, "\(compiled.transcript)")
        let work = folder.path + "/gather"
        let fixtures = work + "/fixtures"
        try FileManager.default.createDirectory(atPath: fixtures, withIntermediateDirectories: true)
        try SampleMedia.video(
            fixtures + "/harbour-v1.mp4", seconds: 2.5, size: "320x180", extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        for (index, name) in ["harbour-1", "harbour-2", "snow-1", "snow-2", "forest-1"].enumerated() {
            try SampleMedia.make([
                SampleMedia.convert, "-size", "320x180", "xc:\(["red", "blue", "white", "gray", "green"][index])",
                fixtures + "/\(name).png",
            ])
        }
        let stock = work + "/stock-assets.json"
        try #"{"localLibrary": {"minMatches": {"videos": 1, "images": 2}, "limit": {"videos": 1, "images": 2}}}"#
            .write(toFile: stock, atomically: true, encoding: .utf8)
        let script = work + "/script.json"
        try """
        {"aspect": "16:9", "segments": [
          {"id": "harbour", "tags": ["harbour"], "durationSeconds": 1.5},
          {"id": "snow", "tags": ["snow"], "media": ["image"]}
        ]}
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let gatherId = getpwnam(Self.gatherAccount)!.pointee
        _ = try ChildProcess.run(["/bin/chown", "-R", "\(gatherId.pw_uid):\(gatherId.pw_gid)", work], environment: [:])
        let drop = root + "/drop"
        struct StageOutput: Decodable {
            struct Entry: Decodable {
                let segmentId: String
                let kind: String
                let source: String
                let libraryId: Int64?
                let absolutePath: String?
            }
            let ok: Bool
            let manifest: [Entry]?
            let downloads: Int?
            let error: String?
            let released: [String]?
        }
        func stage(_ scenario: String, script: String, run: String) throws -> (ChildProcess.Outcome, StageOutput?) {
            let outcome = try gather(["/usr/bin/node", javascript + "/test/drive.js", scenario, fixtures, script, stock, work, drop, run])
            return (outcome, try? JSONDecoder().decode(StageOutput.self, from: Data(outcome.standardOutput.utf8)))
        }

        // First run, empty library: everything is downloaded and dropped with its sidecar.
        let (first, firstReport) = try stage("stage", script: script, run: "run-1")
        try #require(first.status == 0 && firstReport?.ok == true, "\(first.transcript)")
        print("deployment: first run as \(Self.gatherAccount): \(firstReport?.downloads ?? -1) downloads dropped")
        #expect(
            firstReport?.downloads == 5 && firstReport?.manifest?.allSatisfy { $0.source == "pexels" } == true, "\(first.standardOutput)")
        let names = ["harbour-v1.mp4", "harbour-1.png", "harbour-2.png", "snow-1.png", "snow-2.png"].map { "run-1--pexels-" + $0 }
        let receipts = names.map { drop + "/.receipts/" + $0 + ".json" }
        while !receipts.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) && ContinuousClock.now < deadline + .seconds(60) {
            try await Task.sleep(for: .milliseconds(100))
        }
        for receipt in receipts {
            let text = (try? String(contentsOfFile: receipt, encoding: .utf8)) ?? "missing"
            #expect(text.contains("\"ingested\""), "\(receipt): \(text)")
        }
        let connection = try await TestDatabase.connect(cluster.url)
        defer { Task { try? await connection.close() } }
        func count(_ sql: String) async throws -> Int {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
            var value = 0
            for try await number in rows.decode(Int.self) { value = number }
            return value
        }
        #expect(try await count("SELECT count(*)::int8 FROM asset") == 5)
        // The library's files are its own, readable by the group, not gather's to change.
        let daemonId = getpwnam(Self.daemonAccount)!.pointee.pw_uid
        let originals = try await connection.query("SELECT path FROM asset", logger: testLogger)
        for try await path in originals.decode(String.self) {
            try #require(stat(root + "/" + path, &info) == 0)
            #expect(info.st_uid == daemonId && info.st_mode & 0o040 != 0 && info.st_mode & 0o022 == 0, "\(path)")
        }

        // Second run: everything is local, nothing is downloaded.
        let (second, secondReport) = try stage("stage", script: script, run: "run-2")
        try #require(second.status == 0, "\(second.transcript)")
        #expect(secondReport?.downloads == 0, "\(second.standardOutput)")
        #expect(secondReport?.manifest?.count == 5 && secondReport?.manifest?.allSatisfy { $0.source == "local-library" } == true)
        for entry in secondReport?.manifest ?? [] {
            #expect(try gather(["/usr/bin/test", "-r", entry.absolutePath ?? "-"]).status == 0, "gather reads \(entry.absolutePath ?? "")")
        }
        #expect(try await count("SELECT count(*)::int8 FROM pin WHERE run_id = 'run-2'") == 5)
        // Every read command, and the database-only writes, as gather.
        let anId = try #require(secondReport?.manifest?.first?.libraryId)
        let project = work + "/project"
        for arguments in [
            ["search", "images", "--tags", "snow"], ["show", "\(anId)"], ["stats"],
            ["plan", script, "--stock-config", stock, "--no-mark-used"],
            ["known", "--provider", "pexels", "snow-1"], ["export", "\(anId)", "--to", project], ["use", "\(anId)"],
        ] {
            let outcome = try gather([mediaq] + arguments + ["--json"])
            #expect(outcome.status == 0, "\(arguments) as gather: \(outcome.transcript)")
        }
        #expect(try await count("SELECT use_count::int8 FROM asset WHERE id = \(anId)") == 3, "sidecar, plan, use")
        // `mediaq serve` as the serve unit runs it: a member of the group, the reader's rights.
        // It shows the library and serves its files; a curation POST, even with the token, is
        // refused with a reason that says whose rights it needs, and changes nothing.
        let port = try Self.freeLoopbackPort()
        let serveToken = "reader-serve-token-0123456789"
        var serveEnvironment = environment
        serveEnvironment["MEDIAQ_SERVE_TOKEN"] = serveToken
        let server = try Self.asUser(
            Self.gatherAccount, [mediaq, "serve", "--listen", "127.0.0.1:\(port)"], environment: serveEnvironment)
        defer {
            server.signal(SIGTERM)
            _ = server.wait()
        }
        func curl(_ arguments: [String]) async throws -> (status: String, body: String) {
            let outcome = try await onOwnThread { () throws -> ChildProcess.Outcome in
                try ChildProcess.run(
                    ["/usr/bin/curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code}", "--max-time", "10"] + arguments,
                    environment: [:])
            }
            return (outcome.standardOutput, outcome.standardError)
        }
        let base = "http://127.0.0.1:\(port)"
        var page = try await curl([base + "/assets/\(anId)"])
        while page.status != "200" && ContinuousClock.now < deadline + .seconds(150) {
            try await Task.sleep(for: .milliseconds(200))
            page = try await curl([base + "/assets/\(anId)"])
        }
        #expect(page.status == "200", "the asset page, served as the reader: \(page)")
        #expect(try await curl([base + "/assets/\(anId)/thumbnail"]).status == "200")
        #expect(try await curl([base + "/assets/\(anId)/original", "-r", "0-99"]).status == "206")
        let hideAttempt = try await curl([
            "-X", "POST", "-H", "Authorization: Bearer \(serveToken)", "--data", "", base + "/assets/\(anId)/hide",
        ])
        #expect(hideAttempt.status == "403" && hideAttempt.body.contains("library's owner"), "\(hideAttempt)")
        #expect(try await count("SELECT count(*)::int8 FROM asset WHERE hidden") == 0)
        let unpinned = try gather([mediaq, "unpin", "run-2", "--json"])
        #expect(unpinned.status == 0 && unpinned.standardOutput.contains("\"unpinned\" : 5"), "\(unpinned.transcript)")

        // A provider that finds nothing: no `known` with no ids, no failure.
        let elsewhere = work + "/volcano.json"
        try #"{"segments": [{"id": "v", "tags": ["volcano"], "media": ["image"]}]}"#.write(
            toFile: elsewhere, atomically: true, encoding: .utf8)
        let (empty, emptyReport) = try stage("empty", script: elsewhere, run: "run-3")
        #expect(empty.status == 0 && emptyReport?.downloads == 0 && emptyReport?.manifest?.isEmpty == true, "\(empty.transcript)")

        // The database stops answering after the plan: the module throws its retryable error,
        // downloads nothing, leaves nothing in the drop folder; the pins it could not release
        // then are released by the next stage.
        let mixed = work + "/mixed.json"
        try """
        {"segments": [{"id": "snow", "tags": ["snow"], "media": ["image"]}, {"id": "forest", "tags": ["forest"], "media": ["image"]}]}
        """.write(toFile: mixed, atomically: true, encoding: .utf8)
        let outageRun = try Self.asUser(
            Self.gatherAccount,
            ["/usr/bin/node", javascript + "/test/drive.js", "outage", fixtures, mixed, stock, work, drop, "run-4"],
            environment: environment)
        while !FileManager.default.fileExists(atPath: work + "/outage-ready") && ContinuousClock.now < deadline + .seconds(120) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await count("SELECT count(*)::int8 FROM pin WHERE run_id = 'run-4'") == 2, "the plan pinned the snow picks")
        let postmaster = try String(contentsOfFile: cluster.dataDirectory + "/postmaster.pid", encoding: .utf8)
        let pid = Int32(postmaster.split(separator: "\n")[0])!
        kill(pid, SIGSTOP)
        FileManager.default.createFile(atPath: work + "/outage-go", contents: Data())
        let outage = outageRun.wait()
        kill(pid, SIGCONT)
        print("deployment: the stage during the outage ended with \(outage.status): \(outage.standardOutput)")
        #expect(outage.status == 75 && outage.standardOutput.contains("LibraryUnavailable"), "\(outage.transcript)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: drop).filter { $0.contains("run-4") || $0.hasSuffix(".part") }
        #expect(leftovers.isEmpty, "nothing half-written: \(leftovers)")
        let (release, releaseReport) = try stage("release", script: mixed, run: "run-5")
        #expect(release.status == 0 && releaseReport?.released == ["run-4"], "\(release.transcript)")
        #expect(try await count("SELECT count(*)::int8 FROM pin WHERE run_id = 'run-4'") == 0, "nothing left pinned")

        // The daemon ends cleanly.
        daemon.signal(SIGTERM)
        let ended = try await GatherEndToEndTests.waitForExit(daemon, within: 30)
        daemonEnded = ended != nil
        #expect(ended?.status == 0, "\(ended?.transcript ?? "mediad did not stop")")
    }
}
