import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where drop-folder events come from: inotify (`DropWatcher`) or scans (`DropPoller`).
public protocol DropEventSource: AnyObject, Sendable {
    var directory: String { get }
    var events: AsyncStream<DropWatcher.Event> { get }
    /// Starts delivering events. Calling it again does nothing.
    func start()
    /// Stops and finishes the stream.
    func stop()
}

extension DropWatcher: DropEventSource {}

/// What one scan of a polled drop folder saw of a file.
public struct ScannedFile: Sendable, Equatable {
    public var size: Int64
    public var modified: Int64  // nanoseconds since the epoch
    public var inode: UInt64

    public init(size: Int64, modified: Int64, inode: UInt64) {
        self.size = size
        self.modified = modified
        self.inode = inode
    }
}

/// The pure part of polling: from one scan to the next, which files to report. A file is
/// reported once consecutive scans have found it unchanged (size, modification time, inode) for
/// at least `settle`, by this machine's clock: the rule inotify applies to a file that appears
/// without a close event (the drop queue's quiet period), since a scan cannot see a close. It
/// is reported again only if it changes and settles anew. Reports come in arrival order: by
/// modification time, then name, as inotify would have delivered them.
public struct DropScanState: Sendable {
    enum Seen: Equatable {
        case settling(ScannedFile, since: ContinuousClock.Instant)
        case reported(ScannedFile)
    }

    public let settle: Duration
    var files: [String: Seen] = [:]

    public init(settle: Duration) {
        self.settle = settle
    }

    /// The state after a first scan whose files count as already reported: the drop service
    /// queues what is there at its start by itself.
    public init(settle: Duration, alreadyReported listing: [String: ScannedFile]) {
        self.settle = settle
        files = listing.mapValues { .reported($0) }
    }

    /// Takes the scan made at `now`; returns the files that are ready now.
    public mutating func update(with listing: [String: ScannedFile], at now: ContinuousClock.Instant) -> [String] {
        var ready: [(String, Int64)] = []
        var next: [String: Seen] = [:]
        for (path, file) in listing {
            switch files[path] {
            case .reported(let previous) where previous == file:
                next[path] = .reported(file)
            case .settling(let previous, let since) where previous == file:
                if now - since >= settle {
                    next[path] = .reported(file)
                    ready.append((path, file.modified))
                } else {
                    next[path] = .settling(file, since: since)
                }
            default:
                // New, or changed since the last scan (still being written, or replaced).
                next[path] = .settling(file, since: now)
            }
        }
        files = next
        return ready.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0)
    }
}

/// Watches the drop folder by scanning it every `interval`: for network and FUSE filesystems,
/// where inotify sees only what this machine writes. It walks the same files as
/// `DropWatcher.existingFiles` (subfolders included, unfinished names ignored) and reports a
/// file as `.fileReady` once it has settled (`DropScanState`), so the drop service then treats
/// it as a file closed after writing (its sidecar grace applies).
public final class DropPoller: DropEventSource {
    public let directory: String
    public let interval: Duration
    public let events: AsyncStream<DropWatcher.Event>
    private let continuation: AsyncStream<DropWatcher.Event>.Continuation
    private let state: Mutex<DropScanState>
    private let started = Mutex(false)
    private let stopping = Mutex(false)
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// Takes the first scan now, so that the drop service's own scan of what is already there
    /// and the poller's later scans leave nothing between them.
    public init(directory: String, interval: Duration, settle: Duration) throws(DropWatchError) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw DropWatchError("cannot create a wake-up pipe: \(DropWatcher.errnoText())") }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            close(ends[0])
            close(ends[1])
            throw DropWatchError("cannot watch \(directory): not a folder")
        }
        self.directory = directory
        self.interval = interval
        wakeRead = ends[0]
        wakeWrite = ends[1]
        state = Mutex(DropScanState(settle: settle, alreadyReported: Self.scan(directory)))
        (events, continuation) = AsyncStream.makeStream(of: DropWatcher.Event.self, bufferingPolicy: .unbounded)
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    public func start() {
        let first = started.withLock { running -> Bool in
            defer { running = true }
            return !running
        }
        guard first else { return }
        let thread = Thread { [self] in self.pollLoop() }
        thread.name = "drop-poller"
        thread.start()
    }

    public func stop() {
        stopping.withLock { $0 = true }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        continuation.finish()
    }

    /// Every file the drop service would take, with what a scan compares.
    static func scan(_ directory: String) -> [String: ScannedFile] {
        var listing: [String: ScannedFile] = [:]
        DropWatcher.forEachFile(under: directory) { path, info in
            listing[path] = ScannedFile(
                size: Int64(info.st_size), modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                inode: UInt64(info.st_ino))
        }
        return listing
    }

    private func pollLoop() {
        let milliseconds = Int32(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        var wake = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
        while !stopping.withLock({ $0 }) {
            let woken = poll(&wake, 1, milliseconds)
            if woken > 0 || stopping.withLock({ $0 }) { break }
            let listing = Self.scan(directory)
            let now = ContinuousClock.now
            let ready = state.withLock { $0.update(with: listing, at: now) }
            for path in ready { continuation.yield(.fileReady(path)) }
        }
        continuation.finish()
    }
}

/// Which filesystems inotify cannot be trusted on: writes made by other machines (NFS, SMB/CIFS,
/// 9P, Ceph, GlusterFS and others through FUSE) produce no events here.
public enum DropFolderFilesystem {
    /// `statfs` magic numbers (linux/magic.h; FUSE's from fs/fuse).
    static let network: [Int: String] = [
        0x6969: "nfs", 0x517B: "smb", 0xFE53_4D42: "smb2", 0xFF53_4D42: "cifs", 0x6573_5546: "fuse",
        0x0102_1997: "9p", 0x00C3_6400: "ceph", 0x5346_414F: "afs", 0x0000_564C: "ncp", 0x0BD0_0BD0: "lustre",
    ]

    /// The network filesystem's name when `path` is on one; nil for a local filesystem.
    public static func networkKind(of path: String) -> String? {
        guard let type = filesystemType(of: path) else { return nil }
        return network[type]
    }

    /// `statfs(2)`'s `f_type`. Swift's Glibc module does not import `statfs`, so it is looked
    /// up at run time; `f_type` is the structure's first field (`__fsword_t`) on Linux.
    public static func filesystemType(of path: String) -> Int? {
        guard let statfsFunction else { return nil }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
        defer { buffer.deallocate() }
        guard statfsFunction(path, buffer) == 0 else { return nil }
        return Int(UInt32(truncatingIfNeeded: buffer.load(as: Int.self)))
    }

    private typealias StatFS = @convention(c) (UnsafePointer<CChar>, UnsafeMutableRawPointer) -> Int32

    nonisolated(unsafe) private static let statfsFunction: StatFS? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "statfs") else { return nil }
        return unsafeBitCast(symbol, to: StatFS.self)
    }()
}
