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

            Login: once the service has users, every route but the public ones (login, health probes, this
            document, page assets) needs a signed-in browser session (cookie `resnet18_session`, from the login
            form) or an API token (`Authorization: Bearer r18_...`, made by an admin with POST /v1/tokens).
            Viewers classify and read; admins also manage streams, users and tokens (403 otherwise). A request
            that changes state with a session cookie must carry the session's CSRF token (header `X-CSRF-Token`,
            from GET /v1/session, or form field `csrf_token`); bearer requests need none. `/metrics` needs a
            token too (Prometheus: `authorization: {credentials: TOKEN}`). Bound to loopback with no users, or
            started with `--no-auth`, the service runs open and no credentials are asked (the empty security
            requirement below).
          license:
            name: BSD-3-Clause
        servers:
          - url: /
        security:
          - bearerToken: []
          - sessionCookie: []
          - {}
        tags:
          - name: classify
          - name: kserve
            description: KServe Open Inference Protocol v2 (REST).
          - name: history
            description: The recognition history (every recognition recorded; off with --db none).
          - name: operations
          - name: account
            description: Login, sessions and API tokens.
          - name: streams
            description: Cameras watched by ffmpeg, alert rules, live events.
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "200":
                  description: The top 3 classes, most likely first.
                  headers:
                    X-ResNet18-Weights:
                      description: The weights that produced the answer (`name sha256:xxxxxxxx` or `untrained`).
                      schema: {type: string}
                    X-ResNet18-History-Id:
                      description: The history row of this recognition, once committed.
                      schema: {type: integer, minimum: 1}
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: Name, version and protocol extensions.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/ServerMetadata"}
          /v2/health/live:
            get:
              security: []
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
              security: []
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: Prometheus text exposition format 0.0.4.
                  content:
                    text/plain:
                      schema: {type: string}
          /openapi.yaml:
            get:
              security: []
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
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: HTML.
                  content:
                    text/html:
                      schema: {type: string}
          /assets/page.css:
            get:
              security: []
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
              security: []
              tags: [operations]
              operationId: pageScript
              summary: The page's script.
              responses:
                "200":
                  description: JavaScript.
                  content:
                    text/javascript:
                      schema: {type: string}
          /history:
            get:
              tags: [history]
              operationId: historyPage
              summary: The history page - recorded recognitions with thumbnails, filters, pages and a chart of label counts.
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: HTML.
                  content:
                    text/html:
                      schema: {type: string}
          /assets/history.css:
            get:
              tags: [history]
              operationId: historyStyle
              summary: The history page's stylesheet.
              responses:
                "200":
                  description: CSS.
                  content:
                    text/css:
                      schema: {type: string}
          /assets/history.js:
            get:
              tags: [history]
              operationId: historyScript
              summary: The history page's script.
              responses:
                "200":
                  description: JavaScript.
                  content:
                    text/javascript:
                      schema: {type: string}
          /v1/history:
            get:
              tags: [history]
              operationId: history
              summary: Recorded recognitions matching the filters, newest first, a page at a time.
              parameters:
                - {$ref: "#/components/parameters/HistoryLabel"}
                - {$ref: "#/components/parameters/HistoryFrom"}
                - {$ref: "#/components/parameters/HistoryTo"}
                - {$ref: "#/components/parameters/HistoryMinProbability"}
                - {$ref: "#/components/parameters/HistorySource"}
                - {$ref: "#/components/parameters/HistoryAlerts"}
                - name: limit
                  in: query
                  required: false
                  description: Rows per page.
                  schema: {type: integer, minimum: 1, maximum: 1000, default: 50}
                - name: cursor
                  in: query
                  required: false
                  description: The `next_cursor` of the previous page (stable while rows are added).
                  schema: {type: integer, minimum: 1, maximum: 9223372036854775807}
                - name: offset
                  in: query
                  required: false
                  description: Rows to skip (after the cursor, if any).
                  schema: {type: integer, minimum: 0, maximum: 10000000, default: 0}
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: One page of rows.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/HistoryList"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "404": {$ref: "#/components/responses/HistoryOff"}
                "503": {$ref: "#/components/responses/HistoryUnavailable"}
          /v1/history.csv:
            get:
              tags: [history]
              operationId: historyCSV
              summary: Every recorded recognition matching the filters, as CSV (newest first; top-5 as columns).
              parameters:
                - {$ref: "#/components/parameters/HistoryLabel"}
                - {$ref: "#/components/parameters/HistoryFrom"}
                - {$ref: "#/components/parameters/HistoryTo"}
                - {$ref: "#/components/parameters/HistoryMinProbability"}
                - {$ref: "#/components/parameters/HistorySource"}
                - {$ref: "#/components/parameters/HistoryAlerts"}
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: RFC 4180 CSV with a header line.
                  content:
                    text/csv:
                      schema: {type: string}
                "400": {$ref: "#/components/responses/BadRequest"}
                "404": {$ref: "#/components/responses/HistoryOff"}
                "503": {$ref: "#/components/responses/HistoryUnavailable"}
          /v1/history/labels:
            get:
              tags: [history]
              operationId: historyLabelCounts
              summary: How often each label was the best class, per time bucket (the history page's chart).
              parameters:
                - {$ref: "#/components/parameters/HistoryLabel"}
                - {$ref: "#/components/parameters/HistoryFrom"}
                - {$ref: "#/components/parameters/HistoryTo"}
                - {$ref: "#/components/parameters/HistoryMinProbability"}
                - {$ref: "#/components/parameters/HistorySource"}
                - {$ref: "#/components/parameters/HistoryAlerts"}
                - name: bucket_seconds
                  in: query
                  required: false
                  description: The width of a time bucket, in seconds.
                  schema: {type: integer, minimum: 1, maximum: 31622400, default: 3600}
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: Counts per bucket and label, oldest bucket first.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/LabelCounts"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "404": {$ref: "#/components/responses/HistoryOff"}
                "503": {$ref: "#/components/responses/HistoryUnavailable"}
          /v1/history/{id}:
            get:
              tags: [history]
              operationId: historyEntry
              summary: One recorded recognition.
              parameters:
                - {$ref: "#/components/parameters/HistoryID"}
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: The row.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/HistoryEntry"}
                "400": {$ref: "#/components/responses/BadRequest"}
                "404": {$ref: "#/components/responses/HistoryOff"}
                "503": {$ref: "#/components/responses/HistoryUnavailable"}
          /v1/history/{id}/thumbnail:
            get:
              tags: [history]
              operationId: historyThumbnail
              summary: The small JPEG kept with a row (what the network saw - the centre crop).
              parameters:
                - {$ref: "#/components/parameters/HistoryID"}
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: JPEG.
                  content:
                    image/jpeg:
                      schema: {type: string, format: binary}
                "400": {$ref: "#/components/responses/BadRequest"}
                "404": {$ref: "#/components/responses/HistoryOff"}
                "503": {$ref: "#/components/responses/HistoryUnavailable"}
          /login:
            get:
              tags: [account]
              operationId: loginPage
              summary: The login form (sets the form's own CSRF cookie `resnet18_login`).
              security: []
              parameters:
                - name: next
                  in: query
                  required: false
                  description: Where to go after signing in; only paths on this server are followed.
                  schema: {type: string}
              responses:
                "200":
                  description: HTML.
                  headers:
                    Set-Cookie:
                      description: resnet18_login, the form's CSRF token (double submit).
                      schema: {type: string}
                  content:
                    text/html:
                      schema: {type: string}
            post:
              tags: [account]
              operationId: login
              summary: Sign in with the login form; on success a session cookie and a redirect to `next`.
              description: |
                The form's `csrf_token` must equal the `resnet18_login` cookie set by GET /login. After 5 failed
                logins for a user name or from an address, further attempts are refused with 429 for 1 s, then
                2 s, 4 s, ... up to 15 min (Retry-After); a success clears the count.
              security: []
              requestBody:
                required: true
                content:
                  application/x-www-form-urlencoded:
                    schema:
                      type: object
                      required: [username, password, csrf_token]
                      properties:
                        username: {type: string}
                        password: {type: string}
                        csrf_token: {type: string}
                        next: {type: string}
              responses:
                "303":
                  description: Signed in; the session cookie (HttpOnly, SameSite=Lax, Secure behind https) is set.
                  headers:
                    Location: {description: "`next`, or /.", schema: {type: string}}
                    Set-Cookie: {description: resnet18_session., schema: {type: string}}
                "400": {$ref: "#/components/responses/LoginPage"}
                "401": {$ref: "#/components/responses/LoginPage"}
                "403": {$ref: "#/components/responses/LoginPage"}
                "415": {$ref: "#/components/responses/Unsupported"}
                "429":
                  description: Too many failed logins for this user or from this address; the login page again.
                  headers:
                    Retry-After:
                      description: Seconds to wait.
                      schema: {type: integer, minimum: 1}
                  content:
                    text/html:
                      schema: {type: string}
          /logout:
            post:
              tags: [account]
              operationId: logout
              summary: End the session (server-side) and clear its cookie. The form sends the field `csrf_token`.
              security: []
              responses:
                "303":
                  description: Signed out; off to the login page.
                  headers:
                    Location: {description: /login., schema: {type: string}}
                "403": {$ref: "#/components/responses/Forbidden"}
          /v1/session:
            get:
              tags: [account]
              operationId: session
              summary: Who is calling, and the CSRF token a page's script sends with state changes.
              responses:
                "200":
                  description: The caller.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/SessionInfo"}
                "401": {$ref: "#/components/responses/Unauthenticated"}
          /v1/tokens:
            get:
              tags: [account]
              operationId: listTokens
              summary: API tokens, active and revoked (never their secrets). Admins only.
              responses:
                "200":
                  description: Every token, oldest first.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [tokens]
                        properties:
                          tokens:
                            type: array
                            items: {$ref: "#/components/schemas/Token"}
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {$ref: "#/components/responses/NoDatabase"}
            post:
              tags: [account]
              operationId: createToken
              summary: Make an API token. Its secret is in this answer only; the server keeps its SHA-256. Admins only.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [name, role]
                      properties:
                        name: {type: string, minLength: 1, maxLength: 100, pattern: "\\S", description: What the token is for.}
                        role: {type: string, enum: [viewer, admin]}
                        expires_in_days: {type: [integer, "null"], minimum: 1, maximum: 3650, description: "Left out or null, the token does not expire."}
              responses:
                "201":
                  description: The token, with its secret in `token`.
                  content:
                    application/json:
                      schema:
                        allOf:
                          - {$ref: "#/components/schemas/Token"}
                          - {type: object, required: [token], properties: {token: {type: string, description: "The secret: send it as `Authorization: Bearer ...`."}}}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {$ref: "#/components/responses/NoDatabase"}
                "415": {$ref: "#/components/responses/Unsupported"}
          /v1/tokens/{id}:
            delete:
              tags: [account]
              operationId: revokeToken
              summary: Revoke a token at once (it stays listed, marked revoked). Admins only.
              parameters:
                - name: id
                  in: path
                  required: true
                  schema: {type: string}
              responses:
                "204": {description: Revoked.}
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {$ref: "#/components/responses/NotFound"}
          /admin:
            get:
              tags: [account]
              operationId: adminPage
              summary: The admin page - make and revoke API tokens. Admins only.
              responses:
                "200":
                  description: HTML.
                  content:
                    text/html:
                      schema: {type: string}
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
          /assets/account.css:
            get:
              tags: [account]
              operationId: accountStyle
              summary: The login and admin pages' stylesheet.
              security: []
              responses:
                "200":
                  description: CSS.
                  content:
                    text/css:
                      schema: {type: string}
          /assets/admin.js:
            get:
              tags: [account]
              operationId: adminScript
              summary: The admin page's script.
              security: []
              responses:
                "200":
                  description: JavaScript.
                  content:
                    text/javascript:
                      schema: {type: string}
          /assets/session.js:
            get:
              tags: [account]
              operationId: sessionScript
              summary: Shared by the pages - shows who is signed in and adds the CSRF header to their requests.
              security: []
              responses:
                "200":
                  description: JavaScript.
                  content:
                    text/javascript:
                      schema: {type: string}
          /v1/streams:
            get:
              tags: [streams]
              operationId: listStreams
              summary: Every stream - status, latest labels, frames seen, recent alerts.
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: The streams, oldest first.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [streams]
                        properties:
                          streams:
                            type: array
                            items: {$ref: "#/components/schemas/Stream"}
            post:
              tags: [streams]
              operationId: addStream
              summary: Start watching a camera - ffmpeg decodes it into frames, each frame is classified, rules raise alerts.
              description: |
                An alert fires when any label of a rule reaches its threshold in K of the last N frames - once when
                that starts to hold, not again until it has stopped holding. A source that drops is restarted with
                backoff. At most --max-streams run at once (409 past that).
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: "#/components/schemas/StreamRequest"}
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "201":
                  description: The stream, starting.
                  headers:
                    Location:
                      description: The stream's URL.
                      schema: {type: string}
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Stream"}
                  links:
                    GetStream:
                      operationId: getStream
                      parameters: {id: "$response.body#/id"}
                      description: The stream just added.
                    GetStreamFrame:
                      operationId: streamFrame
                      parameters: {id: "$response.body#/id"}
                      description: Its latest frame.
                    DeleteStream:
                      operationId: deleteStream
                      parameters: {id: "$response.body#/id"}
                      description: Stop it.
                "400": {$ref: "#/components/responses/BadRequest"}
                "409": {$ref: "#/components/responses/TooManyStreams"}
                "413": {$ref: "#/components/responses/TooLarge"}
                "503": {$ref: "#/components/responses/Busy"}
          /v1/streams/{id}:
            parameters:
              - {$ref: "#/components/parameters/StreamID"}
            get:
              tags: [streams]
              operationId: getStream
              summary: One stream.
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: The stream.
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Stream"}
                "404": {$ref: "#/components/responses/NotFound"}
            delete:
              tags: [streams]
              operationId: deleteStream
              summary: Stop a stream (its ffmpeg is stopped) and forget it.
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "204":
                  description: Stopped and removed.
                "404": {$ref: "#/components/responses/NotFound"}
          /v1/streams/{id}/frame:
            parameters:
              - {$ref: "#/components/parameters/StreamID"}
            get:
              tags: [streams]
              operationId: streamFrame
              summary: The stream's latest frame as a JPEG.
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: JPEG.
                  content:
                    image/jpeg:
                      schema: {type: string, format: binary}
                "404": {$ref: "#/components/responses/NotFound"}
                "409":
                  description: The stream has no frame yet (starting, or its source is down); retry after Retry-After seconds.
                  headers:
                    Retry-After:
                      description: Seconds to wait before retrying.
                      schema: {type: integer, minimum: 0}
                  content:
                    application/json:
                      schema: {$ref: "#/components/schemas/Error"}
          /v1/events:
            get:
              tags: [streams]
              operationId: events
              summary: Server-sent events - every alert (`event alert`) and change of a stream's status (`event status`), live.
              description: |
                `text/event-stream` that stays open. `alert` data is one JSON object - time, source, stream, label,
                index, wnid, probability, frame, rule, weights, trained; `status` data is a Stream; `removed` data is
                `{"id": ...}`.
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: The event stream.
                  content:
                    text/event-stream:
                      schema: {type: string}
          /streams:
            get:
              tags: [streams]
              operationId: streamsPage
              summary: The streams page - latest frames, labels, status, live alerts, a form to add a stream.
              responses:
                "401": {$ref: "#/components/responses/Unauthenticated"}
                "200":
                  description: HTML.
                  content:
                    text/html:
                      schema: {type: string}
          /assets/streams.css:
            get:
              tags: [streams]
              operationId: streamsStyle
              summary: The streams page's extra stylesheet.
              responses:
                "200":
                  description: CSS.
                  content:
                    text/css:
                      schema: {type: string}
          /assets/streams.js:
            get:
              tags: [streams]
              operationId: streamsScript
              summary: The streams page's script.
              responses:
                "200":
                  description: JavaScript.
                  content:
                    text/javascript:
                      schema: {type: string}
        components:
          parameters:
            HistoryLabel:
              name: label
              in: query
              required: false
              description: Part of the best class's label, case-insensitive.
              schema: {type: string}
            HistoryFrom:
              name: from
              in: query
              required: false
              description: From this time on (RFC 3339, e.g. 2026-11-25T19:00:00Z).
              schema: {type: string, format: date-time}
            HistoryTo:
              name: to
              in: query
              required: false
              description: Before this time (RFC 3339).
              schema: {type: string, format: date-time}
            HistoryMinProbability:
              name: min_probability
              in: query
              required: false
              description: The best class's probability is at least this.
              schema: {type: number, minimum: 0, maximum: 1}
            HistorySource:
              name: source
              in: query
              required: false
              description: The source exactly (`POST /v1/classify`, `page`, `POST /predict`, `stream:door`), or a prefix ending in `*` (`stream:*`).
              schema: {type: string}
            HistoryAlerts:
              name: alerts
              in: query
              required: false
              description: true for stream alerts (events) only.
              schema: {type: boolean}
            HistoryID:
              name: id
              in: path
              required: true
              description: A history row's id.
              schema: {type: integer, minimum: 1, maximum: 9223372036854775807}
            StreamID:
              name: id
              in: path
              required: true
              description: The stream's id, as `POST /v1/streams` answered it.
              schema: {type: string}
            Model:
              name: model
              in: path
              required: true
              description: The model name; this server serves `resnet18`.
              schema: {type: string}
              example: resnet18
          responses:
            Unauthenticated:
              description: No credentials, or an unknown, revoked or expired token (only once the service has users).
              headers:
                WWW-Authenticate:
                  description: Bearer realm="resnet18".
                  schema: {type: string}
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            Forbidden:
              description: The role does not allow this (admins only), or a session's state change lacks its CSRF token.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            NoDatabase:
              description: The server runs with --db none, so there are no tokens.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            LoginPage:
              description: The login page again, with the reason (missing fields, wrong password, expired form).
              content:
                text/html:
                  schema: {type: string}
            HistoryOff:
              description: History is off on this server (--db none), or no such row or thumbnail.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            HistoryUnavailable:
              description: The history database cannot be read right now; the message says why.
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            BadRequest:
              description: Missing or malformed input (no file field, bad multipart, bad JSON, wrong tensor shape, top_k out of range).
              content:
                application/json:
                  schema: {$ref: "#/components/schemas/Error"}
            NotFound:
              description: No such model, version or stream.
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
            TooManyStreams:
              description: The server already watches --max-streams streams; delete one first.
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
            SessionInfo:
              type: object
              required: [auth, user, role]
              properties:
                auth: {type: string, enum: [session, token, open], description: "How the caller is known; `open`: no login is asked."}
                user: {type: string, description: "The user, `token:NAME` for a token, `anonymous` when open."}
                role: {type: string, enum: [viewer, admin]}
                csrf_token: {type: string, description: Sessions only - send it as X-CSRF-Token on POST and DELETE.}
                expires_at: {type: string, format: date-time}
            Token:
              type: object
              required: [id, name, role, created_by, created_at]
              properties:
                id: {type: string, description: "Public identifier, for DELETE /v1/tokens/{id}."}
                name: {type: string}
                role: {type: string, enum: [viewer, admin]}
                created_by: {type: string}
                created_at: {type: string, format: date-time}
                expires_at: {type: string, format: date-time}
                revoked_at: {type: string, format: date-time}
            StreamRequest:
              type: object
              required: [source]
              properties:
                source:
                  type: string
                  description: An rtsp://, rtsps://, http:// or https:// URL, or a V4L2 camera /dev/videoN (files are refused).
                  example: rtsp://camera.local:554/stream
                fps: {type: [number, "null"], minimum: 0.01, maximum: 30, default: 2, description: Frames per second classified.}
                rules:
                  type: [array, "null"]
                  maxItems: 16
                  items:
                    type: object
                    required: [labels]
                    properties:
                      labels:
                        type: array
                        minItems: 1
                        maxItems: 100
                        items: {type: string}
                        description: Class names as torchvision writes them, class indices, or WordNet ids.
                      threshold: {type: [number, "null"], exclusiveMinimum: 0, maximum: 1, default: 0.5}
                      window: {type: [string, "null"], pattern: "^[0-9]+/[0-9]+$", default: "1/1", description: "K/N - in K of the last N frames."}
                webhook: {type: [string, "null"], description: An http:// or https:// URL each alert is POSTed to as JSON (retried with backoff).}
            StreamAlert:
              type: object
              required: [time, source, label, index, probability, frame, rule, weights, trained]
              properties:
                time: {type: string, format: date-time, description: When the frame that fired was read from the source (classification may come later when it lags).}
                source: {type: string}
                label: {type: string}
                index: {type: integer, minimum: 0}
                wnid: {type: [string, "null"]}
                probability: {type: number, minimum: 0, maximum: 1}
                frame: {type: integer, minimum: 1, description: The frame's number since the stream started.}
                rule: {type: integer, minimum: 0}
                weights: {type: string}
                trained: {type: boolean, description: false - untrained weights, the label is meaningless.}
            Stream:
              type: object
              required: [id, source, fps, rules, status, restarts, frames, alerts, events, frame_url, created, weights]
              properties:
                id: {type: string}
                source: {type: string}
                fps: {type: number}
                rules:
                  type: array
                  items:
                    type: object
                    required: [labels, classes, threshold, window]
                    properties:
                      labels: {type: array, items: {type: string}}
                      classes: {type: array, items: {type: integer}}
                      threshold: {type: number}
                      window: {type: string}
                webhook: {type: [string, "null"]}
                status: {type: string, enum: [starting, running, restarting, ended, failed, stopped]}
                message: {type: [string, "null"], description: Why - the restart delay, ffmpeg's last error.}
                last_error: {type: [string, "null"], description: The last failure, kept after the stream runs again.}
                retry_at: {type: [string, "null"], format: date-time}
                backoff_seconds: {type: [number, "null"]}
                restarts: {type: integer, minimum: 0}
                ffmpeg_pid: {type: [integer, "null"]}
                frames: {type: integer, minimum: 0, description: Frames classified so far.}
                alerts: {type: integer, minimum: 0}
                latest:
                  type: [object, "null"]
                  properties:
                    frame: {type: integer}
                    time: {type: string, format: date-time}
                    width: {type: integer}
                    height: {type: integer}
                    top: {type: array, items: {$ref: "#/components/schemas/Prediction"}}
                events: {type: array, items: {$ref: "#/components/schemas/StreamAlert"}}
                frame_url: {type: string}
                created: {type: string, format: date-time}
                weights: {$ref: "#/components/schemas/Weights"}
                warning: {type: [string, "null"]}
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
                history_id: {type: integer, minimum: 1, description: The history row of this recognition, once committed (absent when history is off or the database is failing).}
            ClassifyResponse:
              type: object
              required: [results, weights]
              properties:
                results:
                  type: array
                  items: {$ref: "#/components/schemas/ImageResult"}
                weights: {$ref: "#/components/schemas/Weights"}
                warning: {type: string, description: Present with untrained weights.}
            HistoryEntry:
              type: object
              required: [id, time, source, stream_id, user, image_sha256, top, weights, timings, alert, thumbnail_url]
              properties:
                id: {type: integer, minimum: 1}
                time: {type: string, format: date-time}
                source: {type: string, description: "The route or origin: POST /v1/classify, page, POST /predict, POST /v2/models/resnet18/infer, stream:<id>, watch."}
                stream_id: {type: [string, "null"]}
                user: {type: [string, "null"]}
                image_sha256: {type: string, description: SHA-256 of the image bytes as received.}
                top:
                  type: array
                  maxItems: 5
                  items:
                    type: object
                    required: [index, wnid, label, probability]
                    properties:
                      index: {type: integer}
                      wnid: {type: string}
                      label: {type: string}
                      probability: {type: number, minimum: 0, maximum: 1}
                weights:
                  type: object
                  required: [name, sha256, trained, official]
                  properties:
                    name: {type: string}
                    sha256: {type: string}
                    trained: {type: boolean, description: false - untrained built-in weights, the labels are meaningless.}
                    official: {type: boolean, description: torchvision's ImageNet checkpoint resnet18-f37072fd.pth.}
                timings: {$ref: "#/components/schemas/Timings"}
                alert: {type: [string, "null"], description: The rule that fired, for stream alerts (events).}
                thumbnail_url: {type: [string, "null"]}
            HistoryList:
              type: object
              required: [entries, next_cursor, total]
              properties:
                entries:
                  type: array
                  items: {$ref: "#/components/schemas/HistoryEntry"}
                next_cursor: {type: [integer, "null"], description: Pass as cursor for the next (older) page; null on the last page.}
                total: {type: integer, minimum: 0, description: Rows matching the filters on all pages.}
            LabelCounts:
              type: object
              required: [bucket_seconds, counts]
              properties:
                bucket_seconds: {type: integer, minimum: 1}
                counts:
                  type: array
                  items:
                    type: object
                    required: [start, label, count]
                    properties:
                      start: {type: string, format: date-time}
                      label: {type: string}
                      count: {type: integer, minimum: 1}
            ModelInfo:
              type: object
              required: [model, weights, labels, classes, threads, precision, max_batch, max_upload_bytes, max_pixels, history, thumbnails]
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
                history: {type: boolean, description: Whether recognitions are recorded (--db other than none).}
                thumbnails: {type: boolean, description: Whether history rows keep a small JPEG (--thumbnails).}
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
