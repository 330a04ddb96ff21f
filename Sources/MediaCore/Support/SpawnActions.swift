#if canImport(Glibc)
public import Glibc
#endif

/// What every child process of ours gets: only standard input, output and error.
public enum SpawnActions {
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+). It is declared only for
    /// _GNU_SOURCE, which Swift's Glibc module does not define, so it is looked up by name.
    private static let closeFrom: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// Adds "close every descriptor from 3 up" after the actions already added. Without it a
    /// child inherits whatever the parent has open without close-on-exec: a test process's
    /// database connections ended up held by `mediad` and its decoder workers, and outlived
    /// the test when it died.
    public static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        _ = closeFrom?(&actions, 3)
    }
}
