import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with `posix_spawn` and `waitpid`, its standard output and error captured in
/// unlinked temporary files.
///
/// Not Foundation's `Process`: its `waitUntilExit` was seen to hang here after `pg_ctl start`
/// had exited, and a pipe would not reach end-of-file while a daemonised grandchild might still
/// hold its write end. A file has neither problem.
public struct ChildProcess: Sendable {
    public struct Outcome: Sendable {
        /// The exit status, or 128 + signal number when the child was killed.
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
        /// Both streams, output first.
        public var output: String { standardOutput + standardError }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        package init(description: String) {
            self.description = description
        }
    }

    public let pid: Int32
    private let outputFD: Int32
    private let errorFD: Int32

    /// Starts `arguments[0]` (an absolute path) without waiting for it.
    public static func spawn(
        _ arguments: [String], workingDirectory: String? = nil, environment: [String: String]
    ) throws(Failure) -> ChildProcess {
        let outputFD = try temporaryFile()
        let errorFD: Int32
        do {
            errorFD = try temporaryFile()
        } catch {
            close(outputFD)
            throw error
        }
        // posix_spawn has no portable chdir action; coreutils' env changes directory, then execs.
        let command = workingDirectory.map { ["/usr/bin/env", "-C", $0] + arguments } ?? arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, errorFD, 2)
        SpawnActions.closeInheritedDescriptors(&actions)

        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        guard spawned == 0 else {
            close(outputFD)
            close(errorFD)
            throw Failure(description: "cannot run \(command[0]): \(String(cString: strerror(spawned)))")
        }
        return ChildProcess(pid: pid, outputFD: outputFD, errorFD: errorFD)
    }

    /// Runs `arguments[0]` to completion.
    public static func run(
        _ arguments: [String], workingDirectory: String? = nil, environment: [String: String]
    ) throws(Failure) -> Outcome {
        try spawn(arguments, workingDirectory: workingDirectory, environment: environment).wait()
    }

    /// Waits for the child to end and collects what it wrote. Call once.
    public func wait() -> Outcome {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        defer {
            close(outputFD)
            close(errorFD)
        }
        return Outcome(status: exitCode, standardOutput: Self.readAll(outputFD), standardError: Self.readAll(errorFD))
    }

    /// Whether the child has ended, without collecting it: `wait()` still returns its outcome.
    public var hasEnded: Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
    }

    /// Sends `signal` to the child.
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    private static func temporaryFile() throws(Failure) -> Int32 {
        var template = Array("/tmp/media-library-child-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw Failure(description: "cannot create a temporary file: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    private static func readAll(_ fd: Int32) -> String {
        var data = Data()
        lseek(fd, 0, SEEK_SET)
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
