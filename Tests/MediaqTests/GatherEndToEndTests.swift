import Foundation
@testable import MediaCore
import MediaTestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The hand-off's end-to-end path, with the real daemon: plan on an empty library lists
/// everything missing; gather "downloads" what is missing and drops it with sidecars; mediad
/// ingests the drops; the same plan then finds everything locally.
@Suite(.serialized) struct GatherEndToEndTests {
    /// Waits for a child to end without holding a thread in waitpid: its /proc entry turns
    /// zombie (or vanishes) first.
    static func waitForExit(_ process: ChildProcess, within seconds: Double) async throws -> ChildProcess.Outcome? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let stat = (try? String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            if stat.isEmpty || state == "Z" { return process.wait() }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test func planDropIngestPlanAgain() async throws {
        try await CommandLibrary.with(connections: RunningDaemon.testDatabaseConnections) { library in
            let work = library.folder.path + "/gather"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let config = work + "/stock-assets.json"
            try #"{"localLibrary": {"minMatches": {"videos": 1, "images": 2}, "limit": {"videos": 1, "images": 2}}}"#
                .write(toFile: config, atomically: true, encoding: .utf8)
            let script = work + "/script.json"
            try """
            {"aspect": "16:9", "segments": [
              {"id": "harbour", "tags": ["Harbour", "boats"], "durationSeconds": 1.5},
              {"id": "snow", "tags": "snow", "media": ["image"]}
            ]}
            """.write(toFile: script, atomically: true, encoding: .utf8)
            let planArguments = ["plan", script, "--stock-config", config, "--pin", "run-e2e"]

            // 1. An empty library: everything is missing.
            let first = try library.json(PlanOutput.self, planArguments)
            #expect(first.manifest.isEmpty && !first.complete)
            #expect(first.segments.map { $0.missing.map(\.kind) } == [["video", "image"], ["image"]])

            // 2. Gather fetches what is missing and drops each file with its sidecar.
            let drop = library.root + "/drop"
            let staging = work + "/downloads"
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            var dropped: [String] = []
            var providerIds: [String] = []
            for segment in first.segments {
                for need in segment.missing {
                    for copy in 0..<need.minMatches {
                        let providerId = "\(segment.id)-\(need.kind)-\(copy)"
                        let name = providerId + (need.kind == "video" ? ".mp4" : ".png")
                        if need.kind == "video" {
                            try SampleMedia.video(
                                staging + "/" + name, seconds: (need.minDurationSeconds ?? 1) + 0.5, size: "640x360",
                                extra: ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
                        } else {
                            try SampleMedia.make([
                                SampleMedia.convert, "-size", "320x180", "xc:\(["red", "blue", "green", "white", "yellow"][dropped.count])",
                                staging + "/" + name,
                            ])
                        }
                        let sidecar: [String: Any] = [
                            "tags": need.tags, "provider": "pexels", "providerId": providerId,
                            "sourceUrl": "https://pexels.example/\(providerId)", "used": true, "pin": "run-e2e",
                        ]
                        try JSONSerialization.data(withJSONObject: sidecar).write(to: URL(fileURLWithPath: staging + "/" + name + ".json"))
                        dropped.append(name)
                        providerIds.append(providerId)
                    }
                }
            }
            #expect(dropped.count == 5)

            // 3. The daemon ingests them.
            let daemon = try ChildProcess.spawn(
                [
                    Executables.path("mediad"), "--library-root", library.root, "--database-url", library.url.urlString,
                    "--sidecar-grace-ms", "300", "--log-level", "warning", "--workers", "\(RunningDaemon.defaultWorkers)",
                ],
                environment: Executables.cleanEnvironment([:]))
            var stopped = false
            defer {
                if !stopped {
                    daemon.signal(SIGKILL)
                    _ = daemon.wait()
                }
            }
            let started = ContinuousClock.now
            while !FileManager.default.fileExists(atPath: drop) && ContinuousClock.now - started < .seconds(60) {
                try await Task.sleep(for: .milliseconds(50))
            }
            try #require(FileManager.default.fileExists(atPath: drop), "mediad made no drop folder")
            for name in dropped {
                // Sidecar first, then the media renamed in, as docs/drop-contract.md suggests.
                #expect(rename(staging + "/" + name + ".json", drop + "/" + name + ".json") == 0)
                #expect(rename(staging + "/" + name, drop + "/" + name) == 0)
            }
            let receipts = dropped.map { drop + "/.receipts/" + $0 + ".json" }
            while !receipts.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) && ContinuousClock.now - started < .seconds(90) {
                try await Task.sleep(for: .milliseconds(100))
            }
            daemon.signal(SIGTERM)
            let outcome = try await Self.waitForExit(daemon, within: 30)
            stopped = outcome != nil
            #expect(outcome?.status == 0, "\(outcome?.transcript ?? "mediad did not stop")")
            struct Receipt: Decodable {
                let status: String
                let id: Int64
            }
            let ingested = try receipts.map { path -> Receipt in
                try JSONDecoder().decode(Receipt.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            }
            #expect(ingested.allSatisfy { $0.status == "ingested" })

            // Gather's dedupe: the provider ids are known now.
            struct Known: Decodable { let unknown: [String] }
            #expect(try library.json(Known.self, ["known", "--provider", "pexels"] + providerIds).unknown.isEmpty)

            // 4. The same plan finds everything in the library.
            let second = try library.json(PlanOutput.self, planArguments)
            #expect(second.complete, "\(second.segments)")
            #expect(second.segments.allSatisfy { $0.missing.isEmpty })
            #expect(second.manifest.allSatisfy { $0.source == "local-library" && $0.provider == "pexels" })
            #expect(Set(second.manifest.map(\.libraryId)) == Set(ingested.map(\.id)))
            #expect(second.manifest.map(\.segmentId) == ["harbour", "harbour", "harbour", "snow", "snow"])
            #expect(second.manifest.allSatisfy { $0.sourceUrl?.hasPrefix("https://pexels.example/") == true })
            #expect(second.manifest.allSatisfy { FileManager.default.fileExists(atPath: $0.absolutePath) })
            // Used by the sidecars, then by the plan; pinned for the run by both.
            #expect(try await library.query("SELECT min(use_count)::int8 FROM asset") == [2])
            struct Unpinned: Decodable { let unpinned: Int }
            #expect(try library.json(Unpinned.self, ["unpin", "run-e2e"]).unpinned == 5)
        }
    }
}
