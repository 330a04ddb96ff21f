import Foundation
@testable import MediaCore
import PostgresNIO
import MediaTestHarness
import Testing

/// The daemon's pool: work on a leased connection is abandoned at its limit or when the server
/// closes the connection (a query in flight may otherwise never return), the connection is not
/// lent again, and the pool goes on serving.
@Suite struct ConnectionPoolTests {
    static func withPool(_ url: DatabaseURL, _ body: @escaping @Sendable (ConnectionPool) async throws -> Void) async throws {
        let pool = try ConnectionPool(
            connector: DatabaseConnector(url: url, logger: testLogger), maximumConnections: 2, logger: testLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            try await body(pool)
        }
    }

    static func backendPid(_ connection: PostgresConnection) async throws -> Int32 {
        let rows = try await connection.query("SELECT pg_backend_pid()", logger: testLogger)
        for try await pid in rows.decode(Int32.self) { return pid }
        throw MediaError(.databaseError, "no backend pid")
    }

    @Test func workThatOutlivesItsLimitIsAbandonedAndItsConnectionNotLentAgain() async throws {
        try await TestDatabase.withFresh(connections: 5) { url in
            try await Self.withPool(url) { pool in
                let started = ContinuousClock.now
                do throws(MediaError) {
                    _ = try await pool.withConnection("sleeping", within: .seconds(1)) { connection in
                        _ = try await connection.query("SELECT pg_sleep(120)", logger: testLogger).collect()
                    }
                    Issue.record("the sleep was not abandoned")
                } catch {
                    #expect(error.code == .databaseTimeout, "\(error.message)")
                    #expect(error.message.contains("sleeping: not done within 1 s"), "\(error.message)")
                }
                #expect(ContinuousClock.now - started < .seconds(30))
                // The pool still serves, on another connection than the abandoned one.
                let value = try await pool.withConnection("after") { connection in
                    try await connection.query("SELECT 7", logger: testLogger).collect().first?.decode(Int.self)
                }
                #expect(value == 7)
            }
        }
    }

    @Test func workIsAbandonedAsSoonAsTheServerClosesTheConnection() async throws {
        try await TestDatabase.withFresh(connections: 5) { url in
            let killer = try await TestDatabase.connect(url)
            do {
                try await Self.withPool(url) { pool in
                    let started = ContinuousClock.now
                    do throws(MediaError) {
                        _ = try await pool.withConnection("cut off", within: .seconds(60)) { connection in
                            let pid = try await Self.backendPid(connection)
                            // Another session ends this one mid-query, as a server shutting down would.
                            Task {
                                try await Task.sleep(for: .milliseconds(300))
                                try await killer.query("SELECT pg_terminate_backend(\(pid))", logger: testLogger)
                            }
                            // Read to the end: the server's error arrives with the rows.
                            _ = try await connection.query("SELECT pg_sleep(120)", logger: testLogger).collect()
                        }
                        Issue.record("the query survived its backend")
                    } catch {
                        #expect(error.code == .databaseUnavailable || error.code == .databaseError, "\(error.message)")
                    }
                    #expect(ContinuousClock.now - started < .seconds(30), "abandoned long before the 60 s limit")
                    let value = try await pool.withConnection("after") { connection in
                        try await connection.query("SELECT 8", logger: testLogger).collect().first?.decode(Int.self)
                    }
                    #expect(value == 8)
                }
                try await killer.close()
            } catch {
                try? await killer.close()
                throw error
            }
        }
    }

    @Test func aLeaseThatCannotBeHadSaysWhyWithinItsTimeout() async throws {
        // Nothing listens on this socket: the pool's connection attempts fail, and the lease
        // reports the server's absence instead of waiting for the pool's circuit breaker.
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let socketFolder = folder.path
        let url = DatabaseURL(
            endpoint: .unixSocket(path: socketFolder + "/.s.PGSQL.5432"), user: "nobody", database: "none",
            tlsMode: .disable, connectTimeoutSeconds: 1)
        try await Self.withPool(url) { pool in
            let started = ContinuousClock.now
            do throws(MediaError) {
                _ = try await pool.withConnection("probe") { _ in 1 }
                Issue.record("a connection was leased from a server that does not exist")
            } catch {
                #expect(error.code == .databaseUnavailable, "\(error.message)")
                #expect(error.message.hasPrefix("probe: cannot connect to PostgreSQL at \(socketFolder)"), "\(error.message)")
            }
            #expect(ContinuousClock.now - started < .seconds(30), "not the pool's 60 s circuit breaker")
        }
    }
}
