package import Foundation
package import MediaCore
package import PostgresNIO
package import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A library made through `mediaq ingest`, for the maintenance commands' tests.
package struct TestLibrary {
    package let root: String
    package let url: DatabaseURL
    package let folder: String

    package init(root: String, url: DatabaseURL, folder: String) {
        self.root = root
        self.url = url
        self.folder = folder
    }

    package var arguments: [String] { ["--library-root", root, "--database-url", url.urlString] }

    package func mediaq(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Outcome {
        try Executables.mediaq(arguments + self.arguments, environment: environment)
    }

    /// Ingests `count` distinct PNGs from `provider`; returns their ids in order.
    @discardableResult
    package func ingestPNGs(_ count: Int, provider: String = "pexels", tags: String = "beach", prefix: String = "img") throws -> [Int64] {
        let source = folder + "/src-\(prefix)"
        let names = try Drops.pngs(count, into: source, prefix: prefix, staging: folder + "/staging")
        let outcome = try mediaq(["ingest", "--json", "--provider", provider, "--tags", tags] + names.map { source + "/" + $0 })
        try #require(outcome.status == 0, "\(outcome.transcript)")
        return try IngestOutput.decode(outcome.standardOutput).files.compactMap(\.id)
    }

    /// Runs one statement.
    package func execute(_ sql: String) async throws {
        let connection = try await TestDatabase.connect(url)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The first column of every row, as 64-bit integers.
    package func integers(_ sql: String) async throws -> [Int64] {
        let connection = try await TestDatabase.connect(url)
        do {
            var values: [Int64] = []
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
            for try await value in rows.decode(Int64.self) { values.append(value) }
            try await connection.close()
            return values
        } catch {
            try? await connection.close()
            throw error
        }
    }

    package func strings(_ sql: String) async throws -> [String] {
        let connection = try await TestDatabase.connect(url)
        do {
            var values: [String] = []
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
            for try await value in rows.decode(String.self) { values.append(value) }
            try await connection.close()
            return values
        } catch {
            try? await connection.close()
            throw error
        }
    }

    package func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: root + "/" + relative) }

    /// Decodes a command's --json output.
    package static func decode<T: Decodable>(_ type: T.Type, _ outcome: ChildProcess.Outcome) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(outcome.standardOutput.utf8))
        } catch {
            Issue.record("cannot decode \(T.self): \(error)\n\(outcome.transcript)")
            throw error
        }
    }
}

/// `mediaq ingest --json`: one document for the whole command.
package struct IngestOutput: Decodable {
    package struct File: Decodable {
        package struct Failure: Decodable {
            package let code: String
            package let message: String
        }
        package let file: String
        package let status: String
        package let id: Int64?
        package let kind: String?
        package let path: String?
        package let thumbPath: String?
        package let error: Failure?
    }
    package struct Failure: Decodable {
        package let code: String
        package let message: String
    }
    package let ok: Bool
    package let files: [File]
    package let ingested: Int
    package let duplicate: Int
    package let rejected: Int
    package let error: Failure?

    package static func decode(_ standardOutput: String) throws -> IngestOutput {
        try JSONDecoder().decode(IngestOutput.self, from: Data(standardOutput.utf8))
    }
}
