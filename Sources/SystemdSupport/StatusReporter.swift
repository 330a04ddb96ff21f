import Foundation
import Synchronization

/// Sends STATUS= to the service manager from a thread of its own, coalescing updates: the
/// work loop only records the newest text. sd_notify blocks while the manager's socket queue is
/// full, and that must never stall the daemon's work; at most a few updates a second are sent.
public final class StatusReporter: Sendable {
    private let notifier: SystemdNotifier
    private let state = Mutex<(latest: String?, sent: String?, stopped: Bool)>((nil, nil, false))
    private let interval: Duration

    public init(notifier: SystemdNotifier, interval: Duration = .milliseconds(250)) {
        self.notifier = notifier
        self.interval = interval
        guard notifier.isActive else { return }
        let thread = Thread { [self] in self.loop() }
        thread.name = "status-reporter"
        thread.start()
    }

    /// Records the newest status; it is sent shortly.
    public func update(_ status: String) {
        state.withLock { $0.latest = status }
    }

    public func stop() {
        state.withLock { $0.stopped = true }
    }

    private func loop() {
        let microseconds = useconds_t(interval.components.attoseconds / 1_000_000_000_000
            + interval.components.seconds * 1_000_000)
        while true {
            let (text, stopped) = state.withLock { current -> (String?, Bool) in
                guard let latest = current.latest, latest != current.sent else { return (nil, current.stopped) }
                current.sent = latest
                return (latest, current.stopped)
            }
            if let text { notifier.status(text) }
            if stopped { return }
            usleep(microseconds)
        }
    }
}
