import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MediaCore
import MediaServe
import MediaTestHarness
import NIOCore
import Testing

@Suite(.serialized) struct ServeRouteTests {
    @Test func gridSearchAndAssetPage() async throws {
        try await ServedLibrary.with { library, client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                for id in [library.beachImage, library.beachVideo, library.forestImage] {
                    #expect(response.text.contains("<img src=\"/assets/\(id)/thumbnail\" loading=\"lazy\" width=\"200\" height=\"200\""))
                }
            }
            // A search narrows the grid, shows the score's parts and what each result matched through.
            try await client.execute(uri: "/?q=beach&kind=all", method: .get) { response in
                #expect(response.status == .ok)
                #expect(
                    response.text.contains("data-id=\"\(library.beachImage)\"")
                        && response.text.contains("data-id=\"\(library.beachVideo)\""))
                #expect(!response.text.contains("data-id=\"\(library.forestImage)\""))
                #expect(response.text.contains("tagAnd 1.000") && response.text.contains("matched via beach→beaches"))
            }
            try await client.execute(uri: "/?q=forest&kind=images&provider=unsplash", method: .get) { response in
                #expect(
                    response.text.contains("data-id=\"\(library.forestImage)\"")
                        && !response.text.contains("data-id=\"\(library.beachImage)\""))
            }
            // Keyset paging: the page after the newest asset holds the two before it.
            try await client.execute(uri: "/?before=\(library.forestImage)", method: .get) { response in
                #expect(
                    !response.text.contains("data-id=\"\(library.forestImage)\"")
                        && response.text.contains("data-id=\"\(library.beachImage)\""))
            }
            try await client.execute(uri: "/assets/\(library.beachVideo)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(
                    response.text.contains("<video controls") && response.text.contains("src=\"/assets/\(library.beachVideo)/original\""))
                #expect(response.text.contains("h264") && response.text.contains("https://pixabay.example/tall.mp4"))
                #expect(response.text.contains("beaches"))
            }
        }
    }

    @Test func filesByIdWithETagAndRanges() async throws {
        try await ServedLibrary.with { library, client in
            let detailsData = try await client.execute(uri: "/api/assets/\(library.beachVideo)", method: .get) { $0.data }
            let details = try JSONSerialization.jsonObject(with: detailsData) as? [String: Any]
            let sha = try #require(details?["sha256"] as? String)
            let path = try #require(details?["path"] as? String)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: library.root + "/" + path))
            try await client.execute(uri: "/assets/\(library.beachVideo)/original", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "video/mp4")
                #expect(response.headers[.eTag] == "\"\(sha)\"" && response.headers[.acceptRanges] == "bytes")
                #expect(response.data == bytes)
            }
            try await client.execute(uri: "/assets/\(library.beachVideo)/original", method: .get, headers: [.ifNoneMatch: "\"\(sha)\""]) {
                #expect($0.status == .notModified && $0.body.readableBytes == 0)
            }
            try await client.execute(uri: "/assets/\(library.beachVideo)/original", method: .get, headers: [.range: "bytes=100-199"]) {
                #expect($0.status == .partialContent)
                #expect($0.headers[.contentRange] == "bytes 100-199/\(bytes.count)")
                #expect($0.data == bytes[100..<200])
            }
            try await client.execute(uri: "/assets/\(library.beachVideo)/original", method: .get, headers: [.range: "bytes=-10"]) {
                #expect($0.status == .partialContent && $0.data == bytes.suffix(10))
            }
            try await client.execute(
                uri: "/assets/\(library.beachVideo)/original", method: .get, headers: [.range: "bytes=\(bytes.count)-"]
            ) {
                #expect($0.status == .rangeNotSatisfiable && $0.headers[.contentRange] == "bytes */\(bytes.count)")
            }
            try await client.execute(uri: "/assets/\(library.beachImage)/thumbnail", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "image/jpeg")
                #expect(Array(response.data.prefix(2)) == [0xFF, 0xD8], "a JPEG")
            }
        }
    }

    /// An original optimised under its id (`mediaq optimize`) is served as it now is: its ETag
    /// becomes the stored file's hash, so a browser's cached copy under the old one is not
    /// confirmed (200, not 304), and the length is the new file's, though the server had the
    /// row cached from before.
    @Test func anOptimisedOriginalIsServedWithItsNewHashAsETag() async throws {
        try await ServedLibrary.with { library, client in
            // A screenshot-like PNG saved without compression: the optimiser surely shrinks it.
            let file = library.folder.path + "/screen.png"
            let common = ["--library-root", library.root, "--database-url", library.url.urlString]
            let ingested = try await onOwnThread { () throws -> ChildProcess.Outcome in
                try SampleMedia.make([
                    SampleMedia.convert, "-size", "480x270", "gradient:white-navy", "-define", "png:compression-level=0", file,
                ])
                return try Executables.mediaq(["ingest", file, "--tags", "screen", "--json"] + common)
            }
            #expect(ingested.status == 0, "\(ingested.transcript)")
            let object = try JSONSerialization.jsonObject(with: Data(ingested.standardOutput.utf8)) as? [String: Any]
            let id = try #require((object?["files"] as? [[String: Any]])?.first?["id"] as? Int)
            let download = try Data(contentsOf: URL(fileURLWithPath: file))
            let identity = try ContentStore.sha256(ofFileAt: file)
            try await client.execute(uri: "/assets/\(id)/original", method: .get) { response in
                #expect(response.headers[.eTag] == "\"\(identity)\"" && response.data == download)
            }

            let optimized = try await onOwnThread { try Executables.mediaq(["optimize", "--json"] + common) }
            #expect(optimized.status == 0, "\(optimized.transcript)")
            let detailsData = try await client.execute(uri: "/api/assets/\(id)", method: .get) { $0.data }
            let details = try JSONSerialization.jsonObject(with: detailsData) as? [String: Any]
            #expect((details?["stored"] as? [String: Any])?["method"] as? String == "png-lossless", "\(details ?? [:])")
            #expect(details?["downloadBytes"] as? Int == download.count)
            // What /api/assets answers for an optimised original is in the OpenAPI document too.
            try await ServePureTests.checkAgainstOpenAPI(
                [["method": "GET", "path": "/api/assets/{id}", "status": 200, "body": details ?? [:]]], library: library,
                client: client)
            let path = try #require(details?["path"] as? String)
            let stored = try Data(contentsOf: URL(fileURLWithPath: library.root + "/" + path))
            #expect(stored.count < download.count, "the PNG was optimised: \(optimized.standardOutput)")
            let storedHash = try ContentStore.sha256(ofFileAt: library.root + "/" + path)
            try await client.execute(uri: "/assets/\(id)/original", method: .get, headers: [.ifNoneMatch: "\"\(identity)\""]) {
                response in
                #expect(response.status == .ok, "the old ETag no longer confirms the cached copy")
                #expect(response.headers[.eTag] == "\"\(storedHash)\"")
                #expect(response.headers[.contentLength] == String(stored.count) && response.data == stored)
            }
            try await client.execute(uri: "/assets/\(id)/original", method: .get, headers: [.ifNoneMatch: "\"\(storedHash)\""]) {
                #expect($0.status == .notModified)
            }
        }
    }

    @Test func hostileRequestsGetCleanRefusalsAndTouchNothing() async throws {
        try await ServedLibrary.with { library, client in
            let before = try await library.fingerprint()
            let gets = [
                "/assets/..%2F..%2Fetc%2Fpasswd/original", "/assets/../../etc/passwd", "/assets/1%2F..%2F..%2Fetc%2Fpasswd",
                "/assets/999999/original", "/assets/999999/thumbnail", "/assets/999999", "/assets/-1", "/assets/abc/original",
                "/assets/99999999999999999999999", "/?page=99999999999", "/?page=0", "/?page=../../etc", "/?before=-5",
                "/?before=../x", "/?kind=../etc", "/?listing=../etc", "/?min-width=../1", "/?aspect=../..", "/?min-duration=nan",
                "/api/assets/../../etc/passwd", "/api/assets/999999", "/api/search?kind=../etc&tags=x", "/api/search?kind=videos",
                "/api/search?kind=videos&tags=x&limit=100000", "/login?next=//evil.example", "/etc/passwd", "/../../etc/passwd",
            ]
            for uri in gets {
                try await client.execute(uri: uri, method: .get) { response in
                    if uri.hasPrefix("/login") {
                        #expect(response.status == .ok && !response.text.contains("evil.example"), "\(uri)")
                    } else {
                        #expect((400..<500).contains(response.status.code), "\(uri): \(response.status)")
                    }
                }
            }
            for (method, uri) in [
                (HTTPRequest.Method.delete, "/assets/\(library.beachImage)"), (.put, "/"), (.patch, "/assets/\(library.beachImage)/hide"),
                (.options, "/"), (.get, "/assets/\(library.beachImage)/hide"), (.post, "/assets/../../x/hide"),
                (.post, "/assets/\(library.beachImage)/../../hide"), (.post, "/assets/\(library.beachImage)/chmod"),
            ] {
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(ServedLibrary.token)"]) { response in
                    #expect((400..<500).contains(response.status.code), "\(method) \(uri): \(response.status)")
                }
            }
            // `../` in every field of every form and in the plan's body: refused, or harmless text.
            let bearer: HTTPFields = [.authorization: "Bearer \(ServedLibrary.token)", .contentType: "application/x-www-form-urlencoded"]
            for (uri, body) in [
                ("/assets/\(library.beachImage)/rate", "stars=../../etc"), ("/assets/\(library.beachImage)/rate", "stars=99999999999"),
                ("/assets/\(library.beachImage)/tags", "add=&remove="), ("/assets/999999/hide", "csrf=../"),
                ("/assets/999999/rm", "force=../"), ("/assets/999999/block", "force=on"),
                ("/api/plan", "../../etc/passwd"), ("/api/plan?exact=../", #"{"segments": "../"}"#),
            ] {
                try await client.execute(uri: uri, method: .post, headers: bearer, body: ByteBuffer(string: body)) { response in
                    #expect((400..<500).contains(response.status.code), "POST \(uri) \(body): \(response.status)")
                }
            }
            #expect(try await library.fingerprint() == before)
        }
    }

    @Test func writesNeedTheTokenAndTheFormsCSRFToken() async throws {
        try await ServedLibrary.with { library, client in
            let id = library.beachImage
            let before = try await library.fingerprint()
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            // No token at all; a wrong bearer; a cookie that is not a session.
            for headers in [form, form + [.authorization: "Bearer wrong-token-wrong-token"], form + [.cookie: "mediaq_session=abc.def"]] {
                try await client.execute(uri: "/assets/\(id)/hide", method: .post, headers: headers, body: ByteBuffer(string: "")) {
                    #expect($0.status == .unauthorized)
                }
            }
            // Signed in, but the form carries no CSRF token, or comes from another site.
            let session = try await client.execute(
                uri: "/login", method: .post, headers: form, body: ByteBuffer(string: "token=\(ServedLibrary.token)&next=%2Fassets%2F\(id)")
            ) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/assets/\(id)")
                let cookie = try #require(response.headers[.setCookie])
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
                return String(cookie.split(separator: ";")[0])
            }
            let page = try await client.execute(uri: "/assets/\(id)", method: .get, headers: [.cookie: session]) { $0.text }
            let csrf = try #require(page.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/)?.1)
            try await client.execute(
                uri: "/assets/\(id)/hide", method: .post, headers: form + [.cookie: session], body: ByteBuffer(string: "")
            ) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(
                uri: "/assets/\(id)/hide", method: .post, headers: form + [.cookie: session, .origin: "http://evil.example"],
                body: ByteBuffer(string: "csrf=\(csrf)")
            ) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/login", method: .post, headers: form, body: ByteBuffer(string: "token=nope")) {
                #expect($0.status == .unauthorized && $0.headers[.setCookie] == nil)
            }
            #expect(try await library.fingerprint() == before)

            // With the session and its CSRF token: the same code as `mediaq hide`, `tag`, `rate`.
            try await client.execute(
                uri: "/assets/\(id)/hide", method: .post, headers: form + [.cookie: session], body: ByteBuffer(string: "csrf=\(csrf)")
            ) { #expect($0.status == .seeOther) }
            #expect(try await library.count("SELECT count(*) FROM asset WHERE hidden AND id = \(id)") == 1)
            try await client.execute(
                uri: "/assets/\(id)/tags", method: .post, headers: form + [.cookie: session],
                body: ByteBuffer(string: "csrf=\(csrf)&add=Golden+Hour&remove=sunset")
            ) { #expect($0.status == .seeOther) }
            let tagsData = try await client.execute(uri: "/api/assets/\(id)", method: .get) { $0.data }
            let tags = (try JSONSerialization.jsonObject(with: tagsData) as? [String: Any])?["tags"] as? [String]
            #expect(tags == ["beach", "golden hour"])
            // A program's bearer token needs no CSRF token.
            try await client.execute(
                uri: "/assets/\(id)/rate", method: .post, headers: form + [.authorization: "Bearer \(ServedLibrary.token)"],
                body: ByteBuffer(string: "stars=4")
            ) { #expect($0.status == .seeOther) }
            #expect(try await library.count("SELECT rating::int8 FROM asset WHERE id = \(id)") == 4)
            try await client.execute(
                uri: "/assets/\(library.forestImage)/rm", method: .post, headers: form + [.authorization: "Bearer \(ServedLibrary.token)"],
                body: ByteBuffer(string: "")
            ) { #expect($0.status == .seeOther && $0.headers[.location] == "/") }
            #expect(try await library.count("SELECT count(*) FROM asset WHERE id = \(library.forestImage)") == 0)
            try await client.execute(
                uri: "/assets/\(library.forestImage)/rm", method: .post, headers: [.authorization: "Bearer \(ServedLibrary.token)"]
            ) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test func withoutATokenNoWritesAndOffLoopbackNothing() async throws {
        try await ServedLibrary.with(token: nil) { library, client in
            try await client.execute(uri: "/assets/\(library.beachImage)/hide", method: .post, body: ByteBuffer(string: "")) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/api/plan", method: .post, body: ByteBuffer(string: "{}")) { #expect($0.status == .forbidden) }
        }
        try await ServedLibrary.with(loopbackOnly: false) { library, client in
            try await client.execute(uri: "/assets/\(library.beachImage)/thumbnail", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/search?kind=images&tags=beach", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/", method: .get) { #expect($0.status == .seeOther && $0.headers[.location] == "/login") }
            try await client.execute(uri: "/login", method: .get) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/api/search?kind=images&tags=beach", method: .get, headers: [.authorization: "Bearer \(ServedLibrary.token)"]
            ) { #expect($0.status == .ok) }
        }
    }

    @Test func theJSONAPIAnswersWhatMediaqPrints() async throws {
        try await ServedLibrary.with { library, client in
            let servedData = try await client.execute(uri: "/api/search?kind=videos&tags=beach&aspect=9:16", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "application/json")
                return response.data
            }
            let served = try #require(try JSONSerialization.jsonObject(with: servedData) as? [String: Any])
            let common = ["--library-root", library.root, "--database-url", library.url.urlString]
            let printedText = try await onOwnThread { () throws -> String in
                try Executables.mediaq(["search", "videos", "--tags", "beach", "--aspect", "9:16", "--json"] + common).standardOutput
            }
            let printed = try JSONSerialization.jsonObject(with: Data(printedText.utf8)) as? [String: Any] ?? [:]
            #expect(Set(served.keys) == Set(printed.keys))
            let servedResults = try #require(served["results"] as? [[String: Any]])
            let printedResults = try #require(printed["results"] as? [[String: Any]])
            #expect(servedResults.map { $0["id"] as? Int } == printedResults.map { $0["id"] as? Int })
            #expect(Set(servedResults.first?.keys ?? [:].keys) == Set(printedResults.first?.keys ?? [:].keys))
            #expect(servedResults.first?["matchedVia"] != nil)

            try await client.execute(uri: "/api/assets/999999", method: .get) { response in
                #expect(response.status == .notFound && response.text.contains("\"code\" : \"not_found\""))
            }
            let script = #"{"segments": [{"id": "s1", "tags": ["beach"], "media": ["video", "image"]}]}"#
            try await client.execute(
                uri: "/api/plan", method: .post, headers: [.authorization: "Bearer \(ServedLibrary.token)"],
                body: ByteBuffer(string: script)
            ) { response in
                #expect(response.status == .ok, "\(response.text)")
                let plan = try JSONSerialization.jsonObject(with: response.data) as? [String: Any]
                #expect(plan?["markedUsed"] as? Bool == false && (plan?["segments"] as? [Any])?.count == 1)
            }
            #expect(try await library.count("SELECT count(*) FROM asset WHERE last_used_at IS NOT NULL") == 0)
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                let document = try JSONSerialization.jsonObject(with: response.data) as? [String: Any]
                #expect((document?["openapi"] as? String)?.hasPrefix("3.") == true)
                #expect(
                    Set(((document?["paths"] as? [String: Any]) ?? [:]).keys) == [
                        "/api/search", "/api/assets/{id}", "/api/plan", "/openapi.json",
                    ])
            }
            try await client.execute(uri: "/stats", method: .get) { response in
                #expect(response.status == .ok && response.text.contains("<svg") && response.text.contains("pexels images"))
                #expect(response.text.contains("no run recorded yet"))
            }
            // What the last `mediaq doctor` recorded in the library.
            let doctorArguments = ["doctor", "--json", "--library-root", library.root, "--database-url", library.url.urlString]
            let doctor = try await onOwnThread { try Executables.mediaq(doctorArguments) }
            #expect(doctor.status == 0, "\(doctor.transcript)")
            #expect(DoctorRecord.last(root: library.root)?.remaining == 0)
            try await client.execute(uri: "/stats", method: .get) { response in
                #expect(response.text.contains("last run ") && response.text.contains("0 problem(s), 0 remaining"), "\(response.text)")
            }
        }
    }
}

@Suite struct ServePureTests {
    /// /openapi.json is valid OpenAPI 3.0 (against the OpenAPI Initiative's JSON Schema) and
    /// describes what the API really answers, strictly: every field sent is in the document.
    /// Checked by `Resources/check-openapi.py` with Debian's python3-jsonschema.
    @Test func theOpenAPIDocumentIsValidAndDescribesEveryAnswer() async throws {
        try await ServedLibrary.with { library, client in
            let bearer: HTTPFields = [.authorization: "Bearer \(ServedLibrary.token)"]
            let calls: [(method: HTTPRequest.Method, uri: String, template: String, body: String?)] = [
                (.get, "/api/search?kind=videos&tags=beach&aspect=9:16", "/api/search", nil),
                (.get, "/api/search?kind=images&tags=beach,forest&limit=5&exact", "/api/search", nil),
                (.get, "/api/search?kind=images&tags=nothing-has-this", "/api/search", nil),
                (.get, "/api/search?kind=videos", "/api/search", nil),
                (.get, "/api/assets/\(library.beachVideo)", "/api/assets/{id}", nil),
                (.get, "/api/assets/\(library.beachImage)", "/api/assets/{id}", nil),
                (.get, "/api/assets/999999", "/api/assets/{id}", nil),
                (.post, "/api/plan", "/api/plan", #"{"segments": [{"id": "s1", "tags": ["beach"], "media": ["video", "image"]}]}"#),
                (.post, "/api/plan?exact", "/api/plan", #"{"segments": [{"id": "s1", "tags": ["moon"], "media": ["video"]}]}"#),
                (.post, "/api/plan", "/api/plan", "not json"),
            ]
            var answers: [[String: Any]] = []
            for call in calls {
                try await client.execute(
                    uri: call.uri, method: call.method, headers: call.method == .post ? bearer : [:],
                    body: call.body.map { ByteBuffer(string: $0) }
                ) { response in
                    #expect(response.headers[.contentType] == "application/json", "\(call.uri)")
                    let body = try JSONSerialization.jsonObject(with: response.data, options: [.fragmentsAllowed])
                    answers.append([
                        "method": call.method.rawValue, "path": call.template, "status": response.status.code, "body": body,
                    ])
                }
            }
            // Both kinds of success and of failure are among them.
            #expect(Set(answers.map { $0["status"] as? Int ?? 0 }) == [200, 400, 404])
            try await Self.checkAgainstOpenAPI(answers, library: library, client: client)
        }
    }

    /// Runs `Resources/check-openapi.py` on the served /openapi.json and `answers` (method, the
    /// document's path template, status, decoded body): the document valid, each answer too.
    static func checkAgainstOpenAPI(
        _ answers: [[String: Any]], library: ServedLibrary, client: any TestClientProtocol
    )
        async throws
    {
        let checker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Resources/check-openapi.py"
        ).path
        let document = try await client.execute(uri: "/openapi.json", method: .get) { $0.data }
        let documentPath = library.folder.path + "/openapi.json"
        let answersPath = library.folder.path + "/answers.json"
        try document.write(to: URL(fileURLWithPath: documentPath))
        try JSONSerialization.data(withJSONObject: answers).write(to: URL(fileURLWithPath: answersPath))
        let check = try await onOwnThread { () throws -> ChildProcess.Outcome in
            try ChildProcess.run(
                ["/usr/bin/python3", checker, documentPath, answersPath], environment: ProcessInfo.processInfo.environment)
        }
        #expect(check.status == 0, "\(check.transcript)")
        #expect(check.standardOutput.contains("document valid; \(answers.count) answers valid"), "\(check.transcript)")
    }

    @Test func byteRanges() {
        #expect(ByteRange.parse(nil, size: 100) == .whole)
        #expect(ByteRange.parse("bytes=0-9", size: 100) == .part(first: 0, last: 9))
        #expect(ByteRange.parse("bytes=90-", size: 100) == .part(first: 90, last: 99))
        #expect(ByteRange.parse("bytes=90-1000", size: 100) == .part(first: 90, last: 99))
        #expect(ByteRange.parse("bytes=-10", size: 100) == .part(first: 90, last: 99))
        #expect(ByteRange.parse("bytes=-1000", size: 100) == .part(first: 0, last: 99))
        #expect(ByteRange.parse("bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-0", size: 100) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-1,5-6", size: 100) == .whole)
        #expect(ByteRange.parse("bytes=../..", size: 100) == .whole)
        #expect(ByteRange.parse("items=0-1", size: 100) == .whole)
        #expect(ByteRange.parse("bytes=99999999999999999999999-", size: 100) == .unsatisfiable)
    }

    @Test func escapingAndOrigins() {
        #expect(HTML.escape("<script>\"x\"&'y'</script>") == "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;")
        #expect(HTML.externalLink("javascript:alert(1)") == "javascript:alert(1)")
        #expect(AccessPolicy.isSameOrigin(origin: "http://127.0.0.1:8080", referer: nil, host: "127.0.0.1:8080"))
        #expect(!AccessPolicy.isSameOrigin(origin: "http://127.0.0.1:8080.evil.example", referer: nil, host: "127.0.0.1:8080"))
        #expect(!AccessPolicy.isSameOrigin(origin: "null", referer: nil, host: "127.0.0.1:8080"))
        #expect(AccessPolicy.isLoopback("127.0.0.1") && AccessPolicy.isLoopback("[::1]") && !AccessPolicy.isLoopback("0.0.0.0"))
        let policy = AccessPolicy(token: "0123456789abcdef", loopbackOnly: true)
        let session = try! #require(policy.newSession())
        #expect(policy.isValidSession(session) && !policy.isValidSession(session + "0"))
        #expect(!AccessPolicy(token: "another-token-0000", loopbackOnly: true).isValidSession(session))
        #expect(policy.isValidCSRF(policy.csrfToken(session: session), session: session))
        #expect(!policy.isValidCSRF(policy.csrfToken(session: session), session: policy.newSession()))
    }
}
