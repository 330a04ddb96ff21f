import MediaCore
import Synchronization

/// Asset id → its recorded files, kept after the first request: thumbnails are asked for by the
/// hundred per page, and a row read per request would bound their rate by the database's round
/// trip. Every request still checks the file on disk, so a removed or lost original is a 404 at
/// once. An original can be replaced under its id by its optimised copy (`mediaq optimize`),
/// which changes its stored hash, the ETag: the entry remembers the original's inode when the row
/// was read, and a request that finds another inode there reads the row again (a replacement is
/// a rename, so a new inode). Only `present` rows are kept; a full cache starts again rather
/// than tracking age.
final class FileRowCache: Sendable {
    struct Entry: Sendable {
        let files: AssetFiles
        /// The original's inode when `files` was read; nil when it could not be examined.
        let originalInode: UInt64?
    }

    private let rows = Mutex<[Int64: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    func get(_ id: Int64) -> Entry? {
        rows.withLock { $0[id] }
    }

    func put(_ files: AssetFiles, originalInode: UInt64?) {
        guard files.state == "present", files.thumbnailPath != nil else { return }
        rows.withLock { rows in
            if rows.count >= capacity { rows.removeAll(keepingCapacity: true) }
            rows[files.id] = Entry(files: files, originalInode: originalInode)
        }
    }
}
