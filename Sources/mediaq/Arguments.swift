import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// The working directory, for paths given relative to it.
var workingDirectory: String { FileManager.default.currentDirectoryPath }

func absolutePath(_ path: String) -> String {
    LibraryConfiguration.absolute(path, in: workingDirectory)
}

/// `videos` or `images` (the singular works too).
enum KindArgument: String, ExpressibleByArgument, CaseIterable {
    case videos, images

    init?(argument: String) {
        switch argument.lowercased() {
        case "videos", "video": self = .videos
        case "images", "image": self = .images
        default: return nil
        }
    }

    var kind: MediaFormat.Kind { self == .videos ? .video : .image }
}

/// `--ignore-budget`, and the check the commands that store files make before each one.
struct BudgetOptions: ParsableArguments {
    @Flag(help: "Store files even when the storage budget (media.budgetBytes, media.reserveBytes) is full.")
    var ignoreBudget = false

    /// The budget to hold files to, or nil with --ignore-budget.
    func quota(_ configuration: LibraryConfiguration) -> StorageBudget? {
        ignoreBudget ? nil : StorageBudget(configuration)
    }

    /// Throws `over_budget` when the file at `path` does not fit now.
    static func admit(
        _ path: String, quota: StorageBudget?, root: String, on connection: PostgresConnection, logger: Logger
    ) async throws(MediaError) {
        guard let quota else { return }
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // the ingest reports a missing file
        try await quota.admit(
            incoming: Int64(info.st_size), root: root,
            then: "nothing of \(path) was written; run `mediaq gc`, raise media.budgetBytes, or pass --ignore-budget",
            on: connection, logger: logger)
    }
}
