public import Logging
public import MediaCore
public import ServiceLifecycle

/// Writes the metadata files whose rows changed without their file following: the assets of
/// a library upgraded to metadata files, the leftovers of a process that crashed between its
/// commit and its write (both found when the library opened), and the files an ingest could
/// not write (each ingest writes its own at once). It looks every `interval`, and leases a
/// connection only when the backlog says there is something to write; it writes in batches,
/// so that readiness and drops never wait for it.
public struct MetadataWriter: Service {
    let database: ConnectionPool
    let store: ContentStore
    let backlog: MetadataBacklog
    let interval: Duration
    let logger: Logger

    public init(
        database: ConnectionPool, root: String, backlog: MetadataBacklog, interval: Duration = .seconds(30), logger: Logger
    ) {
        self.database = database
        self.store = ContentStore(root: root)
        self.backlog = backlog
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        while !(Task.isCancelled || Task.isShuttingDownGracefully) {
            if backlog.take() { await writePending() }
            // Steps of a second: a cancelled long sleep holds its timer until its time (see Deadline.swift).
            let end = ContinuousClock.now + interval
            while ContinuousClock.now < end, !(Task.isCancelled || Task.isShuttingDownGracefully) {
                try? await Task.sleep(for: min(.seconds(1), end - ContinuousClock.now))
            }
        }
    }

    func writePending() async {
        let (store, logger) = (store, logger)
        do {
            while !(Task.isCancelled || Task.isShuttingDownGracefully) {
                let written = try await database.withConnection("writing metadata files", within: .seconds(120)) { connection in
                    try await MetadataRepository(connection: connection, logger: logger).flush(in: store, limit: 200)
                }
                if written == 0 { break }
                logger.event(.metadataWritten, "wrote pending metadata files", metadata: ["count": "\(written)"], level: .info)
            }
        } catch {
            backlog.note()
            logger.event(.metadataFailed, "metadata files not written; tried again later", metadata: ["reason": "\(error)"])
        }
    }
}
