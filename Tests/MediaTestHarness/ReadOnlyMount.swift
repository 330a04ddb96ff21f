import Foundation
import MediaCore
import Testing

/// A real read-only view of a folder: a bind mount remounted read-only. As root, permissions do
/// not stop writes; a read-only mount does.
package enum ReadOnlyMount {
    package static func with(_ path: String, _ body: () async throws -> Void) async throws {
        let environment = ProcessInfo.processInfo.environment
        let bind = try ChildProcess.run(["/usr/bin/mount", "--bind", path, path], environment: environment)
        try #require(bind.status == 0, "mount --bind: \(bind.output)")
        defer { _ = try? ChildProcess.run(["/usr/bin/umount", path], environment: environment) }
        let remount = try ChildProcess.run(["/usr/bin/mount", "-o", "remount,bind,ro", path], environment: environment)
        try #require(remount.status == 0, "remount ro: \(remount.output)")
        try await body()
    }
}
