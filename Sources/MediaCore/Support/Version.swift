/// The version of mediad and mediaq.
public enum MediaLibraryVersion {
    public static let current = "0.1.0"
}

public import struct Foundation.UUID

extension UUID {
    /// The lowercase form PostgreSQL prints, used in every message and file we write.
    public var lowercased: String { uuidString.lowercased() }
}
