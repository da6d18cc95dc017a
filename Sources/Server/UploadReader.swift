import Hummingbird
import NIOCore

/// One image a client sent, held in memory only: it is never written to disk.
struct Upload: Sendable {
    /// The client's file name, when the upload was a form file (used in error messages only).
    let filename: String?
    let bytes: [UInt8]
}

/// Reads request bodies within the upload limit and finds the images in them.
struct UploadReader: Sendable {
    /// Largest body accepted, in bytes.
    let limitBytes: Int
    /// Most room `bytes(of:)` sets aside from a declared `Content-Length` before the body arrives.
    static let reservedBytes = 8 << 20

    /// The whole body; 413 when the client announces or sends more than the limit.
    func body(of request: Request) async throws(APIError) -> ByteBuffer {
        _ = try announcedLength(of: request)
        do {
            return try await request.body.collect(upTo: limitBytes)
        } catch is NIOTooManyBytesError {
            throw .uploadTooLarge(limitBytes: limitBytes)
        } catch {
            throw .badRequest("the request body could not be read: \(error)")
        }
    }

    /// The whole body as one array, read into room sized from `Content-Length` when the client sends one: the
    /// transport's buffers are copied once, where collecting a `ByteBuffer` that grows as the chunks come, then
    /// copying it into an array, copied a tensor's 600 kB two or three times over before it was parsed.
    /// 413 when the client announces or sends more than the limit.
    func bytes(of request: Request) async throws(APIError) -> [UInt8] {
        let announced = try announcedLength(of: request)
        var bytes: [UInt8] = []
        // Room for up to 8 MiB (thirteen tensors) before any byte has come: a client that announces more gets the
        // rest as its bytes arrive, not for the asking.
        if let announced, announced > 0 { bytes.reserveCapacity(min(announced, Self.reservedBytes)) }
        do {
            for try await chunk in request.body {
                let (total, overflow) = bytes.count.addingReportingOverflow(chunk.readableBytes)
                guard !overflow, total <= limitBytes else { throw APIError.uploadTooLarge(limitBytes: limitBytes) }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw .badRequest("the request body could not be read: \(error)")
        }
        return bytes
    }

    /// The body's length as `Content-Length` announces it, if it does; 413 when that is over the limit, before any
    /// byte is read.
    private func announcedLength(of request: Request) throws(APIError) -> Int? {
        let announced = request.headers[.contentLength].flatMap(Int.init)
        if let announced, announced > limitBytes { throw .uploadTooLarge(limitBytes: limitBytes) }
        return announced
    }

    /// The images of `/v1/classify`: every file part of a multipart form, or a raw `image/*` body.
    func images(in request: Request) async throws(APIError) -> [Upload] {
        let contentType = request.headers[.contentType] ?? ""
        let mediaType = MediaTypeParameters.mediaType(of: contentType)
        if mediaType == "multipart/form-data" {
            let form = try MultipartForm(body: try await body(of: request), contentType: contentType)
            let files = form.parts.filter { $0.filename != nil || Self.fileFieldNames.contains($0.name ?? "") }
            guard !files.isEmpty else {
                throw .missing("no file in the form: send each image as a multipart file field (for example -F file=@photo.jpg)")
            }
            return files.map { Upload(filename: $0.filename ?? $0.name, bytes: $0.bytes) }
        }
        guard mediaType.hasPrefix("image/") || mediaType == "application/octet-stream" || mediaType.isEmpty else {
            throw .unsupportedContentType(
                "Content-Type \(mediaType) is not an image: send multipart/form-data with file fields, or the image bytes with an image/* content type")
        }
        let bytes = try await bytes(of: request)
        guard !bytes.isEmpty else {
            throw .missing("empty body: send the image bytes with an image/* content type, or a multipart form")
        }
        return [Upload(filename: nil, bytes: bytes)]
    }

    /// The one image of the seeds' `/predict`: the multipart field `file`.
    func seedFile(in request: Request) async throws(APIError) -> Upload {
        let contentType = request.headers[.contentType] ?? ""
        guard MediaTypeParameters.mediaType(of: contentType) == "multipart/form-data" else {
            throw .missing("No file uploaded: send multipart/form-data with the image in the field \"file\"")
        }
        let form = try MultipartForm(body: try await body(of: request), contentType: contentType)
        guard let part = form.parts.first(where: { $0.name == "file" }) else {
            throw .missing("No file uploaded: the multipart field \"file\" is missing")
        }
        return Upload(filename: part.filename ?? "file", bytes: part.bytes)
    }

    /// Form fields read as images even without a file name.
    private static let fileFieldNames: Set<String> = ["file", "files", "file[]", "files[]", "image", "images", "image[]", "images[]"]
}
