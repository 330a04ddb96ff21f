public import Logging
public import MediaCore
public import ServiceLifecycle

/// Writes the metadata files of the assets whose rows changed: every drop's (the drop notes the
/// backlog), the assets of a library upgraded to metadata files and the leftovers of a process
/// that crashed before its batch was written (both found when the library opened). It looks
/// every `interval` (a second) and leases a connection only when the backlog says there is
/// something to write; it writes in batches made durable by one `syncfs` each, so that a drop
/// pays for no fsync of its own and readiness never waits for it.
public struct MetadataWriter: Service {
    let database: ConnectionPool
    let store: ContentStore
    let backlog: MetadataBacklog
    let interval: Duration
    let logger: Logger

    public init(
        database: ConnectionPool, root: String, backlog: MetadataBacklog, interval: Duration = .seconds(1), logger: Logger
    ) {
        self.database = database
        self.store = ContentStore(root: root)
        self.backlog = backlog
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        var first = true
        while !(Task.isCancelled || Task.isShuttingDownGracefully) {
            if backlog.take() {
                await writePending(level: first ? .info : .debug)
                first = false
            }
            try? await Task.sleep(for: interval)
        }
        // The drops stopped before this service: what they changed last is written now.
        if backlog.take() { await writePending(level: .debug) }
    }

    func writePending(level: Logger.Level) async {
        let (store, logger) = (store, logger)
        do {
            while true {
                let written = try await database.withConnection("writing metadata files", within: .seconds(120)) { connection in
                    try await MetadataRepository(connection: connection, logger: logger).flush(in: store, limit: 200)
                }
                if written == 0 { break }
                logger.event(.metadataWritten, "wrote pending metadata files", metadata: ["count": "\(written)"], level: level)
            }
        } catch {
            backlog.note()
            logger.event(.metadataFailed, "metadata files not written; tried again later", metadata: ["reason": "\(error)"])
        }
    }
}
