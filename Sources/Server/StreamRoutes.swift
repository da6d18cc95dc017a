import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `/v1/streams` (add, list, show, change, latest frame, delete; by name) and `/v1/events` (alerts and status changes, live,
/// as server-sent events).
struct StreamRoutes: Sendable {
    let supervisor: StreamSupervisor
    let uploads: UploadReader

    func register(on router: RouteTable) {
        router.post("/v1/streams") { request, _ in
            let body = try await uploads.body(of: request)
            let streamRequest: StreamRequest
            do {
                streamRequest = try JSONDecoder().decode(StreamRequest.self, from: Data(body.readableBytesView))
            } catch {
                throw APIError.badRequest("the body must be JSON like {\"name\": \"front-door\", \"source\": \"rtsp://camera/stream\", \"fps\": 2, "
                    + "\"rules\": [{\"labels\": [\"tabby\"], \"threshold\": 0.5, \"window\": \"2/3\", \"cooldown\": 60, \"settle\": 10}], "
                    + "\"webhook\": \"http://...\", \"webhook_secret\": \"...\"}: \(Self.describe(error))")
            }
            let info = try await supervisor.add(streamRequest)
            return try JSONBody.response(info, status: .created, headers: [.location: "/v1/streams/\(info.name)"])
        }
        router.get("/v1/streams") { _, _ in
            try JSONBody.response(StreamList(streams: await supervisor.list()))
        }
        router.get("/v1/streams/{name}") { _, context in
            try JSONBody.response(try await supervisor.info(name: context.parameters.get("name") ?? ""))
        }
        router.on("/v1/streams/{name}", method: .patch) { request, context in
            let body = try await uploads.body(of: request)
            let change = try StreamChange(json: Array(body.readableBytesView))
            return try JSONBody.response(try await supervisor.change(name: context.parameters.get("name") ?? "", change))
        }
        router.get("/v1/streams/{name}/frame") { _, context in
            let jpeg = try await supervisor.frameJPEG(name: context.parameters.get("name") ?? "")
            return Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        router.get("/v1/streams/{name}/alerts/{id}/snapshot") { _, context in
            let jpeg = try await supervisor.snapshotJPEG(name: context.parameters.get("name") ?? "",
                                                         alertID: context.parameters.get("id") ?? "")
            return Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "private, max-age=86400"],
                            body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        router.delete("/v1/streams/{name}") { _, context in
            try await supervisor.remove(name: context.parameters.get("name") ?? "")
            return Response(status: .noContent)
        }
        router.get("/v1/events") { _, _ in
            let events = await supervisor.subscribe()
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    // A comment first, so that clients see the stream open at once.
                    try await writer.write(ByteBuffer(string: ": resnet18 events\n\n"))
                    try await withGracefulShutdownHandler {
                        for await event in events {
                            try await writer.write(ByteBuffer(string: event.text))
                        }
                    } onGracefulShutdown: {
                        Task { await supervisor.shutdown() }
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// The answer of `GET /v1/streams`.
    struct StreamList: Encodable {
        let streams: [StreamView]
    }

    /// A JSON decoding error in a sentence.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, _): "the field \"\(key.stringValue)\" is missing"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case DecodingError.dataCorrupted: "it is not valid JSON"
        default: "\(error)"
        }
    }
}
