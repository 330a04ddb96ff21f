public import PostgresNIO
import Synchronization

extension LibraryOpener {
    /// The time a command that answers the pipeline may take to find the library unavailable.
    public static let answerWithin: Double = 4

    /// Opens an existing library for a command that answers the pipeline: a database that
    /// does not answer is reported within `seconds` (`database_timeout`, retry later) whatever
    /// the URL's `connect_timeout` says, because gather waits on it and must be told to retry
    /// later rather than be kept waiting.
    ///
    /// With a mode that makes no library (`OpenMode.reader` or `.maintenance`), a LIBRARY_ROOT that
    /// does not exist or is an empty folder (what an unmounted drive looks like) and, without
    /// DATABASE_URL, an embedded cluster that was never created are reported as unavailable.
    /// Otherwise a query would answer "nothing here" from a new, empty library, and gather would
    /// download everything again instead of failing fast: local reuse must never be bypassed silently.
    public func openExisting(within seconds: Double) async throws(MediaError) -> (OpenLibrary, PostgresConnection) {
        let handover = ConnectionHandover()
        let opener = self
        let timeout = MediaError(
            .databaseTimeout,
            "the library did not open within \(Self.format(seconds)) s: PostgreSQL at \(databaseDescription) does not answer")
        let started = ContinuousClock.now
        do {
            let library = try await withDeadline(seconds: seconds, timeoutError: { timeout }) {
                let (library, connection) = try await opener.open()
                guard handover.offer(connection) else {
                    // The caller has given up: nobody else will close it.
                    try? await connection.close()
                    throw CancellationError()
                }
                return library
            }
            guard let connection = handover.take() else {
                throw MediaError(.databaseError, "the library opened without a connection")
            }
            return (library, connection)
        } catch {
            if let orphan = handover.abandon() { try? await orphan.close() }
            // The deadline cancels the open before it reports the timeout, so the open's own
            // reaction to being cancelled (a closed connection) can arrive first: past the
            // deadline, whatever came is the timeout.
            if ContinuousClock.now - started >= .seconds(seconds) { throw timeout }
            if let error = error as? MediaError { throw error }
            throw MediaError(.databaseUnavailable, "cannot open the library: \(error)")
        }
    }

    var databaseDescription: String {
        guard let url = configuration.databaseURL else { return "the embedded cluster" }
        return DatabaseConnector(url: url, logger: logger).endpointDescription
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

/// Passes the connection that `open()` made to the caller exactly once, or, when the deadline
/// won, to whoever can still close it.
private final class ConnectionHandover: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var abandoned = false
    }
    private let state = Mutex(State())

    /// False when the caller has already given up.
    func offer(_ connection: PostgresConnection) -> Bool {
        state.withLock {
            if $0.abandoned { return false }
            $0.connection = connection
            return true
        }
    }

    func take() -> PostgresConnection? {
        state.withLock { state in
            defer { state.connection = nil }
            return state.connection
        }
    }

    /// Gives up; returns a connection that was offered but not taken.
    func abandon() -> PostgresConnection? {
        state.withLock { state in
            state.abandoned = true
            defer { state.connection = nil }
            return state.connection
        }
    }
}
