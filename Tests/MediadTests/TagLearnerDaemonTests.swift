import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

/// `mediad` learns related tags in the background: at start when the last learn is older than
/// `daemon.learnTagsHours`, and not when it is recent.
@Suite struct TagLearnerDaemonTests {
    static func lexicon(_ url: DatabaseURL) async throws -> [String] {
        try await TestDatabase.texts("SELECT version FROM lexicon WHERE source = 'library'", on: url)
    }

    @Test func mediadLearnsAtStartOnlyWhenTheLastLearnIsStale() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let root = folder.path + "/library"
            let options = ["--library-root", root, "--database-url", url.urlString]
            let made = try Executables.mediaq(["db", "migrate"] + options)
            try #require(made.status == 0, "\(made.transcript)")
            try await TaggedRows.insert(
                Array(repeating: ["sunset", "dusk"], count: 5) + Array(repeating: ["forest"], count: 5), url: url, label: "daemon")
            // Learned 25 hours ago, with nothing found then.
            try await TestDatabase.texts(
                "INSERT INTO lexicon (source, version, relations, loaded_at) VALUES ('library', 'stale', 0, now() - interval '25 hours')",
                on: url)

            let daemon = try RunningDaemon(folder: folder.path, arguments: options + ["--learn-tags-hours", "24"])
            guard daemon.waitReady() else { return }
            let deadline = ContinuousClock.now + .seconds(60)
            while try await Self.lexicon(url) == ["stale"], ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let outcome = daemon.stop()
            #expect(try await Self.lexicon(url) != ["stale"], "learned at start: \(outcome.transcript.suffix(2000))")
            #expect(
                try await TestDatabase.texts(
                    "SELECT term || '>' || related FROM tag_relation WHERE source = 'library' ORDER BY 1", on: url)
                    == ["dusk>sunset", "sunset>dusk"])
            #expect(
                outcome.standardError.contains("learned related tags from the library")
                    && outcome.standardError.contains("relations=2"),
                "one line with the counts: \(outcome.transcript.suffix(2000))")

            // Learned 23 hours ago: not yet due, so a restart leaves it.
            try await TestDatabase.texts(
                "UPDATE lexicon SET version = 'recent', loaded_at = now() - interval '23 hours' WHERE source = 'library'", on: url)
            let second = try RunningDaemon(folder: folder.path, arguments: options + ["--learn-tags-hours", "24"], socketName: "again")
            guard second.waitReady() else { return }
            try await Task.sleep(for: .seconds(2))
            let quiet = second.stop()
            #expect(try await Self.lexicon(url) == ["recent"], "\(quiet.transcript.suffix(2000))")
            #expect(!quiet.standardError.contains("learned related tags"))
        }
    }

    /// With `search.wordnet` naming WordNet's files, mediad loads them in the background once
    /// ready, and logs it; a restart finds them loaded and reads nothing.
    @Test func mediadLoadsWordNetAtStartWhenItsFilesAreThere() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (data, found) = try await WordNetSample.folder(folder.path, nouns: ["13776971", "09376198"], adjectives: [])
        #expect(found["data.noun"] == 2)
        try await TestDatabase.withFresh(connections: RunningDaemon.testDatabaseConnections) { url in
            let options = ["--library-root", folder.path + "/library", "--database-url", url.urlString, "--learn-tags-hours", "0"]
            let count = "SELECT count(*)::text FROM tag_relation WHERE source = 'wordnet'"
            let daemon = try RunningDaemon(folder: folder.path, arguments: options, environment: ["MEDIA_WORDNET": data])
            guard daemon.waitReady() else { return }
            let deadline = ContinuousClock.now + .seconds(60)
            while (try? await TestDatabase.texts(count, on: url)) ?? ["0"] == ["0"], ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let outcome = daemon.stop()
            #expect(try await TestDatabase.texts(count, on: url) != ["0"], "\(outcome.transcript.suffix(2000))")
            #expect(outcome.standardError.contains("loaded WordNet's relations between tags"), "\(outcome.transcript.suffix(2000))")

            let second = try RunningDaemon(
                folder: folder.path, arguments: options, environment: ["MEDIA_WORDNET": data], socketName: "again")
            guard second.waitReady() else { return }
            try await Task.sleep(for: .seconds(2))
            let quiet = second.stop()
            #expect(!quiet.standardError.contains("loaded WordNet"), "the same data is not loaded twice")
        }
    }
}
