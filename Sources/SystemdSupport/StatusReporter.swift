import Foundation
import Synchronization

/// Sends STATUS= to the service manager from a thread of its own, coalescing updates: the
/// work loop only records the newest text. sd_notify blocks while the manager's socket queue is
/// full, and that must never stall the daemon's work; at most a few updates a second are sent.
public final class StatusReporter: Sendable {
    private let notifier: SystemdNotifier
    private let state = Mutex<(latest: String?, sent: String?, kept: [String], stopped: Bool)>((nil, nil, [], false))
    private let interval: Duration

    public init(notifier: SystemdNotifier, interval: Duration = .milliseconds(250)) {
        self.notifier = notifier
        self.interval = interval
        guard notifier.isActive else { return }
        let thread = Thread { [self] in self.loop() }
        thread.name = "status-reporter"
        thread.start()
    }

    /// Records the newest status; it is sent shortly. A `mustShow` status is sent even when a
    /// newer one replaces it first: a pause ("waiting: …") that ends within the interval is
    /// still reported.
    public func update(_ status: String, mustShow: Bool = false) {
        state.withLock {
            $0.latest = status
            if mustShow && $0.kept.last != status { $0.kept.append(status) }
        }
    }

    public func stop() {
        state.withLock { $0.stopped = true }
    }

    private func loop() {
        let microseconds = useconds_t(
            interval.components.attoseconds / 1_000_000_000_000
                + interval.components.seconds * 1_000_000)
        while true {
            let (texts, stopped) = state.withLock { current -> ([String], Bool) in
                var texts = current.kept.filter { $0 != current.latest }
                current.kept.removeAll()
                if let latest = current.latest, latest != current.sent {
                    texts.append(latest)
                    current.sent = latest
                }
                return (texts, current.stopped)
            }
            for text in texts where !notifier.status(text) {
                // Not delivered (a send that timed out on a full queue): the newest is sent again
                // next time round, so the manager never keeps a stale status.
                state.withLock { if $0.sent == text { $0.sent = nil } }
            }
            if stopped { return }
            usleep(microseconds)
        }
    }
}
