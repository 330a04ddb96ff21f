import Hummingbird
import Logging
import MediaCore
import PostgresNIO

extension LibraryServer {
    /// The curation forms of the asset page, each calling what its `mediaq` command calls:
    /// `CurationRepository` for tag, hide, unhide and rate; `GarbageCollector.removeNow` (and the
    /// block list) for rm and block. All or nothing, as the commands are.
    func addCuration(to router: Router<BasicRequestContext>) {
        for action in ["tags", "hide", "unhide", "rate", "rm", "block"] {
            router.post("/assets/:id/\(action)") { request, context in
                guard let id = assetId(context) else { return plain(.notFound, "no asset has that id") }
                let fields = try await form(request)
                // A browser's session must carry the form's CSRF token; a program's bearer
                // token is no cookie a page can borrow, so it needs none.
                let bearer = request.headers[.authorization].map { access.isAuthenticated(authorization: $0, session: nil) } ?? false
                if !bearer && !access.isValidCSRF(fields["csrf"], session: request.cookies[AccessPolicy.sessionCookie]?.value) {
                    return plain(.forbidden, "the form's CSRF token is missing or not this session's: reload the page")
                }
                do {
                    let next = try await curate(action, id: id, fields: fields)
                    return Response(status: .seeOther, headers: [.location: next])
                } catch {
                    let error = MediaError.from(error)
                    let status = httpStatus(for: error)
                    if status == .forbidden {
                        // A reader (the serve unit's account) may look, not curate: say whose
                        // rights it takes rather than only the database's words.
                        return plain(
                            status,
                            "this server's account may not curate the library: curation needs the library's owner's rights "
                                + "(run mediaq serve as mediad's account; docs/serve.md). The database said: \(error.message)")
                    }
                    return plain(status, error.message)
                }
            }
        }
    }

    /// Does `action` to asset `id`; returns where the browser goes next.
    func curate(_ action: String, id: Int64, fields: FormFields) async throws(MediaError) -> String {
        let root = root
        let logger = logger
        switch action {
        case "tags":
            let add = fields.all("add")
            let remove = fields.all("remove")
            guard !TagNormalizer.normalize(add).isEmpty || !TagNormalizer.normalize(remove).isEmpty else {
                throw MediaError(.invalidRequest, "give tags to add or remove")
            }
            _ = try await rowsThenMetadata("cannot change the tags of asset \(id)") { connection in
                try await CurationRepository(connection: connection, logger: logger).retag([id], add: add, remove: remove)
            }
        case "hide", "unhide":
            let hidden = action == "hide"
            _ = try await rowsThenMetadata("cannot \(action) asset \(id)") { connection in
                try await CurationRepository(connection: connection, logger: logger).setHidden([id], hidden)
            }
        case "rate":
            guard let text = fields["stars"], let stars = Int(text), (0...Scoring.maximumRating).contains(stars) else {
                throw MediaError(.invalidRequest, "stars must be 0 to \(Scoring.maximumRating)")
            }
            _ = try await rowsThenMetadata("cannot rate asset \(id)") { connection in
                try await CurationRepository(connection: connection, logger: logger).rate([id], stars: stars)
            }
        case "rm", "block":
            let block = action == "block"
            let force = fields["force"] != nil
            _ = try await withConnection("cannot remove asset \(id)") { connection in
                let preview = try await CurationRepository(connection: connection, logger: logger).previewRemoval([id])
                let done = Set(
                    try await GarbageCollector(connection: connection, root: root, logger: logger).removeNow(
                        [id], force: force, block: block))
                if block { await BlockRepository(connection: connection, logger: logger).writeList(root: root) }
                for asset in preview where done.contains(asset.id) {
                    logger.event(
                        .assetRemoved, block ? "asset blocked and removed (mediaq serve)" : "asset removed (mediaq serve)",
                        metadata: ["id": "\(asset.id)", "sha256": "\(asset.sha256)"])
                }
                return done.count
            }
            return "/"
        default:
            throw MediaError(.invalidRequest, "unknown action")
        }
        return "/assets/\(id)"
    }

    /// A change of rows, then the metadata files it marked: written here when the root is
    /// writable, else by mediad within a second (as `mediaq tag` does).
    func rowsThenMetadata<T: Sendable>(
        _ action: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(MediaError) -> T {
        let (root, logger) = (root, logger)
        let value = try await withConnection(action, body)
        // The change is committed: the files follow outside the request's query limit, since
        // their syncfs can take seconds on a busy disk, and a slow flush must not report a
        // change that was made as one that failed. A failure leaves the marks to mediad.
        do {
            _ = try await pool.withConnection("writing metadata files", within: .seconds(120)) { connection in
                try await MetadataRepository(connection: connection, logger: logger).flushAll(in: ContentStore(root: root))
            }
        } catch {
            logger.debug("the metadata files are left to mediad: \(error.message)")
        }
        return value
    }
}
