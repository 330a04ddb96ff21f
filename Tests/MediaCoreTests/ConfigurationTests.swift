import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

@Suite struct ConfigurationTests {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder()
    }

    func writeFile(_ json: String) throws -> String {
        let path = folder.path + "/config-\(UUID().uuidString.prefix(6)).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func precedenceIsFlagThenEnvironmentThenFileThenDefault() async throws {
        defer { folder.remove() }
        let file = try writeFile(
            """
            {"library": {"root": "/from/file"}, "media": {"dropDir": "/file/drop", "budgetBytes": 1000},
             "database": {"url": "postgres://file@localhost/file"}}
            """)
        let environment = ["LIBRARY_ROOT": "/from/env", "MEDIA_DROP_DIR": "/env/drop"]

        let fileOnly = try await LibraryConfiguration.load(configFile: file, environment: [:], workingDirectory: "/w")
        #expect(fileOnly.libraryRoot == "/from/file")
        #expect(fileOnly.dropDirectory == "/file/drop")
        #expect(fileOnly.budgetBytes == 1000)
        #expect(fileOnly.databaseURL?.user == "file")
        #expect(fileOnly.configFile == file)

        let withEnvironment = try await LibraryConfiguration.load(configFile: file, environment: environment, workingDirectory: "/w")
        #expect(withEnvironment.libraryRoot == "/from/env")
        #expect(withEnvironment.dropDirectory == "/env/drop")
        #expect(withEnvironment.budgetBytes == 1000)

        let withFlags = try await LibraryConfiguration.load(
            flags: [.libraryRoot: "relative/root", .budgetBytes: "2GB"], configFile: file,
            environment: environment, workingDirectory: "/w")
        #expect(withFlags.libraryRoot == "/w/relative/root")
        #expect(withFlags.dropDirectory == "/env/drop")
        #expect(withFlags.budgetBytes == 2_000_000_000)
    }

    @Test func defaultsWithoutAnySource() async throws {
        defer { folder.remove() }
        let configuration = try await LibraryConfiguration.load(environment: [:], workingDirectory: folder.path)
        let expectedRoot =
            FileManager.default.isWritableFile(atPath: "/media/videos")
            ? "/media/videos" : folder.path + "/cache/library"
        #expect(configuration.libraryRoot == expectedRoot)
        #expect(configuration.dropDirectory == expectedRoot + "/drop")
        #expect(configuration.databaseURL == nil)
        #expect(configuration.budgetBytes == 300_000_000_000)
    }

    @Test func configFileFromEnvironmentAndSizeWithUnitInFile() async throws {
        defer { folder.remove() }
        let file = try writeFile(#"{"media": {"budgetBytes": "1.5TiB"}}"#)
        let configuration = try await LibraryConfiguration.load(
            environment: ["MEDIA_CONFIG": file, "LIBRARY_ROOT": "/lib"], workingDirectory: "/")
        #expect(configuration.budgetBytes == 1_649_267_441_664)
        #expect(configuration.configFile == file)
    }

    @Test func badValuesNameTheKey() async throws {
        defer { folder.remove() }
        await #expect(throws: MediaError.self) {
            try await LibraryConfiguration.load(environment: ["MEDIA_BUDGET_BYTES": "lots"], workingDirectory: "/")
        }
        do {
            _ = try await LibraryConfiguration.load(environment: ["MEDIA_BUDGET_BYTES": "lots"], workingDirectory: "/")
        } catch {
            #expect(error.message.contains("MEDIA_BUDGET_BYTES"))
            #expect(error.message.contains("'lots'"))
            #expect(error.code.disposition == .usage)
        }
        do {
            _ = try await LibraryConfiguration.load(configFile: folder.path + "/missing.json", environment: [:], workingDirectory: "/")
            Issue.record("a named configuration file that is missing must be an error")
        } catch {
            #expect(error.message.contains("missing.json"))
        }
        let broken = try writeFile("{ not json")
        do {
            _ = try await LibraryConfiguration.load(configFile: broken, environment: [:], workingDirectory: "/")
            Issue.record("a malformed configuration file must be an error")
        } catch {
            #expect(error.message.contains(broken))
        }
        do {
            _ = try await LibraryConfiguration.load(environment: ["DATABASE_URL": "mysql://x"], workingDirectory: "/")
            Issue.record("a bad DATABASE_URL must be an error")
        } catch {
            #expect(error.message.contains("DATABASE_URL"))
        }
    }

    @Test func exampleConfigurationFileLoads() async throws {
        defer { folder.remove() }
        let example = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/media-library.example.json").path
        let configuration = try await LibraryConfiguration.load(configFile: example, environment: [:], workingDirectory: "/")
        #expect(configuration.libraryRoot == "/media/videos")
        #expect(configuration.dropDirectory == "/media/videos/drop")
        #expect(configuration.budgetBytes == 300_000_000_000)
        #expect(configuration.databaseURL == nil)
        #expect(configuration.daemon.sidecarGrace == .seconds(2))
        #expect(configuration.daemon.logLevel == .info)
        #expect(configuration.daemon.decodeTimeout == .seconds(60))
        #expect(configuration.daemon.decoderMemoryBytes == 4 * 1024 * 1024 * 1024)
        #expect(configuration.fileKeywords)
        #expect(configuration.daemon.learnTagsHours == 24)
        #expect(configuration.optimize == .off && configuration.optimizeMinSaving == 0.02)
    }

    @Test func optimisingIsOffUnlessAskedAndItsShareIsChecked() async throws {
        defer { folder.remove() }
        let defaults = try await LibraryConfiguration.load(environment: [:], workingDirectory: "/")
        #expect(defaults.optimize == .off && defaults.optimizeMinSaving == LibraryConfiguration.defaultOptimizeMinSaving)
        #expect(defaults.optimizeTimeout == .seconds(600))
        let file = try writeFile(#"{"media": {"optimize": "lossless", "optimizeMinSaving": 0.05, "optimizeTimeoutSeconds": 1800}}"#)
        let fromFile = try await LibraryConfiguration.load(configFile: file, environment: [:], workingDirectory: "/")
        #expect(fromFile.optimize == .lossless && fromFile.optimizeMinSaving == 0.05 && fromFile.optimizeTimeout == .seconds(1800))
        let fromEnvironment = try await LibraryConfiguration.load(
            configFile: file,
            environment: ["MEDIA_OPTIMIZE": "off", "MEDIA_OPTIMIZE_MIN_SAVING": "0.1", "MEDIA_OPTIMIZE_TIMEOUT_SECONDS": "30"],
            workingDirectory: "/")
        #expect(fromEnvironment.optimize == .off && fromEnvironment.optimizeMinSaving == 0.1)
        #expect(fromEnvironment.optimizeTimeout == .seconds(30))
        #expect(
            DaemonSettings.restartNeeded(from: fromFile, to: fromEnvironment)
                == ["media.optimize", "media.optimizeMinSaving", "media.optimizeTimeoutSeconds"],
            "the background optimiser starts with the daemon")
        for (variable, value) in [
            ("MEDIA_OPTIMIZE", "lossy"), ("MEDIA_OPTIMIZE_MIN_SAVING", "2%"), ("MEDIA_OPTIMIZE_MIN_SAVING", "0.95"),
            ("MEDIA_OPTIMIZE_TIMEOUT_SECONDS", "0"), ("MEDIA_OPTIMIZE_TIMEOUT_SECONDS", "86401"), ("MEDIA_OPTIMIZE_TIMEOUT_SECONDS", "10m"),
        ] {
            await #expect(throws: MediaError.self, "\(variable)=\(value)") {
                try await LibraryConfiguration.load(environment: [variable: value], workingDirectory: "/")
            }
        }
    }

    @Test func fileKeywordsAreOnUnlessTurnedOffInTheFileOrTheEnvironment() async throws {
        defer { folder.remove() }
        let byDefault = try await LibraryConfiguration.load(environment: [:], workingDirectory: "/")
        #expect(byDefault.fileKeywords)
        let file = folder.path + "/config.json"
        try #"{"ingest": {"fileKeywords": false}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await !LibraryConfiguration.load(configFile: file, environment: [:], workingDirectory: "/").fileKeywords)
        let environment = ["MEDIA_INGEST_FILE_KEYWORDS": "on"]
        #expect(try await LibraryConfiguration.load(configFile: file, environment: environment, workingDirectory: "/").fileKeywords)
        #expect(try await !LibraryConfiguration.load(environment: ["MEDIA_INGEST_FILE_KEYWORDS": "0"], workingDirectory: "/").fileKeywords)
        do {
            _ = try await LibraryConfiguration.load(environment: ["MEDIA_INGEST_FILE_KEYWORDS": "maybe"], workingDirectory: "/")
            Issue.record("'maybe' is not a boolean")
        } catch {
            #expect(error.message.contains("ingest.fileKeywords (MEDIA_INGEST_FILE_KEYWORDS) is 'maybe'"))
        }
    }

    @Test func wordNetIsDebiansFolderUnlessNamedOrTurnedOff() async throws {
        defer { folder.remove() }
        #expect(try await LibraryConfiguration.load(environment: [:], workingDirectory: "/").wordNetDirectory == "/usr/share/wordnet")
        let file = folder.path + "/config.json"
        try #"{"search": {"wordnet": "data/wn"}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(
            try await LibraryConfiguration.load(configFile: file, environment: [:], workingDirectory: "/srv").wordNetDirectory
                == "/srv/data/wn")
        for off in ["off", "OFF", "false", "0"] {
            let configuration = try await LibraryConfiguration.load(
                configFile: file, environment: ["MEDIA_WORDNET": off], workingDirectory: "/")
            #expect(configuration.wordNetDirectory == nil, "\(off)")
        }
    }

    @Test func daemonSettingsComeFromEveryLayerAndBadOnesNameTheirKey() async throws {
        defer { folder.remove() }
        let file = folder.path + "/config.json"
        try #"{"daemon": {"workers": 3, "sidecarGraceMs": 0, "logLevel": "debug", "decoderMemoryBytes": "1GiB"}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = try await LibraryConfiguration.load(
            flags: [.receiptDays: "2"], configFile: file, environment: ["MEDIAD_DECODE_TIMEOUT_SECONDS": "9"], workingDirectory: "/")
        #expect(loaded.daemon.workers == 3)
        #expect(loaded.daemon.sidecarGrace == .zero)
        #expect(loaded.daemon.logLevel == .debug)
        #expect(loaded.daemon.decoderMemoryBytes == 1 << 30)
        #expect(loaded.daemon.receiptRetention == .seconds(2 * 86_400))
        #expect(loaded.daemon.decodeTimeout == .seconds(9))
        #expect(loaded.daemon.dropWatch == .auto && loaded.daemon.dropPollInterval == .seconds(2), "defaults")
        let polled = try await LibraryConfiguration.load(
            environment: ["MEDIAD_DROP_WATCH": "Poll", "MEDIAD_DROP_POLL_MS": "500"], workingDirectory: "/")
        #expect(polled.daemon.dropWatch == .poll && polled.daemon.dropPollInterval == .milliseconds(500))
        #expect(loaded.daemon.learnTagsHours == 24, "default")
        let learning = try await LibraryConfiguration.load(environment: ["MEDIAD_LEARN_TAGS_HOURS": "0"], workingDirectory: "/")
        #expect(learning.daemon.learnTagsHours == 0, "0 turns the background learning off")

        let bad: [([ConfigurationKey: String], String)] = [
            ([.dropWatch: "sometimes"], "daemon.dropWatch (MEDIAD_DROP_WATCH) is 'sometimes'; use one of auto, inotify, poll"),
            ([.dropPollMs: "10"], "daemon.dropPollMs (MEDIAD_DROP_POLL_MS) is 10; use 100 to 600000"),
            ([.learnTagsHours: "9000"], "daemon.learnTagsHours (MEDIAD_LEARN_TAGS_HOURS) is 9000; use 0 (never) to 8760"),
            ([.learnTagsHours: "-1"], "daemon.learnTagsHours (MEDIAD_LEARN_TAGS_HOURS)"),
            ([.logLevel: "loud"], "daemon.logLevel (MEDIAD_LOG_LEVEL) is 'loud'"),
            ([.workers: "0"], "daemon.workers (MEDIAD_WORKERS)"),
            ([.sidecarGraceMs: "-5"], "daemon.sidecarGraceMs (MEDIAD_SIDECAR_GRACE_MS)"),
            ([.decoderMemoryBytes: "10MB"], "at least 256MiB"),
            ([.databaseMaxConnections: "4"], "database.maxConnections (MEDIA_DB_MAX_CONNECTIONS) is 4; use 5 to 10000"),
            ([.databaseMaxConnections: "many"], "database.maxConnections (MEDIA_DB_MAX_CONNECTIONS) is 'many'"),
        ]
        for (flags, expected) in bad {
            do {
                _ = try await LibraryConfiguration.load(flags: flags, environment: [:], workingDirectory: "/")
                Issue.record("\(flags) was accepted")
            } catch {
                #expect(error.code == .invalidConfiguration)
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }

    @Test func theEmbeddedClustersConnectionLimitLeavesRoomForTheDaemonAndFortyCommands() async throws {
        let defaults = try await LibraryConfiguration.load(
            environment: ["MEDIAD_WORKERS": "3"], workingDirectory: "/")
        #expect(defaults.databaseMaxConnections == nil)
        #expect(
            defaults.embeddedMaxConnections == 3 + 4 + 40, "3 workers, the collector, the tag learner, the optimiser, the opener")
        let configured = try await LibraryConfiguration.load(
            flags: [.databaseMaxConnections: "12"], environment: ["MEDIA_DB_MAX_CONNECTIONS": "99"], workingDirectory: "/")
        #expect(configured.embeddedMaxConnections == 12, "the flag wins over the environment")
        #expect(EmbeddedCluster(configured, logger: testLogger).maxConnections == 12)
    }

    @Test func aReloadNamesWhatNeedsARestart() {
        let old = LibraryConfiguration(libraryRoot: "/a", databaseURL: nil)
        var new = old
        new.pixelLimit = 5
        new.daemon.logLevel = .debug
        #expect(DaemonSettings.restartNeeded(from: old, to: new) == [])
        new.libraryRoot = "/b"
        new.daemon.workers = old.daemon.workers + 1
        new.daemon.learnTagsHours = 6
        #expect(DaemonSettings.restartNeeded(from: old, to: new) == ["library.root", "daemon.workers", "daemon.learnTagsHours"])
    }
}
