import Foundation
import HummingbirdTesting
import MediaCore
import MediaTestHarness
import Testing

/// The pages as Debian's headless Chromium renders them (scripts/install-deps.sh installs it):
/// the grid's DOM and a screenshot, a search that narrows it, an asset page whose video the
/// browser fetches by byte ranges. Chromium refuses to run as root with its sandbox, so the
/// tests pass --no-sandbox (the pages are our own, on loopback).
@Suite(.serialized) struct BrowserTests {
    static let chromium = "/usr/bin/chromium"

    /// Runs Chromium headless on a thread of its own (it takes seconds: never on the
    /// cooperative pool), at most 90 s.
    static func chromium(_ arguments: [String]) async throws -> ChildProcess.Outcome {
        try await onOwnThread { () throws -> ChildProcess.Outcome in
            try ChildProcess.run(
                [
                    "/usr/bin/timeout", "90", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--no-first-run", "--disable-dev-shm-usage", "--user-data-dir=" + NSTemporaryDirectory() + "/chromium-\(UUID())",
                ] + arguments, environment: ProcessInfo.processInfo.environment)
        }
    }

    /// Whether one pixel of a PNG is red (the samples are `xc:red`; JPEG moves it a little).
    static func isRed(_ png: String, x: Int, y: Int) async throws -> Bool {
        let text = try await onOwnThread { () throws -> String in
            try ChildProcess.run(
                [
                    SampleMedia.convert, png, "-format",
                    "%[fx:int(255*p{\(x),\(y)}.r)],%[fx:int(255*p{\(x),\(y)}.g)],%[fx:int(255*p{\(x),\(y)}.b)]", "info:",
                ],
                environment: ProcessInfo.processInfo.environment
            ).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let rgb = text.split(separator: ",").compactMap { Int($0) }
        return rgb.count == 3 && rgb[0] > 200 && rgb[1] < 60 && rgb[2] < 60
    }

    @Test func theGridRendersASearchNarrowsItAndAVideoPlaysByRanges() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.chromium), "scripts/install-deps.sh installs chromium")
        try await ServedLibrary.with(setup: .live) { library, client in
            let base = "http://127.0.0.1:\(try #require(client.port))"
            let folder = library.folder.path

            // The grid: every asset a cell with its lazy thumbnail of a fixed size.
            let grid = try await Self.chromium(["--virtual-time-budget=5000", "--dump-dom", base + "/"])
            #expect(grid.status == 0, "\(grid.transcript)")
            let cells = grid.standardOutput.matches(of: /<div class="cell" data-id="(\d+)"/).map { String($0.1) }
            #expect(Set(cells) == Set([library.beachImage, library.beachVideo, library.forestImage].map(String.init)))
            let images = grid.standardOutput.matches(of: /<img src="\/assets\/\d+\/thumbnail" loading="lazy" width="200" height="200"/)
            #expect(images.count == 3)

            // A screenshot: the first cell (the newest asset, the red forest image) is drawn
            // from its thumbnail, at the size the page gives it.
            let shot = folder + "/grid.png"
            let screenshot = try await Self.chromium(
                ["--window-size=1280,800", "--virtual-time-budget=5000", "--screenshot=" + shot, base + "/"])
            #expect(screenshot.status == 0, "\(screenshot.transcript)")
            #expect(FileManager.default.fileExists(atPath: shot))
            // The first cell spans x 16…255 and y 139…339 at this width (200 px thumbnails).
            #expect(try await Self.isRed(shot, x: 130, y: 240), "a red thumbnail in the first cell")
            #expect(try await Self.isRed(shot, x: 130, y: 330), "200 px tall")
            #expect(try await !Self.isRed(shot, x: 5, y: 240), "and not wider than its cell")
            #expect(try await !Self.isRed(shot, x: 130, y: 345), "nor taller")

            // A search narrows it.
            let search = try await Self.chromium(["--virtual-time-budget=3000", "--dump-dom", base + "/?q=forest"])
            let found = search.standardOutput.matches(of: /<div class="cell" data-id="(\d+)"/).map { String($0.1) }
            #expect(found == [String(library.forestImage)])
            #expect(search.standardOutput.contains("score "))

            // The asset page's video: Chromium asks for byte ranges and gets 206.
            let netLog = folder + "/net.json"
            let video = try await Self.chromium([
                "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=5000", "--log-net-log=" + netLog,
                "--net-log-capture-mode=IncludeSensitive", "--dump-dom", base + "/assets/\(library.beachVideo)",
            ])
            #expect(video.standardOutput.contains("<video controls"))
            let log = try String(contentsOfFile: netLog, encoding: .utf8)
            #expect(log.contains("Range: bytes=0-") && log.contains("206 Partial Content"), "the video was fetched by ranges")
        }
    }

    /// A person at the browser curates: signs in with the token through /login's form, and the
    /// asset page's "hide" form (with its CSRF field) hides the asset. Another browser context
    /// without the token sees no forms, and a form it makes itself is refused: nothing changes.
    /// Driven through Chromium's DevTools protocol by `Resources/curate-in-browser.py` (Python's
    /// standard library only).
    @Test func aCurationFormWorksWithTheTokenAndIsRefusedWithout() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Resources/curate-in-browser.py"
        ).path
        try await ServedLibrary.with(setup: .live) { library, client in
            let base = "http://127.0.0.1:\(try #require(client.port))"
            let asset = library.forestImage
            let hidden = "SELECT count(*) FROM asset WHERE hidden AND id = \(asset)"
            #expect(try await library.count(hidden) == 0)

            let run = try await onOwnThread { () throws -> ChildProcess.Outcome in
                try ChildProcess.run(
                    ["/usr/bin/timeout", "400", "/usr/bin/python3", script, Self.chromium, base, String(asset), ServedLibrary.token],
                    environment: ProcessInfo.processInfo.environment)
            }
            #expect(run.status == 0, "\(run.transcript)")
            struct Seen: Decodable {
                let url: String
                let text: String
                let forms: [String]
            }
            let seen = try JSONDecoder().decode([String: Seen].self, from: Data(run.standardOutput.utf8))

            // Signed in through the form: the asset page offers the curation forms, and "hide"
            // hid the asset and led back to its page, which now offers "unhide".
            let signedIn = try #require(seen["assetPageSignedIn"])
            #expect(signedIn.forms.contains("/assets/\(asset)/hide"), "\(signedIn.forms)")
            let afterHide = try #require(seen["afterHide"])
            #expect(afterHide.url == base + "/assets/\(asset)", "\(afterHide.url): \(afterHide.text.prefix(300))")
            #expect(afterHide.forms.contains("/assets/\(asset)/unhide"), "\(afterHide.forms)")
            #expect(try await library.count(hidden) == 1)

            // Without the token: no forms on the page, and a made-up form is refused (403's
            // text shown), the asset still hidden.
            let noToken = try #require(seen["assetPageNoToken"])
            #expect(!noToken.forms.contains { $0.hasPrefix("/assets/\(asset)/") }, "\(noToken.forms)")
            let forged = try #require(seen["afterForgedUnhide"])
            #expect(forged.url == base + "/assets/\(asset)/unhide")
            #expect(forged.text.lowercased().contains("token"), "\(forged.text.prefix(300))")
            #expect(try await library.count(hidden) == 1)
        }
    }
}
