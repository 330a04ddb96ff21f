import Foundation
import MediaCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One decoder worker process (see `DecoderServer`) and the two pipes to it. Used by one caller
/// at a time: `DecoderPool` checks a process out of its pool for each request.
final class DecoderProcess: @unchecked Sendable {
    enum Exchange {
        case reply([UInt8])
        /// The process ended or closed its output before answering: how it ended.
        case died(String)
        case timedOut
    }

    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    let pid: pid_t
    private let requests: Int32
    private let replies: Int32
    private var pending: [UInt8] = []
    private var reaped = false

    private init(pid: pid_t, requests: Int32, replies: Int32) {
        self.pid = pid
        self.requests = requests
        self.replies = replies
    }

    /// Starts `arguments` (`arguments[0]` an absolute path, `/proc/self/exe` works) with the
    /// caller's environment, standard error shared with the caller (the worker's rare messages
    /// reach the same log), and default signal handling.
    static func start(_ arguments: [String]) throws(StartFailure) -> DecoderProcess {
        // Glibc's module has no pipe2: the pipes are made close-on-exec just after, and starts are
        // serialised so no worker inherits another's pipe end (it would hide that one's death).
        try startLock.withLock { _ throws(StartFailure) -> DecoderProcess in try startLocked(arguments) }
    }

    private static let startLock = Mutex(())

    private static func makePipe() throws(StartFailure) -> [Int32] {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw StartFailure(description: "pipe: \(String(cString: strerror(errno)))") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return ends
    }

    private static func startLocked(_ arguments: [String]) throws(StartFailure) -> DecoderProcess {
        let toChild = try makePipe()
        let fromChild: [Int32]
        do {
            fromChild = try makePipe()
        } catch {
            close(toChild[0])
            close(toChild[1])
            throw error
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        SpawnActions.closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        // Swift's crash backtracer would print pages per crash into the daemon's log; how the
        // worker ended (the signal) is what the daemon reports.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(toChild[0])
        close(fromChild[1])
        guard spawned == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw StartFailure(description: "cannot start the decoder worker \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        return DecoderProcess(pid: pid, requests: toChild[1], replies: fromChild[0])
    }

    /// Whether the process is still there (an idle worker the kernel killed is not reused).
    var isAlive: Bool {
        guard !reaped else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            reaped = true
            return false
        }
        return true
    }

    /// Sends one request line and waits up to `timeout` for one reply line.
    func exchange(_ request: [UInt8], timeout: Duration) -> Exchange {
        var line = request
        line.append(UInt8(ascii: "\n"))
        if line.withUnsafeBytes({ FileIO.writeAll(requests, $0) }) != nil {
            return .died(endDescription())
        }
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let reply = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                return .reply(reply)
            }
            let left = deadline - ContinuousClock.now
            if left <= .zero { return .timedOut }
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            var poller = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno != EINTR { return .died(endDescription()) }
            guard ready > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { read(replies, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .died(endDescription())
            }
            if count == 0 { return .died(endDescription()) }
            pending.append(contentsOf: chunk[0..<count])
        }
    }

    /// Kills the process (if it still runs) and reaps it.
    func kill() {
        guard !reaped else { return }
        _ = Glibc.kill(pid, SIGKILL)
        _ = endDescription()
    }

    /// Closes the pipes: a healthy worker reads end-of-file and exits; then it is reaped.
    func stop() {
        close(requests)
        close(replies)
        guard !reaped else { return }
        // A worker in the middle of nothing exits at once; one that does not is killed.
        for _ in 0..<50 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                return
            }
            usleep(10_000)
        }
        kill()
    }

    /// Waits for the process to end and says how it ended.
    private func endDescription() -> String {
        guard !reaped else { return "ended" }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        let signal = status & 0x7F
        if signal == 0 { return "exited with status \((status >> 8) & 0xFF)" }
        return "was killed by signal \(signal) (\(Self.signalName(signal)))"
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGKILL: "SIGKILL"
        case SIGFPE: "SIGFPE"
        case SIGILL: "SIGILL"
        case SIGXCPU: "SIGXCPU"
        default: "signal \(signal)"
        }
    }
}
