import Foundation
public import Logging
public import PostgresNIO

/// `mediaq reindex`: rebuilds the rows from the library's files, after a database was lost,
/// or restored from an older backup. Every original is adopted (`OriginalAdopter`): recorded
/// from its bytes and its metadata file when it has no row, brought in line with its metadata
/// file when it has one. Each original is its own transaction, so a run killed at any point
/// leaves whole assets only, and the next run goes on where it stopped (recorded originals are
/// only compared, not read). Nothing is deleted.
public struct LibraryReindex: Sendable {
    let adopter: OriginalAdopter
    let logger: Logger
    /// A pause after each original, for tests that kill a run part-way (`MEDIAQ_REINDEX_PAUSE_MS`).
    public var pauseAfterEach: Duration?

    public init(root: String, decoder: any MediaDecoder, logger: Logger, readsFileKeywords: Bool = true) {
        self.adopter = OriginalAdopter(root: root, decoder: decoder, logger: logger, readsFileKeywords: readsFileKeywords)
        self.logger = logger
    }

    public struct Problem: Sendable, Encodable, Equatable {
        public let path: String
        public let code: String
        public let detail: String
    }

    public struct Report: Sendable, Encodable {
        public var originals = 0
        /// Recorded from their bytes now, with their metadata file's tags and sources.
        public var adopted = 0
        /// Of those, recorded without a metadata file: provider `unknown`, tags only from the
        /// keywords written into the file.
        public var adoptedWithoutMetadata = 0
        /// Recorded already; their rows changed to match their metadata file.
        public var updated = 0
        public var unchanged = 0
        /// Metadata files the rows had not caught up with, written before the walk.
        public var metadataWritten = 0
        /// Blocks read from `blocked.json` that the database lacked (`mediaq block`).
        public var blocksRestored = 0
        /// Aliases read from `aliases.json` that the database lacked (`mediaq tags alias`).
        public var aliasesRestored = 0
        /// Originals left as they are (corrupt bytes, unreadable metadata, undecodable).
        public var problems: [Problem] = []
        public var seconds = 0.0
    }

    public func run(
        on connection: PostgresConnection, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws(MediaError) -> Report {
        let started = ContinuousClock.now
        var report = Report()
        let store = adopter.store
        // Rows changed since their files were last written go to the files first: the files
        // are then what the walk compares with, and never older than the rows.
        report.metadataWritten = try await MetadataRepository(connection: connection, logger: logger).flushAll(in: store)
        // Blocked content first: an ingest racing the walk must already refuse it.
        let blocks = BlockRepository(connection: connection, logger: logger)
        do {
            report.blocksRestored = try await blocks.insert(try BlockList.read(root: store.root).entries)
        } catch  where error.code == .badMetadataFile {
            report.problems.append(.init(path: BlockList.fileName, code: error.code.name, detail: error.message))
        }
        let relations = TagRelationRepository(connection: connection, logger: logger)
        do {
            report.aliasesRestored = try await relations.insertAliases(try AliasList.read(root: store.root).aliases)
        } catch  where error.code == .badMetadataFile {
            report.problems.append(.init(path: AliasList.fileName, code: error.code.name, detail: error.message))
        }
        let busy = try await MaintenanceRepository(connection: connection, logger: logger).intentPaths()
        let originals = ["images", "videos"].flatMap { LibraryDoctor.files(under: store.root, $0 + "/original") }
            .filter { !busy.contains($0) && !($0 as NSString).lastPathComponent.hasPrefix(".") }
            .sorted()
        report.originals = originals.count
        for (index, relative) in originals.enumerated() {
            if index % 20 == 0 { progress(index, originals.count) }
            // Metadata files in batches: a kill loses at most this many files' writes (their marks stay).
            if index % 200 == 199 { await adopter.writePendingMetadata(on: connection) }
            if let pause = pauseAfterEach, index > 0 { try? await Task.sleep(for: pause) }
            switch try await adopter.adopt(relative, on: connection) {
            case .adopted(_, let withMetadata):
                report.adopted += 1
                if !withMetadata { report.adoptedWithoutMetadata += 1 }
            case .updated: report.updated += 1
            case .unchanged: report.unchanged += 1
            case .corrupt(let detail):
                report.problems.append(.init(path: relative, code: "checksum_mismatch", detail: detail))
            case .skipped(let code, let detail):
                report.problems.append(.init(path: relative, code: code, detail: detail))
            }
        }
        await adopter.writePendingMetadata(on: connection)
        await blocks.writeList(root: store.root)
        await relations.writeAliasList(root: store.root)
        progress(originals.count, originals.count)
        report.seconds = (ContinuousClock.now - started) / .seconds(1)
        return report
    }
}
