import NIOCore

extension MultipartForm {
    /// Parses a request body with the boundary of `contentType`; a malformed body is a 400 saying why.
    init(body: ByteBuffer, contentType: String) throws(APIError) {
        let result = body.withUnsafeReadableBytes { raw in
            Result { () throws(Malformed) in try MultipartForm(bytes: raw, contentType: contentType) }
        }
        switch result {
        case let .success(form): self = form
        case let .failure(error): throw .badRequest(error.message)
        }
    }
}
