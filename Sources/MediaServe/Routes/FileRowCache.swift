import MediaCore
import Synchronization

/// Asset id → its recorded files, kept after the first request: thumbnails are asked for by the
/// hundred per page, and a row read per request would bound their rate by the database's round
/// trip. Safe to keep: under one id the content never changes (ids are never reused), and every
/// request still checks the file on disk, so a removed or lost original is a 404 at once. Only
/// `present` rows are kept; a full cache starts again rather than tracking age.
final class FileRowCache: Sendable {
    private let rows = Mutex<[Int64: AssetFiles]>([:])
    let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    func get(_ id: Int64) -> AssetFiles? {
        rows.withLock { $0[id] }
    }

    func put(_ files: AssetFiles) {
        guard files.state == "present", files.thumbnailPath != nil else { return }
        rows.withLock { rows in
            if rows.count >= capacity { rows.removeAll(keepingCapacity: true) }
            rows[files.id] = files
        }
    }
}
