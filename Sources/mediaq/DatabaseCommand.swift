import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Check, inspect, migrate or stop the library's database.",
        subcommands: [Check.self, Status.self, Migrate.self, Stop.self])

    // MARK: - db check

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that the library can be used now.",
            discussion: """
                Checks that LIBRARY_ROOT is present, marked as a library and writable, that \
                PostgreSQL answers, and that the schema is current. Prints one line per check. \
                Changes nothing (it may start an existing embedded cluster). Answers within 5 \
                seconds even when the server does not answer at all.

                Exit codes: 0 when every check passes; 75 when any fails (retry later); \
                2 when the configuration itself is invalid.
                """)

        @OptionGroup var options: CommonOptions

        struct Report: Encodable {
            let ok: Bool
            let checks: [HealthCheck.Result]
        }

        func run() async throws {
            let logger = options.makeLogger()
            let configuration: LibraryConfiguration
            do {
                configuration = try await options.library.load()
            } catch {
                throw fail(error, program: "mediaq db check", json: options.json)
            }
            let results = await HealthCheck(configuration: configuration, logger: logger).run()
            let ok = results.allSatisfy(\.ok)
            if options.json {
                JSONOutput.print(Report(ok: ok, checks: results))
            } else {
                for result in results {
                    print("\(result.ok ? "ok:     " : "FAILED: ")\(result.message)")
                }
            }
            if !ok { throw ExitCode(ExitStatus.retryable) }
        }
    }

    // MARK: - db status

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the schema migrations and whether each is applied.",
            discussion: "Reads only: pending migrations are listed, not applied (see `mediaq db migrate`).")

        @OptionGroup var options: CommonOptions

        struct Report: Encodable {
            struct Library: Encodable {
                let id: String
                let root: String
                let rootVersion: Int
            }
            struct Entry: Encodable {
                let version: Int
                let name: String
                let file: String
                let state: String
                let appliedAt: Date?
                let checksum: String?
            }
            let ok: Bool
            let database: String
            let embedded: Bool
            let library: Library?
            let current: Bool
            let migrations: [Entry]
        }

        func run() async throws {
            let logger = options.makeLogger()
            let program = "mediaq db status"
            do {
                let configuration = try await options.library.load()
                let (connection, connector, embedded) = try await DatabaseAccess.connect(configuration, logger: logger)
                defer { Task { try? await connection.close() } }
                let status: MigrationStatus
                let library: (id: UUID, root: String, version: Int)?
                do {
                    status = try await MigrationRunner(logger: logger).status(on: connection)
                    library = try await DatabaseAccess.libraryRow(connection: connection, logger: logger)
                } catch {
                    throw connector.translate(error, "cannot read the schema's state")
                }
                let report = Report(
                    ok: status.blockingProblems.isEmpty,
                    database: embedded ? "embedded PostgreSQL, \(connector.endpointDescription)" : "\(connector.url)",
                    embedded: embedded,
                    library: library.map { .init(id: $0.id.lowercased, root: $0.root, rootVersion: $0.version) },
                    current: status.isCurrent,
                    migrations: status.entries.map {
                        .init(
                            version: $0.version, name: $0.name,
                            file: Migration.fileName(version: $0.version, name: $0.name),
                            state: $0.state.rawValue, appliedAt: $0.appliedAt,
                            checksum: $0.recordedChecksum ?? $0.fileChecksum)
                    })
                if options.json {
                    JSONOutput.print(report)
                } else {
                    printText(report, problems: status.blockingProblems)
                }
                if let problem = status.blockingProblems.first { throw problem }
            } catch let error as MediaError {
                throw fail(error, program: program, json: options.json)
            }
        }

        private func printText(_ report: Report, problems: [MediaError]) {
            print("database:  \(report.database)")
            if let library = report.library {
                print("library:   \(library.id.lowercased) at \(library.root) (root version \(library.rootVersion))")
            } else {
                print("library:   none recorded yet")
            }
            let pending = report.migrations.filter { $0.state == "pending" }.count
            print("schema:    \(report.current ? "current" : pending > 0 ? "\(pending) migration(s) pending" : "needs attention")")
            let formatter = ISO8601DateFormatter()
            for entry in report.migrations {
                let when = entry.appliedAt.map { " " + formatter.string(from: $0) } ?? ""
                print("  \(entry.file.padding(toLength: 32, withPad: " ", startingAt: 0)) \(entry.state)\(when)")
            }
        }
    }

    // MARK: - db migrate

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open the library and apply pending migrations.",
            discussion: """
                mediad does this on start. On a new library it also creates LIBRARY_ROOT, its \
                marker and, without DATABASE_URL, the embedded cluster. Then it loads WordNet's \
                relations between tags from search.wordnet (default /usr/share/wordnet) when the \
                files are there and that data is not loaded yet (`off` skips it; `mediaq tags \
                wordnet` loads it any time).

                With --json: {"ok", "libraryId", "root", "applied", "wordnet": null or \
                {"source", "version", "relations", "changed"}}.
                """)

        @OptionGroup var options: CommonOptions

        struct Report: Encodable {
            let ok: Bool
            let libraryId: String
            let root: String
            let applied: [String]
            let wordnet: TagRelationRepository.Loaded?

            enum CodingKeys: String, CodingKey { case ok, libraryId, root, applied, wordnet }

            /// Every key always, `null` when absent.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(ok, forKey: .ok)
                try container.encode(libraryId, forKey: .libraryId)
                try container.encode(root, forKey: .root)
                try container.encode(applied, forKey: .applied)
                try container.encode(wordnet, forKey: .wordnet)
            }
        }

        func run() async throws {
            let logger = options.makeLogger()
            do throws(MediaError) {
                let configuration = try await options.library.load()
                let (library, connection) = try await LibraryOpener(configuration: configuration, logger: logger, mode: .daemon).open()
                var wordNet: TagRelationRepository.Loaded?
                do throws(MediaError) {
                    if let directory = configuration.wordNetDirectory {
                        if !options.json { print("loading WordNet's relations from \(directory) unless loaded…") }
                        wordNet = try await TagRelationRepository(connection: connection, logger: logger)
                            .loadWordNetIfPresent(directory: directory)
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
                let applied = library.appliedMigrations.map(\.fileName)
                if options.json {
                    JSONOutput.print(
                        Report(
                            ok: true, libraryId: library.libraryId.lowercased, root: library.root.path, applied: applied,
                            wordnet: wordNet))
                    return
                }
                if applied.isEmpty {
                    print("schema already current; library \(library.libraryId.lowercased) at \(library.root.path)")
                } else {
                    print("applied \(applied.joined(separator: ", ")); library \(library.libraryId.lowercased) at \(library.root.path)")
                }
                if let wordNet, wordNet.changed { print("loaded \(wordNet.relations) WordNet relations (\(wordNet.version))") }
            } catch {
                throw fail(error, program: "mediaq db migrate", json: options.json)
            }
        }
    }

    // MARK: - db stop

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the embedded PostgreSQL cluster.",
            discussion:
                "The next command that needs it starts it again. Without an embedded cluster (DATABASE_URL set) this is a usage error.")

        @OptionGroup var options: CommonOptions

        struct Report: Encodable {
            let ok: Bool
            let wasRunning: Bool
            let directory: String
        }

        func run() async throws {
            let logger = options.makeLogger()
            do {
                let configuration = try await options.library.load()
                guard configuration.databaseURL == nil else {
                    throw MediaError(
                        .invalidConfiguration,
                        "DATABASE_URL is set, so there is no embedded cluster to stop; stop that server with its own tools")
                }
                let cluster = EmbeddedCluster(libraryRoot: configuration.libraryRoot, logger: logger)
                let wasRunning = try cluster.stop()
                if options.json {
                    JSONOutput.print(Report(ok: true, wasRunning: wasRunning, directory: cluster.directory))
                } else {
                    print(
                        wasRunning
                            ? "stopped the embedded PostgreSQL in \(cluster.directory)"
                            : "the embedded PostgreSQL in \(cluster.directory) was not running")
                }
            } catch let error as MediaError {
                throw fail(error, program: "mediaq db stop", json: options.json)
            }
        }
    }
}
