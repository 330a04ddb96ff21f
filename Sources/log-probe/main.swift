// A test helper, not a product: logs a fixed set of events through `MediaLogHandler`, so the
// logging tests can watch what a real process sends to the journal or writes to standard
// error. `--timestamps` makes the handler timestamp its standard-error lines, as mediad's does.
import Logging
import MediaCommandSupport
import MediaCore

let control = LogLevelControl(.info)
let timestamps = CommandLine.arguments.contains("--timestamps")
var logger = Logger(label: "log-probe") { label in
    MediaLogHandler(label: label, levelControl: control, timestamps: timestamps)
}
logger[metadataKey: "worker"] = "3"
print("destination=\(MediaLogHandler(label: "log-probe", level: .info).destination)")

logger.event(
    .ingested, "stored",
    metadata: [
        "file": "/drop/beach.jpg", "sha256": "\(String(repeating: "ab", count: 32))", "id": "42",
        "status": "ingested", "durationMs": "12",
    ])
logger.debug("not shown at info", metadata: ["event": "waiting"])
logger.warning(
    "rejected",
    metadata: ["event": "rejected", "file": "/drop/bad.mp4", "code": "unsupportedMedia", "reason": "not a video\nsecond line"])
control.level = .debug
logger.debug("shown once the level is debug", metadata: ["event": "reloaded"])
logger.error(
    "unknown kind",
    metadata: ["event": "bogus", "MESSAGE": "spoof", "_PID": "1", "priority": "0", "sourceURL": "https://example.com/a"])
struct ProbeError: Error, CustomStringConvertible {
    var description: String { "signal 11" }
}
logger.critical("decoder crashed", error: ProbeError(), metadata: ["event": "decoderCrashed", "file": "/drop/x.mov"])
print("done")
