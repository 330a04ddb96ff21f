import Foundation
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Doctor's repairs (`--fix`): modes, adoption of originals without rows, lost originals,
/// thumbnails, orphans and quarantine. None deletes an original whose bytes match its name.
extension LibraryDoctor {
    // MARK: - Checks and fixes

    /// Library files are written once and read-only: 0444, and regular files.
    func checkMode(_ relative: String, into report: inout Report, fix: Bool) {
        var info = stat()
        guard lstat(store.absolute(relative), &info) == 0 else { return }
        let mode = info.st_mode & 0o7777
        let regular = (info.st_mode & S_IFMT) == S_IFREG
        guard mode != 0o444 || !regular else { return }
        var problem = Problem(
            kind: .wrongPermissions, path: relative, assetId: nil,
            detail: regular ? "mode \(String(mode, radix: 8)), not 444" : "not a regular file")
        if fix && regular {
            if chmod(store.absolute(relative), 0o444) == 0 {
                problem.fixed = true
                problem.action = "mode set to 444"
            } else {
                problem.action = "chmod failed: \(LibraryRoot.errnoText())"
            }
        }
        report.problems.append(problem)
    }

    func apply(_ repair: DoctorScan.Repair, to problem: inout Problem, row: Row?) async {
        switch repair {
        case .cannot(let reason):
            problem.action = reason
        case .removeFile:
            remove(problem.path, &problem)
        case .adopt:
            await adopt(&problem)
        case .markLost:
            guard let row else { return }
            do {
                try await assets.markLost([row.id])
                problem.fixed = true
                problem.action = "marked lost: no longer offered; `mediaq forget \(row.id)` removes its record"
            } catch {
                problem.action = "not marked lost: \(error.message)"
            }
        case .regenerateThumbnail(let thumbPath):
            guard let row else { return }
            if let decoder, await regenerate(row, at: thumbPath, decoder: decoder) {
                problem.fixed = true
                problem.action = "regenerated"
            } else {
                problem.action = decoder == nil ? "not regenerated: no decoder" : "could not regenerate it"
            }
        }
    }

    /// An original that is there but not offered: recorded again (never removed); bytes that do
    /// not match their name go to the quarantine folder.
    func adopt(_ problem: inout Problem) async {
        guard let decoder else {
            problem.action = "not adopted: no decoder"
            return
        }
        let adopter = OriginalAdopter(root: store.root, decoder: decoder, logger: logger, readsFileKeywords: readsFileKeywords)
        do {
            switch try await adopter.adopt(problem.path, on: repository.connection) {
            case .adopted(let id, let withMetadata):
                problem.fixed = true
                problem.action =
                    "adopted as asset \(id)"
                    + (withMetadata
                        ? " with its metadata file" : " (no metadata file: provider unknown, tags only from its file's keywords)")
            case .updated(let id), .unchanged(let id):
                problem.fixed = true
                problem.action = "offered again as asset \(id)"
            case .corrupt(let detail):
                let relative = Self.quarantineFolder + "/" + (problem.path as NSString).lastPathComponent
                if (try? store.createDirectory(store.absolute(Self.quarantineFolder))) != nil,
                    rename(store.absolute(problem.path), store.absolute(relative)) == 0
                {
                    LibraryRoot.syncDirectory(store.absolute(Self.quarantineFolder))
                    problem.fixed = true
                    problem.action = "quarantined to \(relative): \(detail)"
                } else {
                    problem.action = "not quarantined (\(LibraryRoot.errnoText())): \(detail)"
                }
            case .skipped(let code, let detail):
                problem.action = "not adopted (\(code)): \(detail)"
            }
        } catch {
            problem.action = "not adopted: \(error.message)"
        }
    }

    func remove(_ relative: String, _ problem: inout Problem) {
        do {
            try store.remove(relative)
            problem.fixed = true
            problem.action = "removed"
        } catch {
            problem.action = "not removed: \(error)"
        }
    }

    /// Makes the thumbnail again and records it, with a create intent around the placing (as ingest does).
    func regenerate(_ row: Row, at relative: String, decoder: any MediaDecoder) async -> Bool {
        let output = store.temporaryPath(suffix: ".jpg")
        defer { unlink(output) }
        let size: ThumbnailSize
        do {
            try store.createDirectory(store.temporaryDirectory)
            size = try await decoder.writeThumbnail(of: store.absolute(row.path), kind: row.kind, to: output)
        } catch {
            logger.warning("thumbnail not regenerated", metadata: ["asset": "\(row.id)", "reason": "\(error)"])
            return false
        }
        var info = stat()
        let bytes = stat(output, &info) == 0 ? Int64(info.st_size) : 0
        do {
            try await assets.recordIntents([relative])
            try? store.remove(relative)
            try store.place(output, at: relative, mode: 0o444)
            try await repository.recordRegeneratedThumbnail(assetId: row.id, path: relative, size: size, bytes: bytes)
            return true
        } catch {
            logger.warning("thumbnail not recorded", metadata: ["asset": "\(row.id)", "reason": "\(error)"])
            return false
        }
    }

    /// Moves a corrupt original aside to `quarantine/<sha>.<ext>` and marks its row, so search
    /// and plan no longer offer it and a person can look at it.
    func quarantine(_ row: Row, _ problem: inout Problem) async {
        let name = (row.path as NSString).lastPathComponent
        let relative = Self.quarantineFolder + "/" + name
        do {
            try store.createDirectory(store.absolute(Self.quarantineFolder))
        } catch {
            problem.action = "not quarantined: \(error)"
            return
        }
        do {
            // Row first, then the move: a crash between leaves a quarantined row whose file is
            // still at its old name, which doctor reports (row without original) rather than loses.
            try await repository.markQuarantined(row.id, at: relative)
        } catch {
            problem.action = "not quarantined: \(error.message)"
            return
        }
        guard rename(store.absolute(row.path), store.absolute(relative)) == 0 else {
            problem.action = "row marked, but the file could not be moved: \(LibraryRoot.errnoText())"
            return
        }
        LibraryRoot.syncDirectory(store.absolute(Self.quarantineFolder))
        problem.fixed = true
        problem.action = "quarantined to \(relative); asset \(row.id) marked quarantined"
    }
}
