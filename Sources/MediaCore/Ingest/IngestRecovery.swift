import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Finishes what a crashed ingest left: files it placed without committing their rows, and its
/// temporary files. Only the leftovers of processes that no longer run (or of any process, a
/// day on) are touched, so a concurrent ingest in another process is never disturbed.
public struct IngestRecovery: Sendable {
    public let store: ContentStore
    public let logger: Logger
    /// Intents older than this are recovered even when their process id is alive again (reused).
    public static let abandonedAfter: Duration = .seconds(86_400)

    public init(root: String, logger: Logger) {
        self.store = ContentStore(root: root)
        self.logger = logger
    }

    public struct Report: Sendable, Equatable {
        /// Assets whose collection by GC a crash interrupted, now finished.
        public var collectedAssets: [Int64] = []
        public var removedFiles: [String] = []
        public var keptFiles: [String] = []
        public var removedTemporaries: [String] = []
        /// Originals an interrupted optimisation had replaced already: their rows now say so.
        public var replacedOriginals: [String] = []
        /// Originals an interrupted optimisation had not replaced yet: left as they were.
        public var keptOriginals: [String] = []
    }

    /// - Parameter ownWorkIsOver: this process has stopped ingesting (a daemon at its end): its
    ///   own intents and temporary files, left by a drop it gave up on, are leftovers too.
    public func run(on connection: PostgresConnection, ownWorkIsOver: Bool = false) async throws(MediaError) -> Report {
        let isLeftover = Self.leftovers(includingOwn: ownWorkIsOver)
        var report = Report()
        let repository = MaintenanceRepository(connection: connection, logger: logger)
        var done: [String] = []
        for intent in try await repository.intents(.create, abandonedAfter: Self.abandonedAfter)
        where intent.abandoned || isLeftover(intent.ownerPid) {
            if intent.recorded {
                report.keptFiles.append(intent.path)
            } else {
                try? store.remove(intent.path)
                report.removedFiles.append(intent.path)
            }
            done.append(intent.path)
        }
        if !done.isEmpty {
            try await AssetRepository(connection: connection, logger: logger).forgetIntents(done)
            logger.event(
                .recovered,
                "recovered an interrupted ingest",
                metadata: [
                    "removed": "\(report.removedFiles.count)", "kept": "\(report.keptFiles.count)",
                ])
        }
        try await finishCollections(with: repository, isLeftover: isLeftover, into: &report)
        try await finishReplacements(on: connection, isLeftover: isLeftover, into: &report)
        // Temporary files are named "<pid>-…": those of dead processes are leftovers.
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: store.temporaryDirectory)) ?? []
        for name in entries {
            guard let pid = name.split(separator: "-").first.flatMap({ Int($0) }), isLeftover(pid) else { continue }
            unlink(store.temporaryDirectory + "/" + name)
            report.removedTemporaries.append(name)
        }
        return report
    }

    /// The `replace` intents of this process and of processes that no longer run, finished as
    /// at an open. For a process that optimises one original at a time (`mediad`'s background
    /// optimiser) between two of them: a database failure after a rename left its intent, and
    /// waiting for the next start would leave the row behind the file until then.
    public func finishReplacementsBetweenOwnOptimisations(on connection: PostgresConnection) async throws(MediaError) -> Report {
        var report = Report()
        try await finishReplacements(on: connection, isLeftover: Self.leftovers(includingOwn: true), into: &report)
        return report
    }

    /// Whether an intent or temporary file of process `pid` is a leftover: its process no
    /// longer runs, or, with `includingOwn`, it is this process's, whose work is over.
    private static func leftovers(includingOwn: Bool) -> @Sendable (Int?) -> Bool {
        let me = Int(getpid())
        return { pid in !isAlive(pid) || (includingOwn && pid == me) }
    }

    /// GC marked these assets `deleting` and may have removed some of their files: remove the
    /// rest (originals first), then the rows and intents (see `GarbageCollector`).
    private func finishCollections(
        with repository: MaintenanceRepository, isLeftover: (Int?) -> Bool, into report: inout Report
    ) async throws(MediaError) {
        var paths: [String] = []
        var assets: Set<Int64> = []
        for intent in try await repository.intents(.delete, abandonedAfter: Self.abandonedAfter)
        where intent.abandoned || isLeftover(intent.ownerPid) {
            paths.append(intent.path)
            if let asset = intent.assetId { assets.insert(asset) }
        }
        guard !paths.isEmpty else { return }
        for path in paths.sorted(by: { $0.contains("/original/") && !$1.contains("/original/") }) {
            try? store.remove(path)
        }
        try await repository.forgetCollected(assets: Array(assets), paths: paths)
        report.collectedAssets = assets.sorted()
        logger.event(.recovered, "finished an interrupted collection", metadata: ["assets": "\(assets.count)"])
    }

    /// An optimisation recorded a `replace` intent and may have renamed its copy over the
    /// original: the file at the path tells which. The copy's hash there means the rename
    /// happened, and the row takes the stored facts; anything else means it did not, and the row
    /// stays. The temporary copy goes either way, then the intent (see `OriginalOptimization`).
    private func finishReplacements(
        on connection: PostgresConnection, isLeftover: (Int?) -> Bool, into report: inout Report
    ) async throws(MediaError) {
        let repository = OptimizationRepository(connection: connection, logger: logger)
        for intent in try await repository.replaceIntents(abandonedAfter: Self.abandonedAfter)
        where intent.abandoned || isLeftover(intent.ownerPid) {
            let replacement = intent.replacement
            let found = try? ContentStore.sha256(ofFileAt: store.absolute(replacement.path))
            let renamed = found != nil && found == replacement.sha256
            if !replacement.temporaryPath.isEmpty { try? store.remove(replacement.temporaryPath) }
            try await repository.finishInterrupted(replacement, renamed: renamed)
            if renamed { report.replacedOriginals.append(replacement.path) } else { report.keptOriginals.append(replacement.path) }
            logger.event(
                .recovered, "finished an interrupted optimisation",
                metadata: ["path": "\(replacement.path)", "replaced": "\(renamed)"])
        }
    }

    static func isAlive(_ pid: Int?) -> Bool {
        guard let pid, pid > 0 else { return false }
        return kill(pid_t(pid), 0) == 0 || errno == EPERM
    }
}
