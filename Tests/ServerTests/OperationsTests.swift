import Foundation
import HTTPTypes
import Hummingbird
import Recognition
import TestSupport
import Testing

extension ServerTests {
    @Suite("Metrics, OpenAPI, the page, and the weights in every answer")
    struct OperationsTests {
        @Test("/metrics counts requests by route and status, batch sizes, queue depth and cache hits")
        func metrics() async throws {
            let (body, headers) = MultipartBody.file(try Photos.bytes("chelsea.png"))
            try await TestServer.run { client in
                _ = try await client.execute(uri: "/predict", method: .post, headers: headers, body: body)
                _ = try await client.execute(uri: "/predict", method: .post, headers: headers, body: body)
                _ = try await client.execute(uri: "/predict", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "x"))
                let response = try await client.execute(uri: "/metrics", method: .get)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = response.text
                #expect(text.contains(#"resnet18_http_requests_total{route="/predict",method="POST",status="200"} 2"#))
                #expect(text.contains(#"resnet18_http_requests_total{route="/predict",method="POST",status="400"} 1"#))
                #expect(text.contains("resnet18_http_request_duration_seconds_bucket"))
                #expect(text.contains("resnet18_batch_size_count 1"))
                #expect(text.contains("resnet18_queue_depth 0"))
                #expect(text.contains("resnet18_cache_hits_total 1"))
                #expect(text.contains("resnet18_cache_misses_total 1"))
                #expect(text.contains("resnet18_inference_duration_seconds_count 1"))
                // Every family says what it is (HELP) and what kind (TYPE), HELP first.
                let lines = text.split(separator: "\n")
                let types = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
                #expect(types.count >= 13)
                for family in types {
                    let help = lines.firstIndex { $0.hasPrefix("# HELP \(family) ") }
                    let type = lines.firstIndex { $0.hasPrefix("# TYPE \(family) ") }
                    #expect(help != nil && help! < type!, "\(family) has no HELP line before its TYPE")
                }
            }
        }

        @Test("/openapi.yaml is OpenAPI 3.1 and names every route")
        func openAPI() async throws {
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/openapi.yaml", method: .get)
                #expect(response.status == .ok)
                let text = response.text
                #expect(text.hasPrefix("openapi: 3.1"))
                for path in ["/predict:", "/v1/classify:", "/v1/model:", "/v2/health/live:", "/v2/health/ready:", "/v2/models/{model}:",
                             "/v2/models/{model}/ready:", "/v2/models/{model}/infer:", "/metrics:", "/openapi.yaml:", "  /:"] {
                    #expect(text.contains("\n  \(path.trimmingCharacters(in: .whitespaces))"), "\(path)")
                }
                #expect(!text.contains("\t"))
            }
        }

        @Test("the page, its script and stylesheet come from the binary; labels go through textContent")
        func page() async throws {
            try await TestServer.run { client in
                let page = try await client.execute(uri: "/", method: .get)
                #expect(page.status == .ok)
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                for id in ["file-input", "drop-zone", "preview", "results", "timings", "untrained-banner", "weights", "error"] {
                    #expect(page.text.contains("id=\"\(id)\""), "\(id)")
                }
                #expect(!page.text.contains("http://") && !page.text.contains("https://"))
                let script = try await client.execute(uri: "/assets/page.js", method: .get)
                #expect(script.status == .ok)
                #expect(script.text.contains("textContent = prediction.label"))
                #expect(!script.text.contains("innerHTML"))
                let style = try await client.execute(uri: "/assets/style.css", method: .get)
                #expect(style.text.contains("@media (max-width: 640px)"))
                let model = try await client.execute(uri: "/v1/model", method: .get).object
                #expect((model["weights"] as? [String: Any])?["name"] as? String == "resnet18-seeded.pth")
                #expect(model["version"] as? String == ProductVersion.current)
                #expect(model["warning"] == nil)
            }
        }

        @Test("with untrained weights every answer says trained: false and carries a warning")
        func untrainedWarning() async throws {
            let cache = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: cache) }
            var configuration = RecognizerConfiguration()
            configuration.environment = ["XDG_CACHE_HOME": cache.path, "HOME": cache.path]
            let untrained = try Recognizer.load(configuration)
            let (body, headers) = MultipartBody.file(try Photos.bytes("coffee.png"))
            try await TestServer.run(recognizer: untrained) { client in
                let classify = try await client.execute(uri: "/v1/classify", method: .post, headers: headers, body: body).object
                #expect((classify["weights"] as? [String: Any])?["trained"] as? Bool == false)
                #expect((classify["warning"] as? String)?.contains("meaningless") == true)
                let predict = try await client.execute(uri: "/predict", method: .post, headers: headers, body: body)
                #expect(predict.headers[HTTPField.Name("X-ResNet18-Warning")!] != nil)
                #expect(try predict.array.first?["weights"] as? String == "untrained")
                let model = try await client.execute(uri: "/v1/model", method: .get).object
                #expect(model["warning"] != nil)
                let metadata = try await client.execute(uri: "/v2/models/resnet18", method: .get).object
                #expect((metadata["parameters"] as? [String: Any])?["weights_trained"] as? Bool == false)
            }
        }
    }
}
