import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// `mediaq rebase`: the library's files moved (a new mount point, a copied drive). Paths in
/// rows are relative to the root, so only the library row changes: its root and its version.
public struct LibraryRebase: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger
    /// How many originals are read back and checked against their SHA-256.
    public var sampleSize = 20

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public struct Report: Sendable, Encodable, Equatable {
        public let libraryId: String
        public let from: String
        public let to: String
        public let previousVersion: Int
        public let rootVersion: Int
        public let verifiedFiles: Int
        /// The library was already recorded at `to`: nothing was changed.
        public let alreadyThere: Bool
        public let dryRun: Bool
    }

    public func run(from: String, to: String, dryRun: Bool) async throws(MediaError) -> Report {
        let to = LibraryOpener.canonical(to)
        let recorded: (id: UUID, root: String, version: Int)
        do {
            guard let row = try await DatabaseAccess.libraryRow(connection: connection, logger: logger) else {
                throw MediaError(.rebaseRefused, "the database holds no library yet; there is nothing to rebase")
            }
            recorded = row
        } catch let error as MediaError {
            throw error
        } catch {
            throw DatabaseFailure.translate(error, "cannot read the library row")
        }
        let newRoot = LibraryRoot(path: to)
        let marker: LibraryRoot.LibraryMarker
        switch try newRoot.inspect() {
        case .marked(let found): marker = found
        default:
            throw MediaError(
                .rebaseRefused,
                "\(to) holds no library marker (\(LibraryRoot.markerName)); is the drive mounted and the folder right? Nothing was changed")
        }
        guard marker.libraryId == recorded.id else {
            throw MediaError(
                .rebaseRefused,
                "\(to) holds library \(marker.libraryId.lowercased), but the database holds library \(recorded.id.lowercased); nothing was changed"
            )
        }
        if recorded.root == to {
            // Idempotent: a second run (or a run after the daemon was pointed at `to`) changes nothing.
            return Report(
                libraryId: recorded.id.lowercased, from: from, to: to, previousVersion: recorded.version,
                rootVersion: recorded.version, verifiedFiles: 0, alreadyThere: true, dryRun: dryRun)
        }
        let fromCanonical = LibraryOpener.canonical(LibraryConfiguration.absolute(from, in: "/"))
        guard recorded.root == from || recorded.root == fromCanonical else {
            throw MediaError(
                .rebaseRefused,
                "the library is recorded at \(recorded.root), not \(from); run `mediaq rebase --from \(recorded.root) --to \(to)`")
        }
        let verified = try await verifySample(root: newRoot, recordedRoot: recorded.root, markLost: !dryRun)
        if dryRun {
            return Report(
                libraryId: recorded.id.lowercased, from: recorded.root, to: to, previousVersion: recorded.version,
                rootVersion: recorded.version + 1, verifiedFiles: verified, alreadyThere: false, dryRun: true)
        }
        let repository = MaintenanceRepository(connection: connection, logger: logger)
        guard let version = try await repository.moveRoot(from: recorded.root, to: to, verifiedFiles: verified) else {
            throw MediaError(.rebaseRefused, "the library row changed while rebase ran; run it again")
        }
        logger.event(
            .rebased,
            "library rebased",
            metadata: [
                "from": "\(recorded.root)", "to": "\(to)", "rootVersion": "\(version)",
            ])
        return Report(
            libraryId: recorded.id.lowercased, from: recorded.root, to: to, previousVersion: recorded.version,
            rootVersion: version, verifiedFiles: verified, alreadyThere: false, dryRun: false)
    }

    /// Reads a random sample of originals under the new root and checks each against its name.
    /// One missing under the new root and under the recorded root too is lost, not a sign of
    /// the wrong folder: it is marked lost and the sample goes on; at least one must match.
    private func verifySample(root: LibraryRoot, recordedRoot: String, markLost: Bool) async throws(MediaError) -> Int {
        let sample = try await MaintenanceRepository(connection: connection, logger: logger).randomOriginals(sampleSize)
        var verified = 0
        var lost: [Int64] = []
        for (id, path, sha) in sample {
            let absolute = root.path + "/" + path
            let found: String
            do {
                found = try ContentStore.sha256(ofFileAt: absolute)
            } catch {
                var info = stat()
                if stat(recordedRoot + "/" + path, &info) != 0 && errno == ENOENT {
                    lost.append(id)
                    continue
                }
                throw MediaError(.rebaseRefused, "\(absolute) is missing or unreadable under the new root; nothing was changed")
            }
            guard found == sha else {
                throw MediaError(
                    .rebaseRefused, "\(absolute) does not match its checksum (\(found.prefix(12)) ≠ \(sha.prefix(12))); nothing was changed"
                )
            }
            verified += 1
        }
        if verified == 0 && !lost.isEmpty {
            throw MediaError(
                .rebaseRefused, "none of the \(lost.count) originals sampled is under the new root or the old one; nothing was changed")
        }
        if markLost && !lost.isEmpty { try await AssetRepository(connection: connection, logger: logger).markLost(lost) }
        return verified
    }
}
