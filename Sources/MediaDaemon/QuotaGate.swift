import Foundation
public import MediaCore
public import PostgresNIO
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The storage budget at the door: before a media file is ingested, whether it fits. When it
/// does not, the background collector is asked to make room and the drop waits (`over_budget`
/// is library-wide: every drop waits until GC is done). A file larger than the whole budget is
/// let through, for the ingest to reject (`larger_than_budget`).
public struct QuotaGate: Sendable {
    public let budget: StorageBudget
    public let root: String
    public let collector: BackgroundCollector
    let logger: Logger

    public init(budget: StorageBudget, root: String, collector: BackgroundCollector, logger: Logger) {
        self.budget = budget
        self.root = root
        self.collector = collector
        self.logger = logger
    }

    /// Throws `over_budget` when the file at `path` does not fit now, after asking for a collection.
    public func admit(_ path: String, on connection: PostgresConnection) async throws(MediaError) {
        var info = stat()
        let incoming = stat(path, &info) == 0 ? Int64(info.st_size) : 0
        do {
            try await budget.admit(incoming: incoming, root: root, then: "collecting", on: connection, logger: logger)
        } catch  where error.code == .overBudget {
            let used = try await MaintenanceRepository(connection: connection, logger: logger).usedBytes()
            collector.request(
                target: budget.collectionTarget(incoming: incoming, used: used, free: StorageBudget.freeBytes(atPath: root)))
            throw error
        }
    }
}
