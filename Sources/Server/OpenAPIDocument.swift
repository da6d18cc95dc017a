/// `GET /openapi.yaml`: the OpenAPI 3.1 description of every route (`Resources/openapi.yaml`, compiled into the
/// binary), written by hand and kept true by a schemathesis run against the live server
/// (tests/api/run_schemathesis.sh) and by `RouteTableTests`, which compares its paths with the routes registered.
enum OpenAPIDocument {
    static let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
