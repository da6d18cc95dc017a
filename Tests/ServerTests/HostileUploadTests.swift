import Foundation
import Hummingbird
import Testing

extension ServerTests {
    /// What each hostile upload must get: status, error code, a word the message must contain.
    struct Expected: CustomStringConvertible {
        let name: String
        let bytes: [UInt8]
        let filename: String
        let status: HTTPResponse.Status
        let code: String?
        let mentions: String?

        var description: String { name }
    }

    @Suite("Hostile uploads: documented status and message, the server keeps serving, nothing written")
    struct HostileUploadTests {
        /// Uploads `file` as a one-file form to /v1/classify, checks the answer, then that a good request works.
        static func check(_ file: Expected, client: some TestClientProtocol) async throws {
            let (form, headers) = MultipartBody.file(file.bytes, filename: file.filename)
            let response = try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: form)
            #expect(response.status == file.status, "\(file.name): \(response.text.prefix(300))")
            if let code = file.code {
                #expect(try response.object["code"] as? String == code, "\(file.name): \(response.text.prefix(300))")
            }
            if let mentions = file.mentions {
                #expect((try response.object["error"] as? String)?.contains(mentions) == true, "\(file.name): \(response.text.prefix(300))")
            }
            #expect(try await client.stillServes(), "\(file.name): no good answer after it")
        }

        @Test("zero-byte, truncated and corrupt JPEG, PNG and WebP files are 400 / 422 naming the format")
        func brokenFiles() async throws {
            let jpeg = try Photos.bytes("chelsea-q90.jpg"), png = try Photos.bytes("coffee.png"), webp = try HostileFiles.webp()
            let files = [
                Expected(name: "zero-byte JPEG", bytes: [], filename: "empty.jpg", status: .badRequest, code: "empty_image", mentions: "0 bytes"),
                Expected(name: "zero-byte PNG", bytes: [], filename: "empty.png", status: .badRequest, code: "empty_image", mentions: "0 bytes"),
                Expected(name: "zero-byte WebP", bytes: [], filename: "empty.webp", status: .badRequest, code: "empty_image", mentions: "0 bytes"),
                Expected(name: "truncated JPEG", bytes: HostileFiles.truncated(jpeg), filename: "cut.jpg",
                         status: .unprocessableContent, code: "corrupt_image", mentions: "JPEG"),
                Expected(name: "JPEG cut after its header", bytes: HostileFiles.truncated(jpeg, fraction: 0.05), filename: "cut.jpg",
                         status: .unprocessableContent, code: "corrupt_image", mentions: "JPEG"),
                Expected(name: "truncated PNG", bytes: HostileFiles.truncated(png), filename: "cut.png",
                         status: .unprocessableContent, code: "corrupt_image", mentions: "PNG"),
                Expected(name: "truncated WebP", bytes: HostileFiles.truncated(webp), filename: "cut.webp",
                         status: .unprocessableContent, code: "corrupt_image", mentions: "WebP"),
                Expected(name: "JPEG with its Huffman tables overwritten", bytes: HostileFiles.damaged(jpeg, at: 180, count: 200),
                         filename: "damaged.jpg", status: .unprocessableContent, code: "corrupt_image", mentions: "JPEG"),
                Expected(name: "PNG with damaged image data", bytes: HostileFiles.damaged(png, at: png.count / 2, count: 64),
                         filename: "damaged.png", status: .unprocessableContent, code: "corrupt_image", mentions: "PNG"),
                Expected(name: "WebP with a damaged frame header", bytes: HostileFiles.damaged(webp, at: 20, count: 16),
                         filename: "damaged.webp", status: .unprocessableContent, code: "corrupt_image", mentions: "WebP"),
            ]
            try await TestServer.run { client in
                for file in files { try await Self.check(file, client: client) }
            }
        }

        @Test("headers claiming 65535×65535 (JPEG, PNG) or 16384×16384 (WebP) are 422 before any pixel is decoded")
        func absurdDimensions() async throws {
            let jpeg = try Photos.bytes("chelsea-q90.jpg")
            let files = [
                Expected(name: "JPEG 65535×65535", bytes: HostileFiles.jpegClaiming(width: 65535, height: 65535, from: jpeg),
                         filename: "huge.jpg", status: .unprocessableContent, code: "too_many_pixels", mentions: "65535×65535"),
                Expected(name: "PNG 65535×65535", bytes: PNGHeader.claiming(width: 65535, height: 65535), filename: "huge.png",
                         status: .unprocessableContent, code: "too_many_pixels", mentions: "65535×65535"),
                Expected(name: "WebP 16384×16384", bytes: HostileFiles.webpClaimingLargest(), filename: "huge.webp",
                         status: .unprocessableContent, code: "too_many_pixels", mentions: "16384×16384"),
            ]
            try await TestServer.run { client in
                for file in files { try await Self.check(file, client: client) }
            }
        }

        @Test("a PNG whose data inflates to 1 GiB is refused by its header, or read no further than its rows")
        func decompressionBombs() async throws {
            let files = [
                // 65535×65535 RGBA16: 34 GB of samples claimed, 1 GiB really in the stream.
                Expected(name: "PNG bomb 65535×65535", bytes: try HostileFiles.bomb("bomb-65535.png"), filename: "bomb.png",
                         status: .unprocessableContent, code: "too_many_pixels", mentions: "65535×65535"),
                // 4000×4000 gray (16 MB of rows, allowed) whose stream goes on to 1 GiB: the rows are an all-black
                // image; the rest is never inflated (libspng stops at the image's end).
                Expected(name: "PNG 4000×4000 with 1 GiB of data", bytes: try HostileFiles.bomb("bomb-overlong.png"),
                         filename: "overlong.png", status: .ok, code: nil, mentions: nil),
            ]
            try await TestServer.run { client in
                for file in files { try await Self.check(file, client: client) }
            }
        }

        @Test("a JPEG with 16 MB of APP1/EXIF segments claiming 65535 IFD entries is classified like the photo")
        func hugeEXIF() async throws {
            let jpeg = try Photos.bytes("chelsea-q90.jpg")
            let swollen = HostileFiles.jpegWithHugeEXIF(segments: 250, from: jpeg)
            #expect(swollen.count > 16_000_000)
            try await TestServer.run { client in
                let (plainForm, plainHeaders) = MultipartBody.file(jpeg, filename: "plain.jpg")
                let plain = try await client.execute(uri: "/v1/classify", method: .post, headers: plainHeaders, body: plainForm)
                let (form, headers) = MultipartBody.file(swollen, filename: "exif.jpg")
                let response = try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: form)
                #expect(response.status == .ok, "\(response.text.prefix(300))")
                #expect(Self.topIndices(response) == Self.topIndices(plain))
                #expect(try await client.stillServes())
            }
        }

        @Test("CMYK JPEGs, 16-bit RGB and grayscale PNGs are classified")
        func unusualButValid() async throws {
            try await TestServer.run { client in
                for name in ["cmyk.jpg", "rgb16.png", "gray16.png"] {
                    let (form, headers) = MultipartBody.file(try HostileFiles.bytes(name), filename: name)
                    let response = try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: form)
                    #expect(response.status == .ok, "\(name): \(response.text.prefix(300))")
                    #expect(Self.topIndices(response).count == 5, "\(name)")
                }
            }
        }

        @Test("a GIF, an SVG and a PDF renamed .jpg are 415 naming what they start with")
        func otherFormatsRenamed() async throws {
            let files = [
                Expected(name: "GIF as .jpg", bytes: try HostileFiles.bytes("photo.gif"), filename: "photo.jpg",
                         status: .unsupportedMediaType, code: "unsupported_image_format", mentions: "GIF8"),
                Expected(name: "SVG as .jpg", bytes: try HostileFiles.bytes("drawing.svg"), filename: "drawing.jpg",
                         status: .unsupportedMediaType, code: "unsupported_image_format", mentions: "<?xml"),
                Expected(name: "PDF as .jpg", bytes: try HostileFiles.bytes("document.pdf"), filename: "document.jpg",
                         status: .unsupportedMediaType, code: "unsupported_image_format", mentions: "%PDF"),
            ]
            try await TestServer.run { client in
                for file in files { try await Self.check(file, client: client) }
            }
        }

        @Test("a wrong or missing content type: raw bodies need image/* or none, form parts are sniffed")
        func contentTypes() async throws {
            let jpeg = try Photos.bytes("chelsea-q90.jpg")
            try await TestServer.run { client in
                let wrong = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "application/pdf"],
                                                     body: ByteBuffer(bytes: jpeg))
                #expect(wrong.status == .unsupportedMediaType)
                #expect(try wrong.object["code"] as? String == "unsupported_content_type")
                #expect((try wrong.object["error"] as? String)?.contains("application/pdf") == true)

                // No Content-Type at all: the bytes are sniffed.
                let none = try await client.execute(uri: "/v1/classify", method: .post, headers: [:], body: ByteBuffer(bytes: jpeg))
                #expect(none.status == .ok, "\(none.text.prefix(300))")

                // A part that says it is a PNG but is a JPEG: the bytes decide.
                var form = MultipartBody()
                form.addFile(field: "file", filename: "photo.png", contentType: "image/png", jpeg)
                let mislabelled = try await client.execute(uri: "/v1/classify", method: .post,
                                                           headers: [.contentType: form.contentType], body: form.finished())
                #expect(mislabelled.status == .ok, "\(mislabelled.text.prefix(300))")

                // The seeds' /predict takes only multipart.
                let seed = try await client.execute(uri: "/predict", method: .post, headers: [.contentType: "image/jpeg"],
                                                    body: ByteBuffer(bytes: jpeg))
                #expect(seed.status == .badRequest)
                #expect(try seed.object["code"] as? String == "missing_input")

                // A multipart content type without a boundary.
                let noBoundary = try await client.execute(uri: "/v1/classify", method: .post,
                                                          headers: [.contentType: "multipart/form-data"], body: ByteBuffer(bytes: jpeg))
                #expect(noBoundary.status == .badRequest)
                #expect(try await client.stillServes())
            }
        }

        @Test("1,000 files in one request are 413 naming --queue-depth; a request at the limit is answered")
        func thousandFiles() async throws {
            let tiny = try HostileFiles.bytes("tiny.jpg")
            var form = MultipartBody()
            for index in 0..<1000 {
                // Bytes after the end-of-image marker make each upload distinct (no cache hits) and change no pixel.
                form.addFile(field: "file", filename: "tiny-\(index).jpg", tiny + [UInt8(index & 0xFF), UInt8(index >> 8)])
            }
            var depth = MultipartBody()
            for index in 0..<64 { depth.addFile(field: "file", filename: "tiny-\(index).jpg", tiny + [UInt8(index), 1]) }
            let (thousand, atDepth) = (form, depth)
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v1/classify", method: .post,
                                                        headers: [.contentType: thousand.contentType], body: thousand.finished())
                #expect(response.status == .contentTooLarge)
                #expect(try response.object["code"] as? String == "too_many_images")
                #expect((try response.object["error"] as? String)?.contains("--queue-depth") == true)

                let allowed = try await client.execute(uri: "/v1/classify", method: .post,
                                                       headers: [.contentType: atDepth.contentType], body: atDepth.finished())
                #expect(allowed.status == .ok, "\(allowed.text.prefix(300))")
                #expect((try allowed.object["results"] as? [Any])?.count == 64)
                #expect(try await client.stillServes())
            }
        }

        @Test("file names with ../, NUL and HTML are echoed as data in JSON, and nothing is written to disk")
        func hostileFilenames() async throws {
            let token = "hostile\(UInt32.random(in: 0...UInt32.max))"
            let names = [
                "../../../../tmp/\(token)-escape.jpg",
                "..\\..\\\(token)-windows.jpg",
                "\(token)-nul\u{0}.jpg.sh",
                "<img src=x onerror=alert(1)>\(token).jpg",
                "\(token)\"; filename*=UTF-8''evil.jpg",
            ]
            let jpeg = try Photos.bytes("chelsea-q90.jpg")
            let before = DirectorySnapshot()
            try await TestServer.run { client in
                for name in names {
                    var form = MultipartBody()
                    form.addFile(field: "file", filename: name, jpeg + Array(name.utf8))
                    let response = try await client.execute(uri: "/v1/classify", method: .post,
                                                            headers: [.contentType: form.contentType], body: form.finished())
                    // The name is data: it comes back in a JSON string (escaped by JSON), or the form is refused as malformed.
                    #expect([.ok, .badRequest].contains(response.status), "\(name.debugDescription): \(response.text.prefix(300))")
                    if response.status == .ok {
                        let results = try response.object["results"] as? [[String: Any]]
                        let echoed = results?.first?["filename"] as? String
                        #expect(echoed?.contains(token) == true, "\(name.debugDescription) came back as \(echoed.debugDescription)")
                        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                    }
                    #expect(try await client.stillServes())
                }
            }
            #expect(DirectorySnapshot().new(since: before, containing: token).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "/tmp/\(token)-escape.jpg"))
        }

        static func topIndices(_ response: TestResponse) -> [Int] {
            guard let object = try? response.object, let results = object["results"] as? [[String: Any]],
                  let top = results.first?["top"] as? [[String: Any]] else { return [] }
            return top.compactMap { $0["index"] as? Int }
        }
    }
}
