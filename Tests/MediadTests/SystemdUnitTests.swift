import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

/// The shipped unit file, checked by systemd's own analyser (systemd is not PID 1 here, so
/// both checks run offline).
@Suite struct SystemdUnitTests {
    static let units = [
        "mediad.service", "mediaq-backup.service", "mediaq-backup.timer", "mediaq-doctor.service", "mediaq-doctor.timer",
        "mediaq-serve.service",
    ]

    /// The units with ExecStart pointing at the programs this test run built, since `verify`
    /// insists the program exists; returns the copy of `name` (its siblings are copied beside it).
    func unitUnderTest(_ folder: TemporaryFolder, _ name: String = "mediad.service") throws -> String {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("systemd")
        for unit in Self.units {
            let text = try String(contentsOf: directory.appendingPathComponent(unit), encoding: .utf8)
            try text.replacingOccurrences(of: "ExecStart=/usr/local/bin/mediad\n", with: "ExecStart=" + Executables.path("mediad") + "\n")
                .replacingOccurrences(of: "ExecStart=/usr/local/bin/mediaq ", with: "ExecStart=" + Executables.path("mediaq") + " ")
                .write(toFile: folder.path + "/" + unit, atomically: true, encoding: .utf8)
        }
        let text = try String(contentsOfFile: folder.path + "/" + name, encoding: .utf8)
        #expect(!text.contains("/usr/local/bin/"), "ExecStart was pointed at this build")
        return folder.path + "/" + name
    }

    @Test(arguments: Self.units)
    func verifiesCleanly(_ name: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let unit = try unitUnderTest(folder, name)
        let outcome = try ChildProcess.run(
            ["/usr/bin/systemd-analyze", "verify", unit], environment: ProcessInfo.processInfo.environment)
        // verify reports unknown keys and bad values as warnings with exit 0: any output fails.
        #expect(outcome.status == 0, "\(outcome.transcript)")
        #expect(outcome.standardError.isEmpty, "\(outcome.transcript)")
    }

    @Test(arguments: ["mediad.service", "mediaq-backup.service", "mediaq-doctor.service", "mediaq-serve.service"])
    func isHardened(_ name: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let unit = try unitUnderTest(folder, name)
        // --threshold is in tenths: 10 means an exposure level of at most 1.0.
        let outcome = try ChildProcess.run(
            ["/usr/bin/systemd-analyze", "security", "--offline=true", "--threshold=10", unit],
            environment: ProcessInfo.processInfo.environment)
        #expect(outcome.status == 0, "\(outcome.transcript)")
        #expect(outcome.standardOutput.contains("Overall exposure level for \(name)"))
    }
}
