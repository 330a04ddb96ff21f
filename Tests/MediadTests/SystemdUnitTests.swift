import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

/// The shipped unit file, checked by systemd's own analyser (systemd is not PID 1 here, so
/// both checks run offline).
@Suite struct SystemdUnitTests {
    /// The unit with ExecStart pointing at the mediad this test run built, since `verify`
    /// insists the program exists.
    func unitUnderTest(_ folder: TemporaryFolder) throws -> String {
        let source = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("systemd/mediad.service")
        let text = try String(contentsOf: source, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/mediad\n"))
        let path = folder.path + "/mediad.service"
        try text.replacingOccurrences(of: "ExecStart=/usr/local/bin/mediad", with: "ExecStart=" + Executables.path("mediad"))
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func verifiesCleanly() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let unit = try unitUnderTest(folder)
        let outcome = try ChildProcess.run(
            ["/usr/bin/systemd-analyze", "verify", unit], environment: ProcessInfo.processInfo.environment)
        // verify reports unknown keys and bad values as warnings with exit 0: any output fails.
        #expect(outcome.status == 0, "\(outcome.transcript)")
        #expect(outcome.standardError.isEmpty, "\(outcome.transcript)")
    }

    @Test func isHardened() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let unit = try unitUnderTest(folder)
        // --threshold is in tenths: 10 means an exposure level of at most 1.0.
        let outcome = try ChildProcess.run(
            ["/usr/bin/systemd-analyze", "security", "--offline=true", "--threshold=10", unit],
            environment: ProcessInfo.processInfo.environment)
        #expect(outcome.status == 0, "\(outcome.transcript)")
        #expect(outcome.standardOutput.contains("Overall exposure level for mediad.service"))
    }
}
