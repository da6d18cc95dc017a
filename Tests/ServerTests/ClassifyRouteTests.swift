import Foundation
import Hummingbird
import Recognition
import Testing
import TestSupport

extension ServerTests {
    @Suite("POST /v1/classify")
    struct ClassifyRouteTests {
        @Test("?group= reports each class or WordNet category's summed probability beside the top-k; an unknown one is 400 with a suggestion")
        func groups() async throws {
            let name = "chelsea.png"
            let logits = try Fixtures.referenceLogits(for: name)
            let peak = logits.max()!
            let exps = logits.map { exp(Double($0 - peak)) }
            let total = exps.reduce(0, +)
            let dogs = try LabelResolver(labels: .imageNet).resolve("dog").group.classes
            let expectedDog = dogs.map { exps[$0] / total }.reduce(0, +)
            try await TestServer.run { client in
                // Twice: the second answer comes from the result cache and must carry the groups too.
                for cached in [false, true] {
                    let response = try await client.execute(uri: "/v1/classify?group=dog&group=domestic+cat&group=281", method: .post,
                                                            headers: [.contentType: "image/png"], body: ByteBuffer(bytes: try Photos.bytes(name)))
                    #expect(response.status == .ok, "\(response.text)")
                    let result = try #require((try response.object["results"] as? [[String: Any]])?.first)
                    #expect(result["cached"] as? Bool == cached)
                    let groups = try #require(result["groups"] as? [[String: Any]], "\(result)")
                    #expect(groups.map { $0["name"] as? String } == ["dog", "domestic cat", "tabby"])
                    #expect(groups.map { $0["classes"] as? Int } == [118, 5, 1])
                    #expect(groups[0]["wnid"] as? String == "n02084071")
                    let dog = try #require(groups[0]["probability"] as? Double)
                    #expect(abs(dog - expectedDog) < 1e-4, "dog \(dog), from PyTorch's logits \(expectedDog)")
                }
                let plain = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                     body: ByteBuffer(bytes: try Photos.bytes(name)))
                #expect((try plain.object["results"] as? [[String: Any]])?.first?["groups"] == nil)
                let unknown = try await client.execute(uri: "/v1/classify?group=doggo", method: .post, headers: [.contentType: "image/png"],
                                                       body: ByteBuffer(bytes: try Photos.bytes(name)))
                #expect(unknown.status == .badRequest)
                #expect((try unknown.object["error"] as? String)?.contains("did you mean \"dog\"") == true, "\(unknown.text)")
                // A name past 200 characters is refused even where it would read as a class index (0000…0 is 0).
                for group in [String(repeating: "0", count: 201), ""] {
                    let refused = try await client.execute(uri: "/v1/classify?group=\(group)", method: .post, headers: [.contentType: "image/png"],
                                                           body: ByteBuffer(bytes: try Photos.bytes(name)))
                    #expect(refused.status == .badRequest, "group of \(group.count) characters: \(refused.text)")
                    #expect((try refused.object["error"] as? String)?.contains("1 to 200 characters") == true, "\(refused.text)")
                }
            }
        }

        @Test("several multipart files answer in order, each with top-k, weights, cached and timings")
        func severalFiles() async throws {
            let names = ["chelsea.png", "coffee.png", "astronaut.png"]
            var form = MultipartBody()
            for name in names { form.addFile(field: "file", filename: name, contentType: "image/png", try Photos.bytes(name)) }
            let body = form.finished()
            let headers: HTTPFields = [.contentType: form.contentType]
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v1/classify?top_k=3", method: .post, headers: headers, body: body)
                #expect(response.status == .ok)
                let object = try response.object
                let results = try #require(object["results"] as? [[String: Any]])
                #expect(results.count == 3)
                for (result, name) in zip(results, names) {
                    #expect(result["filename"] as? String == name)
                    let top = try #require(result["top"] as? [[String: Any]])
                    #expect(top.count == 3)
                    #expect(top.map { $0["index"] as? Int } == (try Photos.referenceTop5(name)).prefix(3).map(\.index))
                    #expect(top.allSatisfy { ($0["wnid"] as? String)?.hasPrefix("n") == true })
                    #expect(result["cached"] as? Bool == false)
                    let weights = try #require(result["weights"] as? [String: Any])
                    #expect(weights["name"] as? String == "resnet18-seeded.pth")
                    #expect(weights["trained"] as? Bool == true)
                    #expect(weights["official"] as? Bool == false)
                    #expect((weights["sha256"] as? String)?.count == 8)
                    let timings = try #require(result["timings"] as? [String: Double])
                    #expect(Set(timings.keys) == ["decode", "preprocess", "queue", "inference", "total"])
                    #expect(timings["decode"]! > 0 && timings["inference"]! > 0)
                    #expect(timings["total"]! >= timings["inference"]!)
                }
                #expect(object["warning"] == nil)
            }
        }

        @Test("a raw image/jpeg body is one image; top_k sets the number of classes")
        func rawJPEGBody() async throws {
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v1/classify?top_k=2", method: .post,
                                                        headers: [.contentType: "image/jpeg"],
                                                        body: ByteBuffer(bytes: try Photos.bytes("chelsea-q90.jpg")))
                #expect(response.status == .ok)
                let results = try #require(try response.object["results"] as? [[String: Any]])
                #expect(results.count == 1)
                #expect((results[0]["top"] as? [[String: Any]])?.count == 2)

                let defaultK = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"],
                                                        body: ByteBuffer(bytes: try Photos.bytes("rocket.jpg")))
                let top = (try defaultK.object["results"] as? [[String: Any]])?.first?["top"] as? [[String: Any]]
                #expect(top?.count == 5)
            }
        }

        @Test("POST /v1/embed answers each image's 512 features within 1e-4 of PyTorch's avgpool, in upload order, and the same from the cache; /v1/classify does not carry them")
        func embedFeatures() async throws {
            var form = MultipartBody()
            for name in ["chelsea.png", "rocket.jpg"] { form.addFile(field: "file", filename: name, try Photos.bytes(name)) }
            let (body, contentType) = (form.finished(), form.contentType)
            try await TestServer.run { client in
                // rocket.jpg classified first: its cache entry then serves the embedding too.
                _ = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"],
                                             body: ByteBuffer(bytes: try Photos.bytes("rocket.jpg")))
                let response = try await client.execute(uri: "/v1/embed?top_k=1", method: .post,
                                                        headers: [.contentType: contentType], body: body)
                #expect(response.status == .ok, "\(response.text.prefix(300))")
                #expect(try response.object["dimensions"] as? Int == 512)
                let results = try #require(try response.object["results"] as? [[String: Any]])
                #expect(results.map { $0["filename"] as? String } == ["chelsea.png", "rocket.jpg"])
                for result in results {
                    let name = try #require(result["filename"] as? String)
                    let features = try #require(result["features"] as? [Double])
                    let reference = try Fixtures.referenceFeatures(for: name)
                    #expect(features.count == 512)
                    #expect(zip(features, reference).allSatisfy { abs($0 - Double($1)) < 1e-4 }, "\(name)")
                    #expect((result["top"] as? [[String: Any]])?.count == 1)
                }
                let again = try await client.execute(uri: "/v1/embed", method: .post, headers: [.contentType: "image/png"],
                                                     body: ByteBuffer(bytes: try Photos.bytes("chelsea.png")))
                let cached = try #require((try again.object["results"] as? [[String: Any]])?.first)
                #expect(cached["cached"] as? Bool == true)
                #expect((cached["features"] as? [Double]) == (results[0]["features"] as? [Double]))
                let classified = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                          body: ByteBuffer(bytes: try Photos.bytes("chelsea.png")))
                #expect((try classified.object["results"] as? [[String: Any]])?.first?["features"] == nil)
            }
        }

        @Test("the second upload of the same bytes comes from the cache, with the same answer")
        func cacheHit() async throws {
            let (body, headers) = MultipartBody.file(try Photos.bytes("rocket.jpg"), filename: "rocket.jpg")
            try await TestServer.run { client in
                let first = try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: body)
                let second = try await client.execute(uri: "/v1/classify?top_k=5", method: .post, headers: headers, body: body)
                let one = try #require((try first.object["results"] as? [[String: Any]])?.first)
                let two = try #require((try second.object["results"] as? [[String: Any]])?.first)
                #expect(one["cached"] as? Bool == false)
                #expect(two["cached"] as? Bool == true)
                let labels = { (result: [String: Any]) in (result["top"] as? [[String: Any]])?.map { $0["label"] as? String } }
                #expect(labels(one) == labels(two))
                #expect(two["batch_size"] as? Int == 0)
            }
        }

        @Test("top_k outside 1...1000 or not a number is 400")
        func badTopK() async throws {
            let (body, headers) = MultipartBody.file(try Photos.bytes("coffee.png"))
            try await TestServer.run { client in
                for value in ["0", "1001", "five", "-3"] {
                    let response = try await client.execute(uri: "/v1/classify?top_k=\(value)", method: .post, headers: headers, body: body)
                    #expect(response.status == .badRequest, "top_k=\(value)")
                    #expect((try response.object["error"] as? String)?.contains("top_k") == true)
                }
                #expect(try await client.stillServes())
            }
        }
    }
}
