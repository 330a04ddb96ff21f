import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The receiving end of sd_notify, as systemd binds it for a unit: a unix datagram socket.
/// For the tests and the benchmark, which start `mediad` with `NOTIFY_SOCKET` pointing here.
public final class NotifyReceiver {
    public struct BindFailure: Error, CustomStringConvertible {
        public let description: String
    }

    public let path: String
    private let fd: Int32
    private var closed = false

    public init(path: String) throws(BindFailure) {
        self.path = path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw BindFailure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: Array(path.utf8).prefix(buffer.count - 1))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw BindFailure(description: "cannot bind \(path): \(reason)")
        }
        self.fd = fd
    }

    deinit { close() }

    /// Datagrams until one satisfies `predicate`, which is returned; nil after `timeout` seconds.
    public func receive(until predicate: (String) -> Bool, timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = String(decoding: buffer[0..<count], as: UTF8.self)
            if predicate(message) { return message }
        }
        return nil
    }

    public func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
        unlink(path)
    }
}
