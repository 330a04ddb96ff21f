package import Foundation
package import MediaCore

/// WordNet data files made of some lines of the installed ones (Debian's wordnet-base): the
/// whole files take most of a minute to load in a debug build.
package enum WordNetSample {
    /// A folder `folder/wordnet` holding the installed files' lines of these synsets (by
    /// offset); returns it, and how many lines each file got.
    ///
    /// Reading the installed files takes seconds in a debug build: on a thread of its own, not
    /// the cooperative pool that the tests beside this one need.
    package static func folder(
        _ folder: String, nouns: [String], adjectives: [String]
    ) async throws -> (path: String, found: [String: Int]) {
        let target = folder + "/wordnet"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        var found: [String: Int] = [:]
        for (file, offsets) in [("data.noun", nouns), ("data.adj", adjectives)] {
            found[file] = try await onOwnThread {
                let text = try String(contentsOfFile: "/usr/share/wordnet/" + file, encoding: .utf8)
                let lines = text.split(separator: "\n").filter { line in offsets.contains { line.hasPrefix($0 + " ") } }
                try (lines.joined(separator: "\n") + "\n").write(toFile: target + "/" + file, atomically: true, encoding: .utf8)
                return lines.count
            }
        }
        return (target, found)
    }
}
