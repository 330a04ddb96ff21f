import Foundation
import Logging
import MediaCore
import MediaDaemon
import MediaIsolation
import ServiceLifecycle
import SystemdSupport
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd READY=1 when the group starts (everything was opened, checked and watched
/// before), and STOPPING=1 when a graceful shutdown begins. Last in the group, so the first
/// to hear of the shutdown.
struct ReadinessService: Service {
    let drops: DropService
    let notifier: SystemdNotifier
    let root: String
    let logger: Logger

    func run() async {
        let backlog = await drops.totals().queued
        notifier.ready(status: "watching; queue \(backlog)")
        logger.event(.ready, "ready", metadata: ["root": "\(root)", "queued": "\(backlog)"])
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is going down without a graceful phase
        }
        notifier.stopping(status: "stopping: finishing in-flight drops")
        logger.event(.stopping, "stopping")
    }
}

/// STATUS= from the drop service's counts, through the reporter's own thread (sd_notify may
/// block while systemd's socket queue is full; the work never waits for it).
struct StatusService: Service {
    let drops: DropService
    let reporter: StatusReporter

    func run() async {
        for await totals in drops.statusUpdates.cancelOnGracefulShutdown() {
            var status = "queue \(totals.queued); ingested \(totals.ingested), duplicates \(totals.duplicates), rejected \(totals.rejected)"
            if let reason = totals.waitingReason { status += "; waiting: \(reason)" }
            reporter.update(status, mustShow: totals.waitingReason != nil)
        }
        // The drops end before this service in a shutdown: it still ends in its own turn.
        try? await gracefulShutdown()
        reporter.stop()
    }
}

/// WATCHDOG=1 at half systemd's interval, but only while every worker keeps coming back for
/// work: a daemon stuck in a drop misses it and systemd restarts it.
struct WatchdogService: Service {
    let interval: Duration
    let drops: DropService
    let notifier: SystemdNotifier

    /// systemd's WATCHDOG_USEC, when it is meant for this process.
    static func interval(in environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], pid != String(getpid()) { return nil }
        return .microseconds(microseconds)
    }

    func run() async {
        let period = interval / 2
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if await drops.workersResponsive(within: period * 2) {
                    notifier.notify([("WATCHDOG", "1")])
                }
                try? await Task.sleep(for: period)
            }
        }
    }
}

/// Reads the configuration again on each SIGHUP (RELOADING=1 … READY=1 around it).
struct ReloadService: Service {
    let reloader: ConfigurationReloader
    let notifier: SystemdNotifier

    func run() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            notifier.notify([("RELOADING", "1")])
            await reloader.reload()
            notifier.notify([("READY", "1")])
        }
    }
}

/// The decoder worker processes, ended when the group is done with them (first in the group,
/// so last to stop: the drops finish with them).
struct DecoderPoolService: Service {
    let decoder: DecoderPool

    func run() async {
        try? await gracefulShutdown()
        decoder.shutdown()
    }
}
