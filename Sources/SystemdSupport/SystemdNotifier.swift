import CSystemd
import Foundation

/// Talks to the service manager through `NOTIFY_SOCKET` (sd_notify(3)). Without the variable,
/// as when run by hand, every call does nothing.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Whether a service manager listens.
    public var isActive: Bool { ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil }

    /// Sends `KEY=value` lines; returns false when the socket exists but the send failed.
    @discardableResult
    public func notify(_ assignments: [(String, String)]) -> Bool {
        let text = assignments.map { "\($0.0)=\($0.1.replacingOccurrences(of: "\n", with: " "))" }
            .joined(separator: "\n")
        return sd_notify(0, text) >= 0
    }

    @discardableResult
    public func ready(status: String) -> Bool {
        notify([("READY", "1"), ("STATUS", status), ("MAINPID", String(getpid()))])
    }

    @discardableResult
    public func status(_ text: String) -> Bool { notify([("STATUS", text)]) }

    @discardableResult
    public func stopping(status: String) -> Bool { notify([("STOPPING", "1"), ("STATUS", status)]) }
}
