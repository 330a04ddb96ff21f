import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket bound where journald's native socket lives, collecting what clients send
/// there, on a thread of its own: a unix datagram queue holds only a few datagrams
/// (`net.unix.max_dgram_qlen`), and a sender blocks while it is full.
final class FakeJournald: Sendable {
    static let socketPath = "/run/systemd/journal/socket"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether a journald (or anything else) listens on its socket already: then the tests
    /// that need the socket for themselves cannot run.
    static var realJournaldListens: Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return withAddress(socketPath) { connect(fd, $0, $1) } == 0
    }

    private let fd: Int32
    /// Folders made for the socket, to remove afterwards, innermost first.
    private let madeFolders: [String]
    private let received = Mutex<[[UInt8]]>([])
    private let stopRequested = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)

    init() throws {
        var made: [String] = []
        for folder in ["/run/systemd", "/run/systemd/journal"] where !FileManager.default.fileExists(atPath: folder) {
            guard mkdir(folder, 0o755) == 0 else { throw Failure(description: "cannot create \(folder): \(Self.lastError)") }
            made.insert(folder, at: 0)
        }
        // A socket file nobody listens on is left from an earlier run.
        if FileManager.default.fileExists(atPath: Self.socketPath) {
            guard !Self.realJournaldListens else { throw Failure(description: "a journald listens on \(Self.socketPath)") }
            unlink(Self.socketPath)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(Self.lastError)") }
        guard Self.withAddress(Self.socketPath, { bind(fd, $0, $1) }) == 0 else {
            let error = Self.lastError
            close(fd)
            throw Failure(description: "cannot bind \(Self.socketPath): \(error)")
        }
        self.fd = fd
        self.madeFolders = made
        let thread = Thread { [self] in self.receiveUntilStopped() }
        thread.name = "fake-journald"
        thread.start()
    }

    /// Stops receiving once nothing more is queued (the senders have ended), and returns each
    /// datagram received, the content of a passed memfd in place of its (empty) datagram.
    func stop() async -> [[UInt8]] {
        stopRequested.store(true, ordering: .releasing)
        while !finished.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return received.withLock { $0 }
    }

    /// Closes the socket but leaves its file, as a journald that died would. Call after `stop()`.
    func closeSocket() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) { close(fd) }
    }

    /// Closes and removes the socket, and the folders made for it. Call after `stop()`.
    func remove() {
        closeSocket()
        unlink(Self.socketPath)
        for folder in madeFolders { rmdir(folder) }
    }

    private func receiveUntilStopped() {
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 20)
            if ready > 0 {
                if let datagram = receiveOne() { received.withLock { $0.append(datagram) } }
            } else if ready == 0 && stopRequested.load(ordering: .acquiring) {
                // Nothing queued after the stop: everything sent before it has been read.
                finished.store(true, ordering: .releasing)
                return
            } else if ready < 0 && errno != EINTR {
                finished.store(true, ordering: .releasing)
                return
            }
        }
    }

    /// One datagram; a file descriptor passed with it (libsystemd's way for entries too large
    /// for a datagram: a sealed memfd) is read in its place.
    private func receiveOne() -> [UInt8]? {
        var payload = [UInt8](repeating: 0, count: 1 << 20)
        var control = [UInt8](repeating: 0, count: 256)
        let (count, passed, truncated): (Int, Int32?, Bool) = payload.withUnsafeMutableBytes { payloadBytes in
            control.withUnsafeMutableBytes { controlBytes in
                var vector = iovec(iov_base: payloadBytes.baseAddress, iov_len: payloadBytes.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBytes.baseAddress
                    message.msg_controllen = controlBytes.count
                    let count = recvmsg(fd, &message, Int32(MSG_DONTWAIT) | Int32(MSG_CMSG_CLOEXEC))
                    var passed: Int32?
                    // The first control message, if any: cmsghdr, then its data (CMSG_DATA).
                    let headerSize = MemoryLayout<cmsghdr>.stride
                    if count >= 0, message.msg_controllen >= headerSize + MemoryLayout<Int32>.size {
                        let header = controlBytes.load(as: cmsghdr.self)
                        if header.cmsg_level == SOL_SOCKET, header.cmsg_type == Int32(SCM_RIGHTS) {
                            passed = controlBytes.loadUnaligned(fromByteOffset: headerSize, as: Int32.self)
                        }
                    }
                    return (count, passed, message.msg_flags & Int32(MSG_TRUNC) != 0)
                }
            }
        }
        guard count >= 0 else { return nil }
        if let passed {
            defer { close(passed) }
            return Self.readAll(passed)
        }
        // Larger than the buffer: kept as something the parser refuses, so the test fails.
        return truncated ? Array("datagram truncated".utf8) : Array(payload[0..<count])
    }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count <= 0 { return bytes }
            bytes += chunk[0..<count]
            offset += off_t(count)
        }
    }

    private static var lastError: String { String(cString: strerror(errno)) }

    private static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            for (index, byte) in bytes.enumerated() where index < sunPath.count - 1 { sunPath[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}

/// journald's native protocol (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/): each field is
/// `NAME=value\n`, or, for a value that may hold a newline, `NAME\n`, its length as a 64-bit
/// little-endian integer, the bytes, and `\n`.
enum NativeJournalEntry {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The fields of one entry, each name with its values in order (a field may repeat).
    static func parse(_ data: [UInt8]) throws -> [String: [String]] {
        var fields: [String: [String]] = [:]
        var index = 0
        while index < data.count {
            guard let end = data[index...].firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\n") }) else {
                throw Malformed(description: "a field name without = or newline at byte \(index)")
            }
            let name = String(decoding: data[index..<end], as: UTF8.self)
            let value: ArraySlice<UInt8>
            if data[end] == UInt8(ascii: "=") {
                guard let newline = data[(end + 1)...].firstIndex(of: UInt8(ascii: "\n")) else {
                    throw Malformed(description: "\(name): no newline after the value")
                }
                value = data[(end + 1)..<newline]
                index = newline + 1
            } else {
                guard end + 9 <= data.count else { throw Malformed(description: "\(name): no length") }
                var length: UInt64 = 0
                for (shift, byte) in data[(end + 1)..<(end + 9)].enumerated() { length |= UInt64(byte) << (8 * UInt64(shift)) }
                let start = end + 9
                guard length < UInt64(data.count), start + Int(length) < data.count,
                    data[start + Int(length)] == UInt8(ascii: "\n")
                else { throw Malformed(description: "\(name): length \(length) does not fit the entry") }
                value = data[start..<(start + Int(length))]
                index = start + Int(length) + 1
            }
            fields[name, default: []].append(String(decoding: value, as: UTF8.self))
        }
        return fields
    }
}
