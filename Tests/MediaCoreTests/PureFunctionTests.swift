import Foundation
@testable import MediaTestSupport
@testable import MediaCore
import MediaTestHarness
import Testing

@Suite struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesAndComments() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'a;b');
            /* block ; /* nested ; */ still comment */
            INSERT INTO a VALUES ('it''s; fine');
            CREATE TABLE "odd;name" (y int);
            SELECT E'back\\'slash;';
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN $1; END; $body$;
            SELECT $1::int;
            ;;
            -- trailing comment only
            """
        let statements = SQLScript.statements(in: script)
        // Seven statements; the empty ones and the trailing comment are not statements.
        #expect(statements.count == 7)
        #expect(statements[0].hasSuffix("CREATE TABLE a (x text DEFAULT 'a;b')"))
        #expect(statements[1].hasSuffix("INSERT INTO a VALUES ('it''s; fine')"))
        #expect(statements[2] == "CREATE TABLE \"odd;name\" (y int)")
        #expect(statements[3] == "SELECT E'back\\'slash;'")
        #expect(statements[4].hasSuffix("$$ BEGIN RETURN 1; END; $$"))
        #expect(statements[5].hasSuffix("$body$ BEGIN RETURN $1; END; $body$"))
        #expect(statements[6] == "SELECT $1::int")
    }

    @Test func bundledMigrationSplitsIntoItsStatements() throws {
        let initial = try #require(Migration.bundled.first)
        let statements = SQLScript.statements(in: initial.sql)
        // Every CREATE in the file starts its own statement.
        let creates = initial.sql.components(separatedBy: "\nCREATE ").count - 1
        #expect(statements.filter { $0.contains("CREATE ") }.count >= creates)
        #expect(statements.allSatisfy { !$0.hasSuffix(";") })
    }
}

@Suite struct DatabaseURLTests {
    @Test func tcpWithEverything() throws {
        let url = try DatabaseURL.parse(
            "postgres://alice:s%40cret@db.example:6543/media?sslmode=require&connect_timeout=2", defaultUser: "root")
        #expect(url.endpoint == .tcp(host: "db.example", port: 6543))
        #expect(url.user == "alice")
        #expect(url.password == "s@cret")
        #expect(url.database == "media")
        #expect(url.tlsMode == .require)
        #expect(url.connectTimeoutSeconds == 2)
        #expect(!url.description.contains("cret"))
        #expect(url.description.contains("***"))
        #expect(try DatabaseURL.parse(url.urlString, defaultUser: "x") == url)
    }

    @Test func unixSocketForms() throws {
        let empty = try DatabaseURL.parse("postgresql:///media", defaultUser: "bob")
        #expect(empty.endpoint == .unixSocket(path: "/var/run/postgresql/.s.PGSQL.5432"))
        #expect(empty.user == "bob")
        #expect(empty.tlsMode == .disable)
        let queryHost = try DatabaseURL.parse("postgres://media@/media?host=/srv/lib/.db&port=5433", defaultUser: "x")
        #expect(queryHost.endpoint == .unixSocket(path: "/srv/lib/.db/.s.PGSQL.5433"))
        let encodedHost = try DatabaseURL.parse("postgres://media@%2Ftmp%2Fsock/db", defaultUser: "x")
        #expect(encodedHost.endpoint == .unixSocket(path: "/tmp/sock/.s.PGSQL.5432"))
        #expect(try DatabaseURL.parse(queryHost.urlString, defaultUser: "x") == queryHost)
    }

    @Test func defaultsFollowLibpq() throws {
        let url = try DatabaseURL.parse("postgres://localhost", defaultUser: "carol")
        #expect(url.endpoint == .tcp(host: "localhost", port: 5432))
        #expect(url.user == "carol")
        #expect(url.database == "carol")
        #expect(url.tlsMode == .prefer)
        let v6 = try DatabaseURL.parse("postgres://u@[::1]:5433/d", defaultUser: "x")
        #expect(v6.endpoint == .tcp(host: "::1", port: 5433))
    }

    @Test(arguments: [
        "mysql://x/y", "localhost:5432", "postgres://h:99999/d", "postgres://h/d?sslmode=sometimes",
        "postgres://h/d?frobnicate=1", "postgres://h:abc/d",
    ])
    func rejectsWhatItCannotUse(_ text: String) {
        #expect(throws: MediaError.self) { try DatabaseURL.parse(text, defaultUser: "x") }
        do {
            _ = try DatabaseURL.parse(text, defaultUser: "x")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.hasPrefix("DATABASE_URL is not a valid PostgreSQL URL"))
        }
    }
}

@Suite struct ByteCountTests {
    @Test(arguments: [
        ("300000000000", Int64(300_000_000_000)), ("300GB", 300_000_000_000), ("300 gb", 300_000_000_000),
        ("1.5TiB", 1_649_267_441_664), ("512MiB", 536_870_912), ("10k", 10_000), ("7", 7), ("7 B", 7),
    ])
    func parses(_ text: String, _ expected: Int64) {
        #expect(ByteCount.parse(text) == expected)
    }

    @Test(arguments: ["", "GB", "abc", "12 parsecs", "-5GB", "99999999999999999999", "1.2.3GB"])
    func rejects(_ text: String) {
        #expect(ByteCount.parse(text) == nil)
    }

    @Test func formatsWhatParseReadsBack() {
        #expect(ByteCount.format(300_000_000_000) == "300 GB")
        #expect(ByteCount.format(1_500_000_000) == "1.5 GB")
        #expect(ByteCount.format(512) == "512 B")
        #expect(ByteCount.parse(ByteCount.format(300_000_000_000)) == 300_000_000_000)
    }
}

@Suite struct MigrationNameTests {
    @Test func readsVersionAndName() throws {
        let migration = try #require(Migration(fileName: "0012_add_pins.sql", contents: "SELECT 1;"))
        #expect(migration.version == 12)
        #expect(migration.name == "add_pins")
        #expect(migration.fileName == "0012_add_pins.sql")
        #expect(migration.checksum.count == 64)
        #expect(Migration(fileName: "0012_add_pins.sql", contents: "SELECT 2;")?.checksum != migration.checksum)
    }

    @Test(arguments: ["12_x.sql", "0001-x.sql", "0001_.sql", "0001_Caps.sql", "0001_x.txt", "0000_zero.sql"])
    func rejectsBadNames(_ name: String) {
        #expect(Migration(fileName: name, contents: "") == nil)
    }

    @Test func bundledMigrationsAreTheFilesInTheRepository() throws {
        // The build embeds migrations/*.sql; compare with the files themselves, byte for byte.
        let folder = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(Migration.bundled.map(\.fileName) == files)
        for migration in Migration.bundled {
            let contents = try String(contentsOf: folder.appendingPathComponent(migration.fileName), encoding: .utf8)
            #expect(migration.sql == contents)
        }
        // Versions are 1, 2, 3 … in file order: a gap or a repeat is a numbering mistake.
        let versions = Migration.bundled.map(\.version)
        #expect(versions == Array(1...versions.count))
    }

    @Test func statusComparesRecordedChecksums() {
        let one = Migration(version: 1, name: "a", sql: "SELECT 1;")
        let two = Migration(version: 2, name: "b", sql: "SELECT 2;")
        let runner = MigrationRunner(migrations: [one, two], logger: testLogger)
        let now = Date()
        let fine = runner.compare(applied: [.init(version: 1, name: "a", checksum: one.checksum, appliedAt: now)])
        #expect(fine.entries.map(\.state) == [.applied, .pending])
        #expect(fine.blockingProblems.isEmpty)
        let changed = runner.compare(applied: [.init(version: 1, name: "a", checksum: "0000", appliedAt: now)])
        #expect(changed.entries.first?.state == .changed)
        #expect(changed.blockingProblems.first?.code == .migrationChanged)
        #expect(changed.blockingProblems.first?.message.contains("0001_a.sql was changed") == true)
        let newer = runner.compare(applied: [
            .init(version: 1, name: "a", checksum: one.checksum, appliedAt: now),
            .init(version: 2, name: "b", checksum: two.checksum, appliedAt: now),
            .init(version: 3, name: "c", checksum: "x", appliedAt: now),
        ])
        #expect(newer.blockingProblems.first?.code == .schemaTooNew)
    }
}

@Suite struct MountTableTests {
    @Test func findsADeclaredMountPointThatIsNotMounted() {
        let table = MountTable(mounted: ["/", "/home"], declared: ["/", "/media/videos", "/home"])
        #expect(table.unmountedMountPoint(containing: "/media/videos") == "/media/videos")
        #expect(table.unmountedMountPoint(containing: "/media/videos/library") == "/media/videos")
        #expect(table.unmountedMountPoint(containing: "/media/videos2") == nil)
        #expect(table.unmountedMountPoint(containing: "/home/me/lib") == nil)
        let mounted = MountTable(mounted: ["/", "/media/videos"], declared: ["/media/videos"])
        #expect(mounted.unmountedMountPoint(containing: "/media/videos") == nil)
    }

    @Test func readsMountInfoAndFstab() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
        40 22 8:17 / /mnt/my\\040disk rw shared:2 - ext4 /dev/sdb1 rw
        """.write(toFile: folder.path + "/mountinfo", atomically: true, encoding: .utf8)
        try """
        # comment
        UUID=1 / ext4 defaults 0 1
        UUID=2 /mnt/my\\040disk ext4 defaults 0 2
        UUID=3 /media/videos ext4 nofail 0 2
        /swapfile none swap sw 0 0
        """.write(toFile: folder.path + "/fstab", atomically: true, encoding: .utf8)
        let table = MountTable.current(mountInfo: folder.path + "/mountinfo", fstab: folder.path + "/fstab")
        #expect(table.mounted == ["/", "/mnt/my disk"])
        #expect(table.declared == ["/", "/mnt/my disk", "/media/videos"])
        #expect(table.unmountedMountPoint(containing: "/media/videos/lib") == "/media/videos")
    }
}

@Suite struct DistinctPNGTests {
    @Test func chunkChecksumsAreThoseOfPNG() {
        #expect(DistinctPNG.crc32(Array("IEND".utf8)) == 0xAE42_6082)
        #expect(DistinctPNG.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func textGoesBeforeTheEndAndTheFilesDiffer() {
        // A 1×1 PNG: signature, IHDR, IDAT, IEND.
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let iend: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
        let png = signature + [UInt8](repeating: 7, count: 20) + iend
        let one = DistinctPNG.make(from: png, text: "one")
        let two = DistinctPNG.make(from: png, text: "two")
        #expect(one != two)
        #expect(Array(one.suffix(12)) == iend, "IEND stays last")
        #expect(Array(one.prefix(28)) == Array(png.prefix(28)))
        #expect(one.count == png.count + 12 + "Comment".utf8.count + 1 + 3)
        #expect(MediaFormat.sniff(one) == .media(.png))
        #expect(MediaFormat.png.looksComplete(tail: Array(one.suffix(64)), size: Int64(one.count), head: Array(one.prefix(64))))
    }
}

@Suite struct ChildProcessTests {
    @Test func childrenInheritOnlyTheStandardStreams() throws {
        // A descriptor without close-on-exec, as a library's socket may be.
        let stray = open("/dev/null", O_RDONLY)
        try #require(stray > 2)
        defer { close(stray) }
        let listing = try ChildProcess.run(["/bin/ls", "/proc/self/fd"], environment: [:])
        #expect(listing.status == 0, "\(listing.transcript)")
        let inherited = listing.standardOutput.split(separator: "\n").compactMap { Int32($0) }
        // ls itself opens one descriptor to read the directory.
        #expect(!inherited.contains(stray), "fd \(stray) leaked into the child: \(inherited)")
        #expect(inherited.filter { $0 > 2 }.count <= 1, "\(inherited)")
    }

    @Test func hasEndedLooksWithoutCollecting() async throws {
        let child = try ChildProcess.spawn(["/bin/sh", "-c", "read line; echo done; exit 3"], environment: [:])
        // Its standard input is /dev/null, so `read` returns at once; a long sleep would be slower.
        let blocked = try ChildProcess.spawn(["/bin/sleep", "30"], environment: [:])
        #expect(!blocked.hasEnded)
        var looked = 0
        while !child.hasEnded, looked < 1_000 {
            looked += 1
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(child.hasEnded && child.hasEnded, "seen ended, and still so: the look collected nothing")
        let outcome = await onOwnThread { child.wait() }
        #expect(outcome.status == 3 && outcome.standardOutput == "done\n")
        #expect(!blocked.hasEnded)
        blocked.signal(SIGKILL)
        #expect(await onOwnThread { blocked.wait() }.status == 128 + SIGKILL)
    }
}
