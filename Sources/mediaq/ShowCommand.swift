import ArgumentParser
import Foundation
import MediaCommandSupport
import MediaCore
import PostgresNIO

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one asset: its file, size, tags, sources and thumbnail state.",
        discussion: """
            An optimised original (`mediaq optimize`) shows what is stored: with --json, "stored": \
            {"sha256", "bytes", "method", "quality"} and "downloadBytes"; "bytes" is the stored size.

            Exit codes: 0 found; 65 no such asset; 75 database or library root unavailable.
            """)

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("The asset's id or its full SHA-256.", valueName: "id-or-sha256"))
    var key: String

    func run() async throws {
        let logger = options.makeLogger()
        let program = "mediaq show"
        do {
            let configuration = try await options.library.load()
            let (library, connection) = try await LibraryOpener(configuration: configuration, logger: logger, mode: .reader).open()
            defer { Task { try? await connection.close() } }
            guard let asset = try await AssetRepository(connection: connection, logger: logger).details(idOrSHA256: key) else {
                throw MediaError(MediaError.Code("not_found", .badInput), "no asset has id or SHA-256 '\(key)'")
            }
            if options.json {
                JSONOutput.print(asset)
                return
            }
            let formatter = ISO8601DateFormatter()
            let rating = asset.rating > 0 ? ", rated \(asset.rating)/\(Scoring.maximumRating)" : ""
            print("asset #\(asset.id) \(asset.kind) (\(asset.state)\(asset.hidden ? ", hidden" : "")\(rating))")
            print("  file:       \(library.root.path)/\(asset.path)")
            print("  sha256:     \(asset.sha256)")
            print(
                "  size:       \(asset.width)×\(asset.height), \(ByteCount.format(asset.bytes)), \(asset.mimeType)"
                    + (asset.pageCount > 1 ? ", \(asset.pageCount) pages" : ""))
            if let stored = asset.stored {
                let quality = stored.quality.map { String(format: ", PSNR %.1f dB", $0) } ?? ""
                print(
                    "  stored:     optimised (\(stored.method)\(quality)), \(ByteCount.format(stored.bytes)) of "
                        + "\(ByteCount.format(asset.downloadBytes ?? stored.bytes)) downloaded; sha256 \(stored.sha256)")
            }
            if let duration = asset.durationMs {
                let codecs = [asset.videoCodec, asset.audioCodec].compactMap { $0 }.joined(separator: " + ")
                print("  video:      \(duration) ms, \(asset.fps.map { "\($0) fps, " } ?? "")\(codecs)")
            }
            print("  tags:       \(asset.tags.isEmpty ? "(none)" : asset.tags.joined(separator: ", "))")
            for source in asset.sources {
                let details = [source.providerId.map { "id \($0)" }, source.sourceUrl].compactMap { $0 }.joined(separator: ", ")
                print("  source:     \(source.provider)\(details.isEmpty ? "" : ": " + details)")
                if let keywords = source.fileKeywords {
                    print("    from the file's keywords: \(keywords.joined(separator: ", "))")
                }
            }
            if let thumbnail = asset.thumbnail {
                print(
                    thumbnail.status == "ok"
                        ? "  thumbnail:  \(thumbnail.path ?? "") (\(thumbnail.width ?? 0)×\(thumbnail.height ?? 0))"
                        : "  thumbnail:  missing: \(thumbnail.reason ?? "")")
            }
            print(
                "  added:      \(formatter.string(from: asset.createdAt))"
                    + (asset.lastUsedAt.map { ", last used \(formatter.string(from: $0)) (\(asset.useCount)×)" } ?? ", never used"))
        } catch let error as MediaError {
            throw fail(error, program: program, json: options.json)
        }
    }
}
