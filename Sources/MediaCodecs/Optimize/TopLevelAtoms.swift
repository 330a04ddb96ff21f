#if canImport(Glibc)
import Glibc
#endif

/// The top-level atoms (boxes) of an MP4 or QuickTime file, read from their 8- or 16-byte
/// headers: where the index (`moov`) sits relative to the media data (`mdat`).
enum TopLevelAtoms {
    /// True when `moov` comes before the first `mdat`, false when after, nil when the file has
    /// not both (or cannot be read).
    static func indexComesFirst(path: String) -> Bool? {
        let names = atomNames(path: path)
        guard let index = names.firstIndex(of: "moov"), let media = names.firstIndex(of: "mdat") else { return nil }
        return index < media
    }

    static func atomNames(path: String) -> [String] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return [] }
        let fileSize = Int64(info.st_size)
        var names: [String] = []
        var offset: Int64 = 0
        var header = [UInt8](repeating: 0, count: 16)
        // Bounded: a damaged file must not keep this loop going.
        while offset + 8 <= fileSize, names.count < 10_000 {
            let read = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 16, off_t(offset)) }
            guard read >= 8 else { break }
            var size = header[0..<4].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            names.append(String(decoding: header[4..<8], as: UTF8.self))
            if size == 1 {
                guard read >= 16 else { break }
                size = header[8..<16].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            } else if size == 0 {
                break  // the atom runs to the end of the file
            }
            guard size >= 8 else { break }
            offset += size
        }
        return names
    }
}
