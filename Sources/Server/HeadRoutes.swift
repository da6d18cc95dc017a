import Foundation
import Hummingbird
import Imaging
import NIOCore
import Recognition
import Storage

/// `/v1/heads`: teach the server your own categories from the page (admins only). Examples come from uploads (each
/// embedded with its mirror image and two 85% crops, as `resnet18 train` does) or from history rows (the features
/// the row kept, int8, without variants); training runs in the background; switching a trained head on needs no
/// restart.
struct HeadRoutes: Sendable {
    let workshop: HeadWorkshop?
    let pipeline: ClassifyPipeline
    let uploads: UploadReader
    let history: HistoryStore?
    let registry: HeadRegistry

    /// The most images one request adds.
    static let maxImagesPerRequest = 64

    func register(on router: RouteTable) {
        router.get("/v1/heads") { _, _ in
            var heads: [HeadSummary] = registry.current.map {
                HeadSummary(name: $0.name, categories: $0.categories, source: registry.fileNames.contains($0.name) ? "file" : "page",
                            active: true, examples: 0)
            }
            if let workshop {
                let store = workshop.store
                let names = try await HistoryRoutes.storage { () async throws(StorageError) in try await store.names() }
                let counts = try await HistoryRoutes.storage { () async throws(StorageError) in try await store.exampleCounts() }
                for name in names {
                    let categories = counts[name] ?? [:], examples = categories.values.reduce(0, +)
                    if let index = heads.firstIndex(where: { $0.name == name }) {
                        heads[index].examples = examples
                    } else {
                        heads.append(HeadSummary(name: name, categories: categories.keys.sorted(), source: "page", active: false,
                                                 examples: examples))
                    }
                }
            }
            return try JSONBody.response(HeadList(heads: heads))
        }
        router.get("/v1/heads/{name}") { _, context in
            let (workshop, name) = try target(context)
            let store = workshop.store
            let examples = try await HistoryRoutes.storage { () async throws(StorageError) in try await store.examples(head: name) }
            let active = registry.current.first { $0.name == name }
            let categories = Array(Set(examples.map(\.category)).union(active?.categories ?? [])).sorted()
            return try JSONBody.response(HeadDetail(
                name: name, active: active != nil, activeCategories: active?.categories,
                activeReport: active.flatMap { try? JSONDecoder().decode(TrainingReport.self, from: Data($0.reportJSON.utf8)) },
                categories: categories.map { category in
                    HeadDetail.Category(name: category, examples: examples.filter { $0.category == category }.map {
                        HeadDetail.Example(id: $0.id, source: $0.source, historyID: $0.historyID, samples: $0.samples,
                                           createdAt: Timestamp.iso8601($0.createdAt),
                                           thumbnailURL: "/v1/heads/\(Self.pathComponent(name))/examples/\($0.id)/thumbnail")
                    })
                },
                training: await workshop.job(head: name)))
        }
        router.post("/v1/heads/{name}/examples") { request, context in
            let (workshop, name) = try target(context)
            guard let category = request.uri.queryParameters["category"].map(String.init) else {
                throw APIError.missing("say which category the examples show: ?category=NAME")
            }
            if let problem = LinearHead.problem(withCategory: category) { throw APIError.badRequest(problem) }
            let mediaType = MediaTypeParameters.mediaType(of: request.headers[.contentType] ?? "")
            let added: [HeadExampleBody]
            if mediaType == "application/json" {
                added = try await addHistoryRows(try await historyIDs(in: request), head: name, category: category, workshop: workshop)
            } else {
                added = try await addUploads(try await uploads.images(in: request), head: name, category: category, workshop: workshop)
            }
            return try JSONBody.response(AddedExamples(head: name, category: category, added: added), status: .created)
        }
        router.delete("/v1/heads/{name}/examples/{id}") { _, context in
            let (workshop, name) = try target(context)
            let id = try HistoryQuery.id(context.parameters.get("id"))
            let store = workshop.store
            guard try await HistoryRoutes.storage({ () async throws(StorageError) in try await store.deleteExample(head: name, id: id) }) else {
                throw APIError.notFound("head \(name) has no example \(id)")
            }
            return Response(status: .noContent)
        }
        router.get("/v1/heads/{name}/examples/{id}/thumbnail") { _, context in
            let (workshop, name) = try target(context)
            let id = try HistoryQuery.id(context.parameters.get("id"))
            let store = workshop.store
            guard let jpeg = try await HistoryRoutes.storage({ () async throws(StorageError) in try await store.thumbnail(head: name, id: id) }) else {
                throw APIError.notFound("head \(name) has no example \(id) with a thumbnail")
            }
            var headers = HTTPFields()
            headers[.contentType] = "image/jpeg"
            headers[.cacheControl] = "private, max-age=86400"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        router.post("/v1/heads/{name}/train") { _, context in
            let (workshop, name) = try target(context)
            let job = try await workshop.startTraining(head: name)
            return try JSONBody.response(job, status: .accepted, headers: [.location: "/v1/heads/\(Self.pathComponent(name))/training"])
        }
        router.get("/v1/heads/{name}/training") { _, context in
            let (workshop, name) = try target(context)
            guard let job = await workshop.job(head: name) else {
                throw APIError.notFound("head \(name) has not been trained since the server started: POST /v1/heads/\(name)/train")
            }
            return try JSONBody.response(job)
        }
        router.post("/v1/heads/{name}/activate") { _, context in
            let (workshop, name) = try target(context)
            let head = try await workshop.activate(head: name)
            return try JSONBody.response(HeadSummary(name: head.name, categories: head.categories, source: "page", active: true, examples: 0))
        }
        router.post("/v1/heads/{name}/deactivate") { _, context in
            let (workshop, name) = try target(context)
            try await workshop.deactivate(head: name)
            return Response(status: .noContent)
        }
    }

    /// The workshop and the head's name from the path, checked.
    private func target(_ context: some RequestContext) throws(APIError) -> (HeadWorkshop, String) {
        guard let workshop else {
            throw .notFound("heads taught on the page keep their examples in the database, and this server has none (--db none): start it with --db PATH or --db postgres://…")
        }
        // The router leaves path segments percent-encoded; names are UTF-8 (the page encodes them).
        let raw = context.parameters.get("name") ?? ""
        let name = raw.removingPercentEncoding ?? raw
        if let problem = LinearHead.problem(withCategory: name) {
            throw .badRequest("the head's name: " + problem.replacingOccurrences(of: "category", with: "name"))
        }
        return (workshop, name)
    }

    private func historyIDs(in request: Request) async throws(APIError) -> [Int64] {
        let body = try await uploads.body(of: request)
        struct Body: Decodable { let historyIDs: [Int64]; enum CodingKeys: String, CodingKey { case historyIDs = "history_ids" } }
        guard let ids = (try? JSONDecoder().decode(Body.self, from: Data(body.readableBytesView)))?.historyIDs else {
            throw .badRequest("the body must be JSON like {\"history_ids\": [12, 15]}, or images (multipart files or an image/* body)")
        }
        guard !ids.isEmpty, ids.count <= HeadWorkshop.maxExamplesPerCategory else {
            throw .badRequest("history_ids must list 1 to \(HeadWorkshop.maxExamplesPerCategory) rows, not \(ids.count)")
        }
        return ids
    }

    /// Examples from history rows: the features each row kept, and its thumbnail.
    private func addHistoryRows(_ ids: [Int64], head: String, category: String, workshop: HeadWorkshop) async throws(APIError) -> [HeadExampleBody] {
        guard let history else { throw .notFound("history is off on this server (--db none)") }
        try await workshop.checkRoom(head: head, category: category, adding: ids.count)
        var rows: [(id: Int64, features: [Float], thumbnail: [UInt8]?)] = []
        for id in Set(ids).sorted() {
            let code = try await HistoryRoutes.storage { () async throws(StorageError) in try await history.embedding(id: id) }
            guard let code, let features = EmbeddingCode.features(code) else {
                let exists = try await HistoryRoutes.storage { () async throws(StorageError) in try await history.entry(id: id) } != nil
                throw exists
                    ? .unprocessable("history row \(id) kept no features (rows of KServe tensors, of stream alerts and from before features were kept have none): pick another row or upload the photo")
                    : .notFound("there is no history row \(id)")
            }
            let thumbnail = try await HistoryRoutes.storage { () async throws(StorageError) in try await history.thumbnail(id: id) }
            rows.append((id, features, thumbnail))
        }
        let store = workshop.store
        var added: [HeadExampleBody] = []
        for row in rows {
            let id = try await HistoryRoutes.storage { () async throws(StorageError) in
                try await store.addExample(head: head, category: category, source: "history \(row.id)", historyID: row.id,
                                           features: [row.features], thumbnail: row.thumbnail)
            }
            added.append(HeadExampleBody(id: id, source: "history \(row.id)", samples: 1))
        }
        return added
    }

    /// Examples from uploaded images: each with its variants embedded by the network, as `resnet18 train` does.
    private func addUploads(_ images: [Upload], head: String, category: String, workshop: HeadWorkshop) async throws(APIError) -> [HeadExampleBody] {
        guard images.count <= Self.maxImagesPerRequest else {
            throw .tooManyImages("\(images.count) images in one request: send at most \(Self.maxImagesPerRequest) at a time")
        }
        try await workshop.checkRoom(head: head, category: category, adding: images.count)
        let recognizer = pipeline.recognizer
        var embedded: [(source: String, features: [[Float]], thumbnail: [UInt8]?)] = []
        // One image at a time: a large photo and its three variants are the most held at once.
        for (position, upload) in images.enumerated() {
            let file = upload.filename ?? "image \(position + 1)"
            let prepared: [PreparedImage]
            do {
                let image = try ImageDecoder.decode(upload.bytes, options: recognizer.decodeOptions)
                prepared = ([image] + Augmentation.variants(of: image, Augmentation.allCases)).map(recognizer.prepare)
            } catch {
                throw APIError(error, file: file, retryAfterSeconds: pipeline.retryAfterSeconds)
            }
            let results: [Classification]
            do {
                results = try await pipeline.batcher.classify(prepared, topK: 1, includeFeatures: true)
            } catch {
                throw APIError(error, retryAfterSeconds: pipeline.retryAfterSeconds)
            }
            let features = results.compactMap(\.features)
            guard features.count == prepared.count, features.allSatisfy({ $0.count == HeadStore.featureCount }) else {
                throw .internalError("the engine gave no features for \(file)")
            }
            embedded.append(("upload \(file)", features, try? prepared[0].thumbnailJPEG()))
        }
        let store = workshop.store
        var added: [HeadExampleBody] = []
        for example in embedded {
            let id = try await HistoryRoutes.storage { () async throws(StorageError) in
                try await store.addExample(head: head, category: category, source: example.source, features: example.features,
                                           thumbnail: example.thumbnail)
            }
            added.append(HeadExampleBody(id: id, source: example.source, samples: example.features.count))
        }
        return added
    }

    static func pathComponent(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? name
    }
}

struct HeadSummary: Encodable {
    let name: String
    let categories: [String]
    /// `file`: from `--head` or the config file; `page`: taught on the heads page.
    let source: String
    /// Whether answers carry it now.
    let active: Bool
    /// Examples stored for it (page heads).
    var examples: Int
}

struct HeadList: Encodable {
    let heads: [HeadSummary]
}

struct HeadExampleBody: Encodable {
    let id: Int64
    let source: String
    /// Feature vectors kept: 4 for an upload (it and its variants), 1 for a history row.
    let samples: Int
}

struct AddedExamples: Encodable {
    let head: String
    let category: String
    let added: [HeadExampleBody]
}

/// `GET /v1/heads/{name}`: a head's examples by category, the head answering now and its report, the training.
struct HeadDetail: Encodable {
    struct Example: Encodable {
        let id: Int64
        let source: String
        let historyID: Int64?
        let samples: Int
        let createdAt: String
        let thumbnailURL: String

        enum CodingKeys: String, CodingKey {
            case id, source, samples
            case historyID = "history_id", createdAt = "created_at", thumbnailURL = "thumbnail_url"
        }
    }

    struct Category: Encodable {
        let name: String
        let examples: [Example]
    }

    let name: String
    let active: Bool
    let activeCategories: [String]?
    let activeReport: TrainingReport?
    let categories: [Category]
    let training: HeadWorkshop.Job?

    enum CodingKeys: String, CodingKey {
        case name, active, categories, training
        case activeCategories = "active_categories", activeReport = "active_report"
    }
}
