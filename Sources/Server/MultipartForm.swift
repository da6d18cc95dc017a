import Foundation

/// A `multipart/form-data` body (RFC 7578) split into its parts, in memory: uploads never touch the disk.
///
/// Delimiters are found with `memchr` and `memcmp`, so a 20 MB upload is split in milliseconds even in a debug
/// build (a byte-at-a-time parser takes about a second per megabyte there).
/// (Free of NIO and Hummingbird, so the request fuzz target compiles it as it is; the `ByteBuffer` entry point
/// that answers 400 is in MultipartForm+ByteBuffer.swift.)
struct MultipartForm {
    /// One form field: its name, the client's file name when it is a file, its content type and bytes.
    struct Part {
        var name: String?
        var filename: String?
        var contentType: String?
        var bytes: [UInt8]
    }

    /// Why a body was refused, in words for the client.
    struct Malformed: Error, Equatable {
        let message: String

        static func badRequest(_ message: String) -> Malformed { Malformed(message: message) }
    }

    let parts: [Part]

    /// Parses `body` with the boundary of `contentType` (`multipart/form-data; boundary=...`).
    init(bytes body: UnsafeRawBufferPointer, contentType: String) throws(Malformed) {
        guard let boundary = MediaTypeParameters.value(of: "boundary", in: contentType), !boundary.isEmpty,
              boundary.utf8.count <= 200 else {
            throw .badRequest("multipart/form-data needs a boundary parameter in Content-Type (1 to 70 characters)")
        }
        switch Self.split(body, boundary: Array(boundary.utf8)) {
        case let .success(parts): self.parts = parts
        case let .failure(error): throw error
        }
    }

    private static func split(_ body: UnsafeRawBufferPointer, boundary: [UInt8]) -> Result<[Part], Malformed> {
        let delimiter = Array("--".utf8) + boundary
        let crlf: [UInt8] = [13, 10]
        let nextDelimiter = crlf + delimiter
        // The first delimiter opens the body or follows the preamble's CRLF.
        var position: Int
        if body.starts(with: delimiter) {
            position = delimiter.count
        } else if let found = find(nextDelimiter, in: body, from: 0) {
            position = found + nextDelimiter.count
        } else {
            return .failure(.badRequest("no part delimited by the boundary \(String(decoding: boundary, as: UTF8.self)) in the multipart/form-data body"))
        }
        var parts: [Part] = []
        while true {
            if body.count - position >= 2, body[position] == 45, body[position + 1] == 45 {  // "--": the closing delimiter
                return .success(parts)
            }
            // Transport padding, then CRLF, then the part's headers up to an empty line.
            while position < body.count, body[position] == 32 || body[position] == 9 { position += 1 }
            guard body.count - position >= 2, body[position] == 13, body[position + 1] == 10 else {
                return .failure(.badRequest("malformed multipart/form-data body: a boundary line is not followed by CRLF"))
            }
            position += 2
            guard let headersEnd = find([13, 10, 13, 10], in: body, from: position - 2) else {
                return .failure(.badRequest("truncated multipart/form-data body: a part's headers do not end"))
            }
            var part = Part(bytes: [])
            let headers = String(decoding: UnsafeRawBufferPointer(rebasing: body[position..<max(position, headersEnd)]), as: UTF8.self)
            for line in headers.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                switch line[..<colon].trimmingCharacters(in: .whitespaces).lowercased() {
                case "content-disposition":
                    part.name = MediaTypeParameters.value(of: "name", in: value)
                    part.filename = MediaTypeParameters.value(of: "filename", in: value)
                case "content-type":
                    part.contentType = value
                default:
                    break
                }
            }
            let contentStart = headersEnd + 4
            guard let contentEnd = find(nextDelimiter, in: body, from: contentStart) else {
                return .failure(.badRequest("truncated multipart/form-data body: the closing boundary --\(String(decoding: boundary, as: UTF8.self))-- is missing"))
            }
            part.bytes = Array(UnsafeRawBufferPointer(rebasing: body[contentStart..<contentEnd]))
            parts.append(part)
            position = contentEnd + nextDelimiter.count
        }
    }

    /// Offset of the first `needle` in `haystack` at or after `start`.
    private static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start >= 0, haystack.count - start >= needle.count, let base = haystack.baseAddress else { return nil }
        return needle.withUnsafeBytes { pattern -> Int? in
            var offset = start
            while haystack.count - offset >= needle.count {
                // Candidates are the places where the first byte occurs; memcmp checks the rest.
                guard let hit = memchr(base + offset, Int32(needle[0]), haystack.count - offset - needle.count + 1) else {
                    return nil
                }
                if memcmp(hit, pattern.baseAddress!, needle.count) == 0 {
                    return base.distance(to: UnsafeRawPointer(hit))
                }
                offset = base.distance(to: UnsafeRawPointer(hit)) + 1
            }
            return nil
        }
    }
}
