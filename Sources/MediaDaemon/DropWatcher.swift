import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Watches the drop folder and its subfolders (including ones created later) with inotify and
/// reports files that are complete: closed after writing (`IN_CLOSE_WRITE`) or renamed in
/// (`IN_MOVED_TO`). Names that writers use while a file is unfinished are not reported.
///
/// A dedicated thread blocks in `poll()` on the inotify descriptor and a wake-up pipe; events
/// reach the caller through `events`. On `IN_Q_OVERFLOW` the kernel dropped events: the
/// stream says `.overflow`, and the caller rescans with `existingFiles(under:)`.
public final class DropWatcher: Sendable {
    public enum Event: Sendable, Equatable {
        /// An absolute path to a file that may be complete: closed after writing, or renamed in.
        case fileReady(String)
        /// A file that appeared by other means, such as a hard link made into the folder (how
        /// Foundation's atomic write works on Linux: an unnamed file, linked in when complete).
        /// No close event may follow, so the caller waits until the file has been quiet a while.
        case fileCreated(String)
        /// Events were lost: rescan.
        case overflow
    }

    public let directory: String
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let inotify: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let watches = Mutex<[Int32: String]>([:])
    private let started = Mutex(false)

    static let directoryMask = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE) | UInt32(IN_ONLYDIR)

    /// Sets up the watches (so nothing written from now on is missed) without reading events yet.
    public init(directory: String) throws(DropWatchError) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw DropWatchError("cannot start inotify: \(Self.errnoText())") }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            close(fd)
            throw DropWatchError("cannot create a wake-up pipe: \(Self.errnoText())")
        }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        self.directory = directory
        self.inotify = fd
        self.wakeRead = ends[0]
        self.wakeWrite = ends[1]
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        do {
            try watchTree(directory, reportFiles: false)
        } catch {
            close(fd)
            close(ends[0])
            close(ends[1])
            throw error
        }
    }

    deinit {
        close(inotify)
        close(wakeRead)
        close(wakeWrite)
    }

    /// Starts the reading thread. Calling it again does nothing.
    public func start() {
        let first = started.withLock { running -> Bool in
            defer { running = true }
            return !running
        }
        guard first else { return }
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "drop-watcher"
        thread.start()
    }

    /// Stops the thread and finishes the stream.
    public func stop() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        continuation.finish()
    }

    /// Whether a writer is still busy with a file of this name, or the name is the library's own.
    public static func isIgnored(name: String) -> Bool {
        if name.hasPrefix(".") { return true }
        let lowered = name.lowercased()
        return [".part", ".tmp", ".crdownload", ".download"].contains { lowered.hasSuffix($0) }
    }

    /// Every file under `directory` that is not ignored, in hidden-free subfolders, sorted.
    public static func existingFiles(under directory: String) -> [String] {
        var found: [String] = []
        forEachFile(under: directory) { path, _ in found.append(path) }
        return found.sorted()
    }

    /// Calls `body` with every file under `directory` that is not ignored, in hidden-free
    /// subfolders, and the `lstat` that found it: the one walk the start-up scan and the
    /// poller share.
    static func forEachFile(under directory: String, _ body: (String, stat) -> Void) {
        var pending = [directory]
        while let folder = pending.popLast() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names where !isIgnored(name: name) {
                let path = folder + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: pending.append(path)
                case S_IFREG: body(path, info)
                default: continue
                }
            }
        }
    }

    // MARK: - Watching

    private func watchTree(_ root: String, reportFiles: Bool) throws(DropWatchError) {
        var pending = [root]
        while let folder = pending.popLast() {
            let wd = inotify_add_watch(inotify, folder, Self.directoryMask)
            guard wd >= 0 else {
                if folder == root && root == directory {
                    throw DropWatchError("cannot watch \(folder): \(Self.errnoText())")
                }
                continue  // a subfolder that vanished meanwhile
            }
            watches.withLock { $0[wd] = folder }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names where !Self.isIgnored(name: name) {
                let path = folder + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    pending.append(path)
                } else if reportFiles && (info.st_mode & S_IFMT) == S_IFREG {
                    // Made before the new folder's watch existed: report it, or it is missed. As
                    // created, not ready: it may still be being written in place (its close then
                    // comes as an event of the new watch); otherwise it is taken once unchanged
                    // for the quiet period. Taken at once, a file ffmpeg was still writing was
                    // moved into the library under the writer and counted twice (CI, 2026-12-06).
                    continuation.yield(.fileCreated(path))
                }
            }
        }
    }

    private func readLoop() {
        let bufferSize = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        var descriptors = [
            pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if descriptors[1].revents != 0 { break }
            let count = read(inotify, buffer, bufferSize)
            if count <= 0 { continue }
            parse(buffer, count: count)
        }
        continuation.finish()
    }

    private func parse(_ buffer: UnsafeMutableRawPointer, count: Int) {
        let header = MemoryLayout<inotify_event>.size
        var offset = 0
        while offset + header <= count {
            let event = buffer.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
            // `char name[]` is not imported: the NUL-padded name follows the header.
            let name =
                event.len > 0
                ? String(cString: (buffer + offset + header).assumingMemoryBound(to: CChar.self)) : ""
            offset += header + Int(event.len)
            handle(event, name: name)
        }
    }

    private func handle(_ event: inotify_event, name: String) {
        let mask = event.mask
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            continuation.yield(.overflow)
            return
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            _ = watches.withLock { $0.removeValue(forKey: event.wd) }
            return
        }
        guard !name.isEmpty, !Self.isIgnored(name: name),
            let folder = watches.withLock({ $0[event.wd] })
        else { return }
        let path = folder + "/" + name
        if mask & UInt32(IN_ISDIR) != 0 {
            if mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
                try? watchTree(path, reportFiles: true)
            }
            return
        }
        if mask & (UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO)) != 0 {
            continuation.yield(.fileReady(path))
        } else if mask & UInt32(IN_CREATE) != 0 {
            continuation.yield(.fileCreated(path))
        }
    }

    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code)).lowercased()
    }
}

public struct DropWatchError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
