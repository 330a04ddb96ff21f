/// The version of mediad and mediaq.
public enum MediaLibraryVersion {
    public static let current = "0.1.0"
}
