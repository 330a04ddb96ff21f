#if canImport(Glibc)
import Glibc
#endif

/// Where a JPEG's picture ends. Bytes after its EOI marker are another picture (an MPF second
/// image, a depth map) or a motion photo's video: transcoding keeps only the picture, so a file
/// that carries more is left as it is.
enum JPEGStructure {
    /// The offset just past the first picture's EOI marker, or nil when the markers cannot be followed.
    static func endOfImage(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            guard count >= 4, buffer[0] == 0xFF, buffer[1] == 0xD8 else { return nil }
            var offset = 2
            while offset + 1 < count {
                guard buffer[offset] == 0xFF else { return nil }
                let marker = buffer[offset + 1]
                if marker == 0xFF {  // fill byte before a marker
                    offset += 1
                    continue
                }
                offset += 2
                if marker == 0xD9 { return offset }
                if (0xD0...0xD7).contains(marker) || marker == 0x01 { continue }  // markers without a length
                guard offset + 1 < count else { return nil }
                let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
                guard length >= 2 else { return nil }
                offset += length
                guard marker == 0xDA else { continue }
                // Entropy-coded data runs to the next marker: FF 00 is a stuffed FF, FF D0-D7 a restart.
                while offset + 1 < count {
                    // memchr to the next FF: megabytes of coded data are not walked byte by byte.
                    guard let found = memchr(buffer.baseAddress! + offset, 0xFF, count - offset) else { return nil }
                    offset = buffer.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    guard offset + 1 < count else { return nil }
                    let next = buffer[offset + 1]
                    guard next == 0x00 || (0xD0...0xD7).contains(next) else { break }
                    offset += 2
                }
            }
            return nil
        }
    }

    /// Whether anything but padding (zero or 0xFF bytes) follows the picture.
    static func carriesDataAfterPicture(_ bytes: [UInt8]) -> Bool {
        guard let end = endOfImage(bytes) else { return false }
        return bytes[end...].contains { $0 != 0x00 && $0 != 0xFF }
    }
}
