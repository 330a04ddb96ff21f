import Foundation
import MediaCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs the `log-probe` executable (built beside the test bundle) with its standard error
/// going to a file of the test's, so that the test knows that file's device and inode.
struct LogProbe {
    struct Run {
        let outcome: ChildProcess.Outcome
        /// What the probe wrote to standard error.
        let standardError: String
    }

    struct CannotStat: Error {
        let path: String
    }

    static var path: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent + "/log-probe"
    }

    /// `DEVICE:INODE` of `path`, as systemd writes it into `JOURNAL_STREAM`.
    static func deviceAndInode(_ path: String) throws -> String {
        var status = stat()
        guard stat(path, &status) == 0 else { throw CannotStat(path: path) }
        return "\(UInt64(status.st_dev)):\(UInt64(status.st_ino))"
    }

    /// Runs the probe with standard error appended to `standardErrorFile` (created if needed)
    /// and `JOURNAL_STREAM` set to `journalStream`, or unset when nil.
    static func run(
        standardErrorFile: String, journalStream: String?, arguments: [String] = []
    ) throws -> Run {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "JOURNAL_STREAM")
        environment.removeValue(forKey: "NOTIFY_SOCKET")
        if let journalStream { environment["JOURNAL_STREAM"] = journalStream }
        // The shell opens the file as the probe's standard error, then becomes the probe.
        let outcome = try ChildProcess.run(
            ["/bin/sh", "-c", #"file=$1; shift; exec "$0" "$@" 2>>"$file""#, path, standardErrorFile] + arguments,
            environment: environment)
        let text = (try? String(contentsOfFile: standardErrorFile, encoding: .utf8)) ?? ""
        return Run(outcome: outcome, standardError: text)
    }
}

/// A folder under /tmp for one test, removed afterwards.
final class ScratchFolder {
    let path: String

    init() throws {
        path = "/tmp/media-logging-test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A new empty file in the folder.
    func file(_ name: String) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
