import Logging
import Synchronization

/// The daemon's log level, changed by a configuration reload while loggers are in use.
final class LogLevelBox: Sendable {
    private let current: Mutex<Logger.Level>

    init(_ level: Logger.Level) {
        current = Mutex(level)
    }

    var level: Logger.Level {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

/// Wraps a handler so that its level follows a `LogLevelBox`.
struct AdjustableLevelLogHandler<Wrapped: LogHandler>: LogHandler {
    var wrapped: Wrapped
    let box: LogLevelBox

    init(_ wrapped: Wrapped, level box: LogLevelBox) {
        self.wrapped = wrapped
        self.box = box
    }

    var logLevel: Logger.Level {
        get { box.level }
        set { box.level = newValue }
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        wrapped.log(event: event)
    }
}
