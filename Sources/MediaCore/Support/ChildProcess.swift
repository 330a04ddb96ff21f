import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion with `posix_spawn` and `waitpid`, its standard output and error
/// captured in an unlinked temporary file.
///
/// Not Foundation's `Process`: its `waitUntilExit` was seen to hang here after `pg_ctl start`
/// had exited, and a pipe would not reach end-of-file while a daemonised grandchild might still
/// hold its write end. A file has neither problem.
struct ChildProcess {
    struct Outcome {
        /// The exit status, or 128 + signal number when the child was killed.
        let status: Int32
        let output: String
    }

    enum Failure: Error, CustomStringConvertible {
        case spawn(String, Int32)
        var description: String {
            switch self {
            case .spawn(let program, let code): "cannot run \(program): \(String(cString: strerror(code)))"
            }
        }
    }

    static func run(
        _ arguments: [String], workingDirectory: String? = nil, environment: [String: String]
    ) throws(Failure) -> Outcome {
        var template = Array("/tmp/media-library-child-XXXXXX".utf8CString)
        let outputFD = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard outputFD >= 0 else { throw .spawn(arguments[0], errno) }
        _ = fcntl(outputFD, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        defer { close(outputFD) }
        // posix_spawn has no portable chdir action; coreutils' env changes directory, then execs.
        let command = workingDirectory.map { ["/usr/bin/env", "-C", $0] + arguments } ?? arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 2)
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        guard spawned == 0 else { throw .spawn(arguments[0], spawned) }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)

        var data = Data()
        lseek(outputFD, 0, SEEK_SET)
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(outputFD, &buffer, buffer.count)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return Outcome(status: exitCode, output: String(decoding: data, as: UTF8.self))
    }
}
