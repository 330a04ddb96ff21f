/// The one error type the core throws to its callers; its codes are all in
/// `MediaErrorCodes.swift`.
///
/// A `Code` names what went wrong in a stable, machine-readable way (it appears in `--json`
/// output and in the journal); its `disposition` decides what a caller does about it: try again
/// later, reject the input, or report a usage mistake. New codes can be added without breaking
/// callers that switch on the disposition.
public struct MediaError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// Stable identifier, e.g. `database_unavailable`.
        public let name: String
        public let disposition: Disposition

        public init(_ name: String, _ disposition: Disposition) {
            self.name = name
            self.disposition = disposition
        }

        public var description: String { name }
    }

    /// What a caller should do with the failure.
    public enum Disposition: Sendable, Hashable {
        /// The environment is not ready (database down, drive unmounted): retry later; nothing
        /// about the request itself is wrong.
        case retryable
        /// The input itself is bad and retrying will not help.
        case badInput
        /// The invocation or the configuration is wrong.
        case usage
        /// A state that needs a person: a mismatch, a bug, a changed migration.
        case failure
    }

    public let code: Code
    /// One sentence that names the thing and the reason, for a person.
    public let message: String
    public let file: String
    public let line: Int

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { message }
}
