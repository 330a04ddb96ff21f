import Foundation
import HTTPTypes
import Hummingbird
import MediaCore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

extension LibraryServer {
    /// Files by asset id only: the path comes from the asset's row, never from the request.
    func addFiles(to router: Router<BasicRequestContext>) {
        let fileIO = Hummingbird.FileIO()
        let cache = FileRowCache()
        for variant in ["original", "thumbnail"] {
            let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, context in
                guard let id = assetId(context) else { return plain(.notFound, "no asset has that id") }
                var files: AssetFiles?
                // An original's cached row holds while the file is the one it was read with; the
                // one stat() that tells is also the one the response's size comes from.
                var original: stat?
                if let cached = cache.get(id) {
                    if variant == "thumbnail" {
                        files = cached.files
                    } else if let info = fileStatus(cached.files.path), UInt64(info.st_ino) == cached.originalInode {
                        files = cached.files
                        original = info
                    }
                }
                do {
                    if files == nil {
                        files = try await withConnection("cannot read asset \(id)") { connection in
                            try await AssetRepository(connection: connection, logger: logger).files(id: id)
                        }
                        if let files { cache.put(files, originalInode: originalInode(matching: files)) }
                    }
                } catch {
                    let error = MediaError.from(error)
                    return plain(httpStatus(for: error), error.message)
                }
                guard let files, files.state == "present" || (variant == "thumbnail" && files.state != "deleting") else {
                    return plain(.notFound, "no asset has id \(id) (or its original is gone)")
                }
                let relative = variant == "original" ? files.path : files.thumbnailPath
                guard let relative, let path = containedPath(relative) else {
                    return plain(.notFound, "asset \(id) has no \(variant)")
                }
                return try await serve(
                    path: path, type: variant == "original" ? files.mimeType : "image/jpeg",
                    // The original's ETag is the hash of the file served (its stored hash once
                    // optimised); the thumbnail's follows the identity.
                    etag: variant == "original" ? "\"\(files.storedSha256)\"" : "\"\(files.sha256)-thumbnail\"", status: original,
                    request: request, context: context, fileIO: fileIO)
            }
            router.get("/assets/:id/\(variant)", use: handler)
            router.head("/assets/:id/\(variant)", use: handler)
        }
    }

    /// A library file's status, nil when it cannot be examined.
    func fileStatus(_ relative: String) -> stat? {
        guard let path = containedPath(relative) else { return nil }
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    /// The original's inode, when the file on disk has the row's size: a replacement renamed in
    /// after the row was read (a different size) leaves nil, so the row is read again next time.
    func originalInode(matching files: AssetFiles) -> UInt64? {
        guard let info = fileStatus(files.path), Int64(info.st_size) == files.bytes else { return nil }
        return UInt64(info.st_ino)
    }

    /// `relative` under the root, refused if it would leave it (a row is trusted, but a file
    /// server checks anyway).
    func containedPath(_ relative: String) -> String? {
        guard !relative.hasPrefix("/"), !relative.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        return root + "/" + relative
    }

    /// A file with its validators: `ETag` (the served content's SHA-256), 304 on a matching
    /// `If-None-Match`, one byte range (206) or 416. `status`: the file's, when the caller has
    /// just read it.
    func serve(
        path: String, type: String, etag: String, status known: stat? = nil, request: Request, context: BasicRequestContext,
        fileIO: Hummingbird.FileIO
    ) async throws -> Response {
        var headers: HTTPFields = [
            .eTag: etag, .cacheControl: "private, max-age=86400", .acceptRanges: "bytes",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*"
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        var info = known ?? stat()
        guard known != nil || stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return plain(.notFound, "the file is not on disk")
        }
        let size = Int64(info.st_size)
        headers[.contentType] = type
        var range = ByteRange.parse(request.headers[.range], size: size)
        if let ifRange = request.headers[.ifRange], ifRange != etag { range = .whole }
        switch range {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .part(let first, let last):
            headers[.contentRange] = "bytes \(first)-\(last)/\(size)"
            headers[.contentLength] = String(last - first + 1)
            if request.method == .head { return Response(status: .partialContent, headers: headers) }
            let body = try await fileIO.loadFile(path: path, range: Int(first)...Int(last), context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        case .whole:
            headers[.contentLength] = String(size)
            if request.method == .head { return Response(status: .ok, headers: headers) }
            return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: path, context: context))
        }
    }
}

func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(
        status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
        body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
}
