/// `GET /openapi.yaml`: the OpenAPI 3.1 description of every route, written by hand and kept true by a
/// schemathesis run against the live server (tests/api/run_schemathesis.sh).
enum OpenAPIDocument {
    static let yaml = #"""
        openapi: 3.1.0
        info:
          title: resnet18 serve
          version: "1"
          summary: Offline ResNet-18 image recognition (torchvision's network on oneDNN).
          description: |
            Upload a photo, get the most likely ImageNet classes. Every result names the weights it came from;
            with the untrained built-in weights it also carries a `warning` (the labels are then meaningless).
            Errors are JSON `{"error": "...", "code": "..."}` (the KServe v2 error shape).
            Uploads are held in memory only and never written to disk.
          license:
            name: BSD-3-Clause
        servers:
          - url: /
        tags:
          - name: classify
          - name: kserve
            description: KServe Open Inference Protocol v2 (REST).
          - name: operations
        paths:
          /predict:
            post:
              tags: [classify]
              operationId: predict
              summary: The seed service's contract - top 3 classes of the image in field `file`, in percent.
              requestBody:
                required: true
                content:
                  multipart/form-data:
                    schema:
                      type: object
                      required: [file]
                      properties:
                        file:
                          type: string
                          format: binary
                          description: A JPEG, PNG or WebP file.
                          minLength: 1
                    encoding:
                      file:
                        contentType: image/jpeg, image/png, image/webp, application/octet-stream
              responses:
                "200":
                  description: The top 3 classes, most likely first.
                  headers:
                    X-ResNet18-Weights:
                      description: The weights that produced the answer (`name sha256:xxxxxxxx` or `untrained`).
                      schema: {type: string}
                  content:
                    application/json:
                      schema:
                        type: array
                        items: {$ref: "#/components/schemas/SeedPrediction"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "413": {$ref: "#/components/responses/TooLarge"}
                "415": {$ref: "#/components/responses/Unsupported"}
                "422": {$ref: "#/components/responses/Unprocessable"}
                "503": {$ref: "#/components/responses/Busy"}
          /v1/classify:
            post:
              tags: [classify]
              operationId: classify
              summary: Top-k classes of one or many images (multipart files, or one raw image body).
              parameters:
                - name: top_k
                  in: query
                  required: false
                  description: How many classes to answer per image.
                  schema: {type: integer, minimum: 1, maximum: 1000, default: 5}
              requestBody:
                required: true
                content:
                  multipart/form-data:
                    schema:
                      type: object
                      description: Every file field is classified, in order (send `file` several times for several images).
                      required: [file]
                      properties:
                        file:
                          type: string
                          format: binary
                          minLength: 1
                    encoding:
                      file:
                        contentType: image/jpeg, image/png, image/webp, application/octet-stream
                  image/jpeg:
                    schema: {type: string, format: binary, minLength: 1}
                  image/png:
                    schema: {type: string, format: binary, minLength: 1}
                  image/webp:
                    schema: {type: string, format: binary, minLength: 1}
                  application/octet-stream:
                    schema: {type: string, format: binary, minLength: 1}
              responses:
                "200":
                  description: One result per image, in upload order.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/ClassifyResponse"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "413": {$ref: "#/components/responses/TooLarge"}
                "415": {$ref: "#/components/responses/Unsupported"}
                "422": {$ref: "#/components/responses/Unprocessable"}
                "503": {$ref: "#/components/responses/Busy"}
          /v1/model:
            get:
              tags: [operations]
              operationId: model
              summary: What the server runs - weights, labels, engine, limits.
              responses:
                "200":
                  description: The model in use.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/ModelInfo"}
          /v2:
            get:
              tags: [kserve]
              operationId: serverMetadata
              summary: Server metadata.
              responses:
                "200":
                  description: Name, version and protocol extensions.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/ServerMetadata"}
          /v2/health/live:
            get:
              tags: [kserve]
              operationId: serverLive
              summary: Liveness.
              responses:
                "200":
                  description: The server is live.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [live]
                        properties:
                          live: {type: boolean}
          /v2/health/ready:
            get:
              tags: [kserve]
              operationId: serverReady
              summary: Readiness.
              responses:
                "200":
                  description: The server is ready.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [ready]
                        properties:
                          ready: {type: boolean}
          /v2/models/{model}:
            get:
              tags: [kserve]
              operationId: modelMetadata
              summary: Model metadata - inputs, outputs, weights.
              parameters:
                - $ref: "#/components/parameters/Model"
              responses:
                "200":
                  description: The model's metadata.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/ModelMetadata"}
                "404": {$ref: "#/components/responses/NotFound"}
          /v2/models/{model}/ready:
            get:
              tags: [kserve]
              operationId: modelReady
              summary: Model readiness.
              parameters:
                - $ref: "#/components/parameters/Model"
              responses:
                "200":
                  description: The model is ready.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/ModelReady"}
                "404": {$ref: "#/components/responses/NotFound"}
          /v2/models/{model}/infer:
            post:
              tags: [kserve]
              operationId: modelInfer
              summary: Logits for FP32 [N,3,224,224] tensors or BYTES [N] of base64 images.
              description: |
                Returns FP32 logits [N,1000] in the output `logits`. Ask for the output with
                `parameters: {classification: k}` for the classification extension's BYTES [N,k] strings
                `"<logit>:<index>:<label>"`, most likely first.
              parameters:
                - $ref: "#/components/parameters/Model"
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: "#/components/schemas/InferenceRequest"}
              responses:
                "200":
                  description: The outputs.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/InferenceResponse"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "404": {$ref: "#/components/responses/NotFound"}
                "413": {$ref: "#/components/responses/TooLarge"}
                "415": {$ref: "#/components/responses/Unsupported"}
                "422": {$ref: "#/components/responses/Unprocessable"}
                "503": {$ref: "#/components/responses/Busy"}
          /metrics:
            get:
              tags: [operations]
              operationId: metrics
              summary: Prometheus metrics - requests by route and status, latencies, batch sizes, queue depth, cache hits.
              responses:
                "200":
                  description: Prometheus text exposition format 0.0.4.
                  content:
                    text/plain:
                      schema: {type: string}
          /openapi.yaml:
            get:
              tags: [operations]
              operationId: openapi
              summary: This document.
              responses:
                "200":
                  description: OpenAPI 3.1.
                  content:
                    application/yaml:
                      schema: {type: string}
          /:
            get:
              tags: [operations]
              operationId: page
              summary: The web page - upload, drop or paste a photo and see its top 5.
              responses:
                "200":
                  description: HTML.
                  content:
                    text/html:
                      schema: {type: string}
          /assets/page.css:
            get:
              tags: [operations]
              operationId: pageStyle
              summary: The page's stylesheet.
              responses:
                "200":
                  description: CSS.
                  content:
                    text/css:
                      schema: {type: string}
          /assets/page.js:
            get:
              tags: [operations]
              operationId: pageScript
              summary: The page's script.
              responses:
                "200":
                  description: JavaScript.
                  content:
                    text/javascript:
                      schema: {type: string}
        components:
          parameters:
            Model:
              name: model
              in: path
              required: true
              description: The model name; this server serves `resnet18`.
              schema: {type: string}
              example: resnet18
          responses:
            BadRequest:
              description: Missing or malformed input (no file field, bad multipart, bad JSON, wrong tensor shape, top_k out of range).
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            NotFound:
              description: No such model or version.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            TooLarge:
              description: The body is over --max-upload-mb, or a request holds more images than --queue-depth.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            Unsupported:
              description: Not an image, or an image format or content type this server does not read.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            Unprocessable:
              description: A corrupt or truncated image, or one over --max-pixels (refused before decoding).
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            Busy:
              description: The queue is full (--queue-depth); retry after the number of seconds in Retry-After.
              headers:
                Retry-After:
                  description: Seconds to wait before retrying.
                  schema: {type: integer, minimum: 0}
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
          schemas:
            Error:
              type: object
              required: [error, code]
              properties:
                error: {type: string, description: What happened and what to do.}
                code: {type: string, description: A stable name for the kind of error.}
            Weights:
              type: object
              required: [name, sha256, trained, official]
              properties:
                name: {type: string, description: The weights file, or `untrained`.}
                sha256: {type: string, description: First 8 hex digits of the file's SHA-256.}
                trained: {type: boolean, description: false for the untrained built-in weights - the labels are then meaningless.}
                official: {type: boolean, description: torchvision's ImageNet checkpoint resnet18-f37072fd.pth.}
            Prediction:
              type: object
              required: [index, label, probability]
              properties:
                index: {type: integer, minimum: 0}
                wnid: {type: string, description: WordNet id of the class, when the labels have one.}
                label: {type: string}
                probability: {type: number, minimum: 0, maximum: 1}
            Timings:
              type: object
              description: Milliseconds spent on the image.
              required: [decode, preprocess, queue, inference, total]
              properties:
                decode: {type: number, minimum: 0}
                preprocess: {type: number, minimum: 0}
                queue: {type: number, minimum: 0, description: Waiting for a batch to fill and for the engine.}
                inference: {type: number, minimum: 0, description: The engine call, shared by its batch.}
                total: {type: number, minimum: 0}
            SeedPrediction:
              type: object
              required: [label, probability, confidence, weights]
              properties:
                label: {type: string}
                probability: {type: number, minimum: 0, maximum: 100, description: Percent, two decimals.}
                confidence: {type: number, minimum: 0, maximum: 100, description: The same percentage, under the Flask service's name.}
                weights: {type: string}
            ImageResult:
              type: object
              required: [top, weights, cached, timings, batch_size]
              properties:
                filename: {type: string}
                top:
                  type: array
                  items: {$ref: "#/components/schemas/Prediction"}
                weights: {$ref: "#/components/schemas/Weights"}
                cached: {type: boolean, description: Answered from the result cache (same bytes seen before).}
                timings: {$ref: "#/components/schemas/Timings"}
                batch_size: {type: integer, minimum: 0, description: Images in the engine call; 0 when cached.}
            ClassifyResponse:
              type: object
              required: [results, weights]
              properties:
                results:
                  type: array
                  items: {$ref: "#/components/schemas/ImageResult"}
                weights: {$ref: "#/components/schemas/Weights"}
                warning: {type: string, description: Present with untrained weights.}
            ModelInfo:
              type: object
              required: [model, weights, labels, classes, threads, precision, max_batch, max_upload_bytes, max_pixels]
              properties:
                model: {type: string}
                weights: {$ref: "#/components/schemas/Weights"}
                warning: {type: string}
                labels: {type: string}
                classes: {type: integer}
                threads: {type: integer}
                precision: {type: string, enum: [fp32, bf16, int8]}
                max_batch: {type: integer}
                max_upload_bytes: {type: integer}
                max_pixels: {type: integer}
            ServerMetadata:
              type: object
              required: [name, version, extensions]
              properties:
                name: {type: string}
                version: {type: string}
                extensions:
                  type: array
                  items: {type: string}
            ModelReady:
              type: object
              required: [name, ready]
              properties:
                name: {type: string}
                ready: {type: boolean}
            TensorMetadata:
              type: object
              required: [name, datatype, shape]
              properties:
                name: {type: string}
                datatype: {type: string}
                shape:
                  type: array
                  items: {type: integer}
            Parameters:
              type: object
              additionalProperties:
                type: [string, number, boolean]
            ModelMetadata:
              type: object
              required: [name, versions, platform, inputs, outputs]
              properties:
                name: {type: string}
                versions:
                  type: array
                  items: {type: string}
                platform: {type: string}
                inputs:
                  type: array
                  items: {$ref: "#/components/schemas/TensorMetadata"}
                outputs:
                  type: array
                  items: {$ref: "#/components/schemas/TensorMetadata"}
                parameters: {$ref: "#/components/schemas/Parameters"}
            InferenceInput:
              type: object
              required: [name, shape, datatype, data]
              properties:
                name: {type: string}
                shape:
                  type: array
                  items: {type: integer, minimum: 1}
                datatype: {type: string, enum: [FP32, BYTES]}
                data:
                  type: array
                  description: Row-major tensor data (flat or nested); BYTES elements are base64 strings.
                  items: {}
            RequestedOutput:
              type: object
              required: [name]
              properties:
                name: {type: string, enum: [logits]}
                parameters:
                  type: object
                  properties:
                    classification: {type: integer, minimum: 1, maximum: 1000}
            InferenceRequest:
              type: object
              required: [inputs]
              properties:
                id: {type: string}
                inputs:
                  type: array
                  minItems: 1
                  maxItems: 1
                  items: {$ref: "#/components/schemas/InferenceInput"}
                outputs:
                  type: array
                  items: {$ref: "#/components/schemas/RequestedOutput"}
            InferenceOutput:
              type: object
              required: [name, datatype, shape, data]
              properties:
                name: {type: string}
                datatype: {type: string, enum: [FP32, BYTES]}
                shape:
                  type: array
                  items: {type: integer}
                data:
                  type: array
                  items:
                    type: [number, string]
            InferenceResponse:
              type: object
              required: [model_name, model_version, parameters, outputs]
              properties:
                model_name: {type: string}
                model_version: {type: string}
                id: {type: string}
                parameters: {$ref: "#/components/schemas/Parameters"}
                outputs:
                  type: array
                  items: {$ref: "#/components/schemas/InferenceOutput"}
        """#
}
