import Foundation
import Hummingbird
import Imaging
import NIOCore
import Recognition

/// Every way a request is refused, and the one place where each gets its HTTP status.
/// Answered as JSON, `{"error": "what happened and what to do", "code": "machine_readable"}`,
/// which is also the KServe v2 error shape.
enum APIError: Error, CustomStringConvertible {
    /// A required form field or input is absent (400).
    case missing(String)
    /// The request is malformed: bad multipart, bad JSON, bad tensor shape (400).
    case badRequest(String)
    /// The body is over `--max-upload-mb` (413).
    case uploadTooLarge(limitBytes: Int)
    /// More images in one request than the queue can hold (413).
    case tooManyImages(String)
    /// The request's content type is not one this route reads (415).
    case unsupportedContentType(String)
    /// The upload could not be read as an image; `file` names it when a request carries several.
    case image(ImagingError, file: String?)
    /// The queue is full (503 with `Retry-After`).
    case busy(String, retryAfterSeconds: Int)
    /// The server is shutting down (503).
    case shuttingDown(String)
    /// No such route, model or stream (404).
    case notFound(String)
    /// The server already watches as many streams as it takes (409).
    case tooManyStreams(String)
    /// A stream exists but has no frame yet (409 with `Retry-After`: the stream's state, not the server, is why).
    case noFrameYet(String)
    /// The route exists but not with this method (405 with `Allow`).
    case methodNotAllowed(allowed: [String])
    /// Something that is the server's fault (500).
    case internalError(String)
    /// No credentials, or credentials that are unknown, revoked or expired (401 with `WWW-Authenticate`).
    case unauthenticated(String)
    /// Signed in, but the role does not allow this route (403).
    case forbidden(String)
    /// A cookie-authenticated state change without the session's CSRF token (403).
    case csrfRejected(String)
    /// Too many failed logins for this user or from this address (429 with `Retry-After`).
    case tooManyLogins(String, retryAfterSeconds: Int)
    /// The thing to create exists already (409).
    case conflict(String)
    /// The history database cannot be read right now (503): the message says why and what to do.
    case historyUnavailable(String)
    /// Well-formed, but what it asks cannot be done with what there is: training a head from too few examples (422).
    case unprocessable(String)

    var status: HTTPResponse.Status {
        switch self {
        case .missing, .badRequest: .badRequest
        case .uploadTooLarge, .tooManyImages: .contentTooLarge
        case .unsupportedContentType: .unsupportedMediaType
        case let .image(error, _):
            switch error {
            case .empty: .badRequest
            case .unsupportedFormat, .unsupportedFeature: .unsupportedMediaType
            case .corrupt, .tooManyPixels: .unprocessableContent
            }
        case .busy, .shuttingDown, .historyUnavailable: .serviceUnavailable
        case .notFound: .notFound
        case .tooManyStreams: .conflict
        case .noFrameYet: .conflict
        case .methodNotAllowed: .methodNotAllowed
        case .internalError: .internalServerError
        case .unauthenticated: .unauthorized
        case .forbidden, .csrfRejected: .forbidden
        case .tooManyLogins: .tooManyRequests
        case .conflict: .conflict
        case .unprocessable: .unprocessableContent
        }
    }

    /// A stable name for the kind of error, for clients that branch on it.
    var code: String {
        switch self {
        case .missing: "missing_input"
        case .badRequest: "bad_request"
        case .uploadTooLarge: "upload_too_large"
        case .tooManyImages: "too_many_images"
        case .unsupportedContentType: "unsupported_content_type"
        case let .image(error, _):
            switch error {
            case .empty: "empty_image"
            case .unsupportedFormat: "unsupported_image_format"
            case .unsupportedFeature: "unsupported_image_feature"
            case .corrupt: "corrupt_image"
            case .tooManyPixels: "too_many_pixels"
            }
        case .busy: "queue_full"
        case .shuttingDown: "shutting_down"
        case .notFound: "not_found"
        case .tooManyStreams: "too_many_streams"
        case .noFrameYet: "no_frame_yet"
        case .methodNotAllowed: "method_not_allowed"
        case .internalError: "internal_error"
        case .unauthenticated: "unauthenticated"
        case .forbidden: "forbidden"
        case .csrfRejected: "csrf_token_invalid"
        case .tooManyLogins: "too_many_failed_logins"
        case .conflict: "conflict"
        case .historyUnavailable: "history_unavailable"
        case .unprocessable: "unprocessable"
        }
    }

    var description: String {
        switch self {
        case let .missing(message), let .badRequest(message), let .tooManyImages(message),
             let .unsupportedContentType(message), let .busy(message, _), let .shuttingDown(message),
             let .notFound(message), let .tooManyStreams(message), let .noFrameYet(message), let .internalError(message),
             let .unauthenticated(message), let .forbidden(message), let .csrfRejected(message), let .tooManyLogins(message, _),
             let .conflict(message), let .historyUnavailable(message), let .unprocessable(message):
            message
        case let .methodNotAllowed(allowed):
            "this route takes \(allowed.joined(separator: ", ")) only: see /openapi.yaml"
        case let .uploadTooLarge(limit):
            "the request body is over the \(limit > 0 ? ServerConfiguration.describe(bytes: limit) + " " : "")upload limit (--max-upload-mb): send a smaller image"
        case let .image(error, file):
            file.map { "\($0): \(error.description)" } ?? error.description
        }
    }

    /// The API error for anything a route throws: recognition, batching and body-size errors are mapped here.
    init(_ error: any Error, file: String? = nil, retryAfterSeconds: Int) {
        switch error {
        case let error as APIError:
            self = error
        case let error as RecognitionError:
            if case let .image(imaging) = error {
                self = .image(imaging, file: file)
            } else {
                self = .internalError("the engine failed: \(error.description)")
            }
        case let error as ImagingError:
            self = .image(error, file: file)
        case let error as BatcherError:
            switch error {
            case .queueFull: self = .busy(error.description, retryAfterSeconds: retryAfterSeconds)
            case .tooManyImages: self = .tooManyImages(error.description)
            case .shuttingDown: self = .shuttingDown(error.description)
            }
        case is NIOTooManyBytesError:
            self = .uploadTooLarge(limitBytes: 0)
        case let error as HTTPError:
            self = error.status == .notFound
                ? .notFound(error.body ?? "no such route: see /openapi.yaml")
                : .badRequest(error.body ?? error.status.reasonPhrase)
        default:
            self = .internalError("\(error)")
        }
    }
}

extension APIError: HTTPResponseError {
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        switch self {
        case let .busy(_, seconds), let .tooManyLogins(_, seconds): headers[.retryAfter] = String(seconds)
        case .unauthenticated: headers[.wwwAuthenticate] = #"Bearer realm="resnet18""#
        case .noFrameYet: headers[.retryAfter] = "1"
        case let .methodNotAllowed(allowed): headers[.allow] = allowed.joined(separator: ", ")
        default: break
        }
        let body = try JSONBody.encoder().encode(["error": description, "code": code])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
