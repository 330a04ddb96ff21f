import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

/// Opens the existing library for a command the pipeline waits on: within
/// `LibraryOpener.answerWithin` seconds, or a retryable error; never makes a new library nor
/// migrates its schema. Readers (the default) need no write access to the root;
/// `.maintenance` commands do. The connection is closed whatever `body` does.
func withOpenLibrary<T>(
    _ configuration: LibraryConfiguration, logger: Logger, mode: OpenMode = .reader,
    _ body: (OpenLibrary, PostgresConnection) async throws(MediaError) -> T
) async throws(MediaError) -> T {
    let (library, connection) = try await LibraryOpener(configuration: configuration, logger: logger, mode: mode)
        .openExisting(within: LibraryOpener.answerWithin)
    do {
        let value = try await body(library, connection)
        try? await connection.close()
        return value
    } catch {
        try? await connection.close()
        throw error
    }
}
