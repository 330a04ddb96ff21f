import ArgumentParser
import Foundation
import Logging
import MediaCommandSupport
import MediaCore
import PostgresNIO

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
