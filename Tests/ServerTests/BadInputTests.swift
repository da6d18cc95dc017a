import Foundation
import Hummingbird
import Testing

extension ServerTests {
    @Suite("Bad input: the right status, a JSON error, and the server keeps serving")
    struct BadInputTests {
        @Test("a body one byte over --max-upload-mb is 413; at the limit it is read")
        func uploadLimit() async throws {
            let limit = 64 * 1024  // chelsea-q90.jpg (35 kB) still fits
            let configuration = TestServer.configuration { $0.maxUploadBytes = limit }
            try await TestServer.run(configuration) { client in
                let over = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                    body: ByteBuffer(repeating: 0x41, count: limit + 1))
                #expect(over.status == .contentTooLarge)
                #expect(try over.object["code"] as? String == "upload_too_large")
                #expect((try over.object["error"] as? String)?.contains("--max-upload-mb") == true)

                let atLimit = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                       body: ByteBuffer(repeating: 0x41, count: limit))
                #expect(atLimit.status == .unsupportedMediaType)

                let (form, headers) = MultipartBody.file([UInt8](repeating: 0x42, count: limit))
                let multipart = try await client.execute(uri: "/predict", method: .post, headers: headers, body: form)
                #expect(multipart.status == .contentTooLarge)
                #expect(try await client.stillServes())
            }
        }

        @Test("GIF bytes, a text file and a text/plain body are 415")
        func notAnImage() async throws {
            let gif = Array("GIF89a".utf8) + [0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00] + [UInt8](repeating: 0, count: 32)
            try await TestServer.run { client in
                let (gifForm, gifHeaders) = MultipartBody.file(gif, filename: "dot.gif")
                let gifResponse = try await client.execute(uri: "/v1/classify", method: .post, headers: gifHeaders, body: gifForm)
                #expect(gifResponse.status == .unsupportedMediaType)
                #expect((try gifResponse.object["error"] as? String)?.contains("GIF89a") == true)

                let (textForm, textHeaders) = MultipartBody.file(Array("hello, this is not a photo\n".utf8), filename: "notes.txt")
                let textResponse = try await client.execute(uri: "/predict", method: .post, headers: textHeaders, body: textForm)
                #expect(textResponse.status == .unsupportedMediaType)
                #expect(try textResponse.object["code"] as? String == "unsupported_image_format")

                let plain = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "text/plain"],
                                                     body: ByteBuffer(string: "hello"))
                #expect(plain.status == .unsupportedMediaType)
                #expect(try plain.object["code"] as? String == "unsupported_content_type")
                #expect(try await client.stillServes())
            }
        }

        @Test("a truncated PNG is 422 naming the problem")
        func truncatedPNG() async throws {
            let truncated = Array(try Photos.bytes("chelsea.png").prefix(2000))
            try await TestServer.run { client in
                let (form, headers) = MultipartBody.file(truncated, filename: "cut.png")
                let response = try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: form)
                #expect(response.status == .unprocessableContent)
                #expect(try response.object["code"] as? String == "corrupt_image")
                #expect((try response.object["error"] as? String)?.contains("PNG") == true)
                #expect(try await client.stillServes())
            }
        }

        @Test("a PNG whose header claims 65535×65535 is 422 before any pixel is decoded")
        func decompressionBomb() async throws {
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                        body: ByteBuffer(bytes: PNGHeader.claiming(width: 65535, height: 65535)))
                #expect(response.status == .unprocessableContent)
                #expect(try response.object["code"] as? String == "too_many_pixels")
                #expect((try response.object["error"] as? String)?.contains("65535×65535") == true)
                #expect(try await client.stillServes())
            }
        }

        @Test("in a request of several files, the bad one is named")
        func badFileNamed() async throws {
            var form = MultipartBody()
            form.addFile(field: "file", filename: "good.png", try Photos.bytes("coffee.png"))
            form.addFile(field: "file", filename: "broken.png", Array(try Photos.bytes("coffee.png").prefix(500)))
            let body = form.finished()
            let headers: HTTPFields = [.contentType: form.contentType]
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: body)
                #expect(response.status == .unprocessableContent)
                #expect((try response.object["error"] as? String)?.hasPrefix("broken.png: ") == true)
            }
        }

        @Test("malformed multipart, an empty form, an unknown route and a wrong method are JSON 400 / 404 / 405")
        func malformedRequests() async throws {
            try await TestServer.run { client in
                let unterminated = try await client.execute(
                    uri: "/v1/classify", method: .post, headers: [.contentType: "multipart/form-data; boundary=xyz"],
                    body: ByteBuffer(string: "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nabc"))
                #expect(unterminated.status == .badRequest)
                #expect(try unterminated.object["error"] != nil)

                var empty = MultipartBody()
                empty.addField("note", value: "no file here")
                let noFile = try await client.execute(uri: "/v1/classify", method: .post,
                                                      headers: [.contentType: empty.contentType], body: empty.finished())
                #expect(noFile.status == .badRequest)

                let nowhere = try await client.execute(uri: "/v3/nothing", method: .get)
                #expect(nowhere.status == .notFound)
                #expect(try nowhere.object["error"] != nil)

                let wrongMethod = try await client.execute(uri: "/predict", method: .get)
                #expect(wrongMethod.status == .methodNotAllowed)
                #expect(wrongMethod.headers[.allow] == "POST")
                let unknownMethod = try await client.execute(uri: "/v2/models/resnet18", method: .init("QUERY")!)
                #expect(unknownMethod.status == .methodNotAllowed)
                #expect(unknownMethod.headers[.allow] == "GET")
                #expect(try await client.stillServes())
            }
        }
    }
}

/// The start of a PNG file: signature and IHDR, with correct CRC, claiming any size.
enum PNGHeader {
    static func claiming(width: UInt32, height: UInt32) -> [UInt8] {
        var ihdr = Array("IHDR".utf8)
        ihdr += bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]  // 8-bit RGB
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + bigEndian(13) + ihdr + bigEndian(crc32(ihdr))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
