import ArgumentParser
import Dispatch
import Foundation
import Logging
import MediaIsolation
import MediaCommandSupport
import MediaCore
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill the library with generated sample images and videos, tagged, so search and plan can be tried at once.",
        discussion: """
            A sample library to try search and plan on. Images and videos are made by the ffmpeg command \
            (on PATH; scripts/install-deps.sh installs it). Every file goes through the same \
            ingest as `mediaq ingest` (provider "seed"), with topic tags such as beach, city or \
            forest; each run adds new, distinct files.

            With --json: {"ok", "images", "videos", "duplicates", "rejected", "ids"}.

            The storage budget binds as for `mediaq ingest` (--ignore-budget to go past it).

            Exit codes: 0 done; 2 usage; 65 a generated file was rejected; 75 database or library \
            root unavailable, or the budget is full.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("How many files to make; about a quarter of them videos (default 24).", valueName: "n"))
    var count = 24

    @OptionGroup var budget: BudgetOptions

    func validate() throws {
        if count < 1 || count > 10_000 { throw ValidationError("--count must be 1 to 10000") }
    }

    struct Topic {
        let tags: [String]
        let from: (UInt8, UInt8, UInt8)
        let to: (UInt8, UInt8, UInt8)
    }

    static let topics: [Topic] = [
        Topic(tags: ["beach", "sunset", "ocean", "summer"], from: (250, 140, 60), to: (40, 90, 180)),
        Topic(tags: ["city", "night", "traffic", "lights"], from: (20, 20, 60), to: (230, 200, 80)),
        Topic(tags: ["forest", "nature", "green", "trees"], from: (20, 80, 30), to: (150, 210, 120)),
        Topic(tags: ["mountain", "snow", "sky", "winter"], from: (240, 245, 255), to: (70, 110, 170)),
        Topic(tags: ["office", "work", "laptop", "business"], from: (200, 200, 205), to: (60, 70, 90)),
        Topic(tags: ["food", "kitchen", "cooking"], from: (200, 60, 40), to: (250, 220, 150)),
    ]

    /// Landscape, portrait and square, as stock sites serve them.
    static let imageSizes = [(1920, 1080), (1080, 1920), (1280, 720), (1200, 1200), (1600, 900)]
    static let videoSizes = ["1280x720", "720x1280", "960x540"]

    struct Report: Encodable {
        let ok: Bool
        var images = 0
        var videos = 0
        var duplicates = 0
        var rejected = 0
        var ids: [Int64] = []
    }

    func run() async throws {
        let logger = options.makeLogger()
        let program = "mediaq seed"
        let configuration: LibraryConfiguration
        let ffmpeg: String
        let decoder: DecoderPool
        let connection: PostgresConnection
        let library: OpenLibrary
        do throws(MediaError) {
            configuration = try await options.library.load()
            // What seed needs besides the library is checked first: no library is opened for nothing.
            guard let found = Self.findOnPath("ffmpeg") else {
                throw MediaError(
                    .invalidConfiguration,
                    "mediaq seed makes its samples with the ffmpeg command, and it is not on PATH (scripts/install-deps.sh installs it)")
            }
            ffmpeg = found
            decoder = try DecoderPool.forCommands(configuration)
            (library, connection) = try await LibraryOpener(configuration: configuration, logger: logger, mode: .creator).open()
        } catch {
            throw fail(error, program: program, json: options.json)
        }
        let staging = NSTemporaryDirectory() + "mediaq-seed-\(getpid())-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var report = Report(ok: true)
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            try? await connection.close()
            throw fail(MediaError(.libraryWriteFailed, "cannot create \(staging): \(error)"), program: program, json: options.json)
        }
        defer { decoder.shutdown() }
        let videoCount = count / 4
        let bar = ProgressBar(json: options.json)
        var ingestor = Ingestor(
            root: library.root.path, decoder: decoder, logger: logger, pixelLimit: configuration.pixelLimit)
        let quota = budget.quota(configuration)
        ingestor.budget = quota
        ingestor.readsFileKeywords = configuration.fileKeywords
        let run = UUID().uuidString.prefix(8).lowercased()
        do {
            for index in 0..<count {
                bar.show("seed", index, count)
                let topic = Self.topics[index % Self.topics.count]
                let isVideo = index % 4 == 3 && index / 4 < videoCount
                let file: String
                let source: String
                if isVideo {
                    file = staging + "/seed-\(run)-\(index).mp4"
                    let size = Self.videoSizes[index % Self.videoSizes.count]
                    source = "testsrc2=size=\(size):rate=25:duration=\(2 + index % 4)"
                } else {
                    file = staging + "/seed-\(run)-\(index).jpg"
                    let (width, height) = Self.imageSizes[index % Self.imageSizes.count]
                    // A gradient between the topic's colours, placed by a seed: distinct bytes each time.
                    source =
                        "gradients=size=\(width)x\(height):c0=\(Self.hex(topic.from)):c1=\(Self.hex(topic.to)):n=2"
                        + ":seed=\(UInt32.random(in: 0...UInt32.max))"
                }
                var command = [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", source]
                command +=
                    isVideo
                    ? ["-vf", "hue=h=\(index * 47 % 360)", "-pix_fmt", "yuv420p", "-metadata", "comment=mediaq seed \(run) \(index)"]
                    : ["-frames:v", "1", "-q:v", "3"]
                let outcome = try await Self.offPool(command + [file])
                guard outcome.status == 0 else {
                    throw MediaError(
                        .libraryWriteFailed, "ffmpeg could not make a sample \(isVideo ? "video" : "image"): \(outcome.output)")
                }
                var tags = topic.tags.shuffled().prefix(3).map { $0 }
                tags.append(isVideo ? "video" : "photo")
                let request = IngestRequest(
                    path: file, tags: tags, provider: "seed", sourceURL: nil, providerAssetId: "\(run)-\(index)")
                try await BudgetOptions.admit(file, quota: quota, root: library.root.path, on: connection, logger: logger)
                let result = try await ingestor.ingest(request, on: connection)
                switch result.status {
                case .ingested: isVideo ? (report.videos += 1) : (report.images += 1)
                case .duplicate: report.duplicates += 1
                case .rejected: report.rejected += 1
                }
                if let id = result.id { report.ids.append(id) }
                unlink(file)
            }
            bar.clear()
            await ingestor.writePendingMetadata(on: connection)
            try? await connection.close()
        } catch let error as MediaError {
            bar.clear()
            await ingestor.writePendingMetadata(on: connection)
            try? await connection.close()
            throw fail(error, program: program, json: options.json)
        } catch {
            bar.clear()
            try? await connection.close()
            throw fail(MediaError(.libraryWriteFailed, "\(error)"), program: program, json: options.json)
        }
        if options.json {
            JSONOutput.print(report)
        } else {
            print("seeded \(report.images) image(s) and \(report.videos) video(s) (provider seed); try: mediaq search images --tags beach")
        }
        if report.rejected > 0 { throw ExitCode(ExitStatus.badInput) }
    }

    static func hex(_ colour: (UInt8, UInt8, UInt8)) -> String {
        "0x" + [colour.0, colour.1, colour.2].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func findOnPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where access("\(folder)/\(name)", X_OK) == 0 {
            return "\(folder)/\(name)"
        }
        return nil
    }

    /// A child process waited for on a Dispatch thread, not on the cooperative pool.
    static func offPool(_ arguments: [String]) async throws(MediaError) -> ChildProcess.Outcome {
        let result: Result<ChildProcess.Outcome, MediaError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    continuation.resume(
                        returning: .success(try ChildProcess.run(arguments, environment: ProcessInfo.processInfo.environment)))
                } catch {
                    continuation.resume(returning: .failure(MediaError(.libraryWriteFailed, "cannot run \(arguments[0]): \(error)")))
                }
            }
        }
        switch result {
        case .success(let outcome): return outcome
        case .failure(let failure): throw failure
        }
    }
}
