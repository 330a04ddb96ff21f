import Foundation
public import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// The quota: the library's size (originals and thumbnails) against `media.budgetBytes`, and
/// the filesystem's free space against `media.reserveBytes`.
public struct StorageBudget: Sendable, Equatable {
    public var budgetBytes: Int64
    public var reserveBytes: Int64
    public var lowWaterBytes: Int64

    /// What a thumbnail or poster is assumed to take before it exists (they are 400 px JPEGs).
    public static let thumbnailAllowance: Int64 = 128 * 1024

    public init(budgetBytes: Int64, reserveBytes: Int64, lowWaterBytes: Int64) {
        self.budgetBytes = budgetBytes
        self.reserveBytes = reserveBytes
        self.lowWaterBytes = lowWaterBytes
    }

    public init(_ configuration: LibraryConfiguration) {
        self.init(
            budgetBytes: configuration.budgetBytes, reserveBytes: configuration.reserveBytes,
            lowWaterBytes: configuration.lowWaterBytes)
    }

    /// Why `incoming` more bytes do not fit, or nil when they do.
    /// - Parameters:
    ///   - used: the library's size now.
    ///   - free: free space on the library's filesystem (nil: unknown, not checked).
    public func shortfall(incoming: Int64, used: Int64, free: Int64?) -> String? {
        let projected = used + incoming + Self.thumbnailAllowance
        if projected > budgetBytes {
            return "over budget: \(ByteCount.format(used)) used + \(ByteCount.format(incoming)) incoming > "
                + "budget \(ByteCount.format(budgetBytes))"
        }
        if let free, free - incoming - Self.thumbnailAllowance < reserveBytes {
            return "disk nearly full: \(ByteCount.format(free)) free, \(ByteCount.format(incoming)) incoming, "
                + "reserve \(ByteCount.format(reserveBytes))"
        }
        return nil
    }

    /// Why a file of `incoming` bytes can never be stored (it is larger than the whole budget,
    /// with its thumbnail), or nil. Such a file is rejected rather than left waiting for a
    /// collection that cannot make room for it.
    public func neverFits(incoming: Int64) -> String? {
        guard incoming + Self.thumbnailAllowance > budgetBytes else { return nil }
        return "\(ByteCount.format(incoming)) is larger than the whole budget of \(ByteCount.format(budgetBytes)) (media.budgetBytes)"
    }

    /// Throws `over_budget` when `incoming` more bytes do not fit in the library at `root` now
    /// (a file that never fits is the ingest's rejection, not this wait).
    /// `then` says what happens next (the daemon collects; a command tells the operator).
    public func admit(
        incoming: Int64, root: String, then: String, on connection: PostgresConnection, logger: Logger
    ) async throws(MediaError) {
        if neverFits(incoming: incoming) != nil { return }
        let used = try await MaintenanceRepository(connection: connection, logger: logger).usedBytes()
        if let reason = shortfall(incoming: incoming, used: used, free: Self.freeBytes(atPath: root)) {
            throw MediaError(.overBudget, reason + "; " + then)
        }
    }

    /// The size GC should reach so that `incoming` fits: the low-water mark, or lower when the
    /// filesystem's reserve needs it.
    public func collectionTarget(incoming: Int64, used: Int64, free: Int64?) -> Int64 {
        var target = min(lowWaterBytes, budgetBytes - incoming - Self.thumbnailAllowance)
        if let free {
            let missing = reserveBytes + incoming + Self.thumbnailAllowance - free
            if missing > 0 { target = min(target, used - missing) }
        }
        return max(0, target)
    }

    /// Free bytes for an unprivileged writer on the filesystem holding `path`.
    public static func freeBytes(atPath path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
