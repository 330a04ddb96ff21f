import Foundation
import HTTPTypes
import MediaCore
@testable import MediaServe
import MediaTestHarness
import Testing

/// `mediaq serve`'s refusals before it opens anything, and how errors become statuses.
@Suite struct ServeCommandTests {
    static func serve(_ arguments: [String], environment: [String: String] = [:]) async throws -> ChildProcess.Outcome {
        try await onOwnThread { () throws -> ChildProcess.Outcome in
            try Executables.mediaq(["serve", "--library-root", "/nonexistent-library-\(UUID())"] + arguments, environment: environment)
        }
    }

    @Test func usageErrorsExitTwoAndAMissingLibrary75() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try "short".write(toFile: folder.path + "/short", atomically: true, encoding: .utf8)
        for (arguments, mentions) in [
            (["--listen", "0.0.0.0:8080"], "needs a token"),
            (["--listen", "nonsense"], "host:port"),
            (["--listen", "127.0.0.1:99999"], "host:port"),
            (["--token-file", folder.path + "/absent"], "cannot be read"),
            (["--token-file", folder.path + "/short"], "at least 16"),
            (["--connections", "0"], "--connections"),
        ] {
            let outcome = try await Self.serve(arguments)
            #expect(outcome.status == 2 && outcome.standardError.contains(mentions), "\(arguments): \(outcome.transcript)")
        }
        // A token from the environment allows another address; the library is then looked for.
        let outcome = try await Self.serve(["--listen", "0.0.0.0:0"], environment: ["MEDIAQ_SERVE_TOKEN": "0123456789abcdef0123"])
        #expect(outcome.status == 75 && outcome.standardError.contains("does not exist"), "\(outcome.transcript)")
    }

    @Test func errorsAsStatuses() {
        #expect(httpStatus(for: MediaError(.assetNotFound, "x")) == .notFound)
        #expect(httpStatus(for: MediaError(.assetPinned, "x")) == .conflict)
        #expect(httpStatus(for: MediaError(.invalidRequest, "x")) == .badRequest)
        #expect(httpStatus(for: MediaError(.databaseUnavailable, "x")) == .serviceUnavailable)
        #expect(
            httpStatus(for: MediaError(.databaseError, "cannot hide: permission denied for table asset (SQLSTATE 42501)")) == .forbidden)
        #expect(httpStatus(for: MediaError(.databaseError, "x")) == .internalServerError)
    }
}
