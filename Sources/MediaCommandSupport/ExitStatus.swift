public import ArgumentParser
public import MediaCore

#if canImport(Glibc)
import Glibc
#endif

/// The exit codes of `mediad` and `mediaq`, an API for the scripts that call them.
public enum ExitStatus {
    /// Done, all checks passed.
    public static let ok: Int32 = 0
    /// Anything else: a mismatch, a changed migration, a bug.
    public static let failure: Int32 = 1
    /// Bad flags or configuration (also what swift-argument-parser uses for usage errors).
    public static let usage: Int32 = 2
    /// EX_DATAERR: the input (a file, a script, a request) is bad; retrying will not help.
    public static let badInput: Int32 = 65
    /// EX_TEMPFAIL: the database or the library root is not available now; retry later.
    public static let retryable: Int32 = 75

    public static func code(for disposition: MediaError.Disposition) -> Int32 {
        switch disposition {
        case .retryable: retryable
        case .badInput: badInput
        case .usage: usage
        case .failure: failure
        }
    }
}

extension MediaError {
    /// The process exit that reports this error.
    public var exitCode: ExitCode { ExitCode(ExitStatus.code(for: code.disposition)) }
}

/// Writes to standard error without Glibc's non-Sendable `stderr` global.
public func printError(_ text: String) {
    let line = text.hasSuffix("\n") ? text : text + "\n"
    line.utf8CString.withUnsafeBufferPointer { buffer in
        _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count - 1)
    }
}

/// Reports `error` as the command's failure: one line on standard error naming what failed and
/// why, and, with `--json`, the same as an object on standard output.
public func fail(_ error: MediaError, program: String, json: Bool) -> ExitCode {
    printError("\(program): \(error.message)")
    if json {
        JSONOutput.print(ErrorReport(ok: false, error: .init(code: error.code.name, message: error.message)))
    }
    return error.exitCode
}

public struct ErrorReport: Encodable, Sendable {
    public struct Detail: Encodable, Sendable {
        public let code: String
        public let message: String

        public init(_ error: MediaError) {
            code = error.code.name
            message = error.message
        }

        init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }
    public let ok: Bool
    public let error: Detail

    /// A failure as `--json` prints it (`mediaq serve`'s JSON API answers the same).
    public init(_ error: MediaError) {
        ok = false
        self.error = Detail(error)
    }

    init(ok: Bool, error: Detail) {
        self.ok = ok
        self.error = error
    }
}

/// Writes `text` to standard error as it is, without a newline (for redrawn progress lines).
public func printErrorRaw(_ text: String) {
    text.utf8CString.withUnsafeBufferPointer { buffer in
        _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count - 1)
    }
}
