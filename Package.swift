// swift-tools-version:6.0
import PackageDescription

// The numeric modules (weight reading and folding, decoding and resizing, labels and top-k) are optimised in debug
// builds too. At -Onone, folding the weights at every start and resizing every image take several times as long,
// and the tests start hundreds of servers and classify thousands of images on a 2-core CI machine; the parallel
// tests' in-process engine checks then hold the few pool threads long enough to starve the others. Testing stays
// enabled for these modules, and what the tests run is the optimised code that ships.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

// Linux only (x86-64): oneDNN and libgomp come from Debian's packages, the C kernels read the CPU's features with
// GCC's builtins, and nothing is built or tested on an Apple platform, so no `platforms` minimum is claimed.
let package = Package(
    name: "resnet18",
    products: [
        .executable(name: "resnet18", targets: ["resnet18"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // Already in the graph through Hummingbird; named for the NIO modules the sources import (NIOCore: byte
        // buffers; NIOPosix: bcrypt's thread pool and the MQTT client's connections; NIOHTTP1: webhook headers;
        // NIOHTTPTypes: the request deadline handler).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        // The config file (`serve --config`): YAML with line numbers for its errors.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The Open Inference Protocol over gRPC (`serve --grpc-port`); its Swift code is generated once
        // (scripts/generate-grpc.sh) and committed.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // In the graph through async-http-client: TLS for mqtts:// (the MQTT client, Monitoring/MQTT).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // System libraries: a module map and a header each, nothing else.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG"),
        .systemLibrary(name: "CSPNG", path: "Sources/CSPNG"),
        .systemLibrary(name: "CWebP", path: "Sources/CWebP"),

        // Weight file formats (torch.save zip, legacy pickle, safetensors) -> named tensors.
        .target(name: "Checkpoint", swiftSettings: optimisedInDebug),
        // Decoders, EXIF orientation, torchvision-exact preprocessing.
        .target(name: "Imaging", dependencies: ["CTurboJPEG", "CSPNG", "CWebP", "CKernels"], swiftSettings: optimisedInDebug),
        // libgomp's prototypes (openmp_runtime.h, which CKernels includes too) and the binding of an OpenMP team to CPUs.
        .target(name: "CThreadBinding", linkerSettings: [.linkedLibrary("gomp")]),
        // The project's own kernels, each chosen at run time only where the CPU has its instructions: the fp32
        // Winograd F(4x4, 3x3) and the Winograd stem (AVX-512, and AVX2 forms), the 16-bit F(4x4) integer Winograd
        // (AVX-512 VNNI or AVX2), the 8-bit F(2x2) and the int8 stem with its max pooling (AVX-512 VNNI); and Pillow's
        // resampling passes for Imaging (AVX2, else plain C).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("gomp")]),
        // The network: ResNet-18 weights, BatchNorm folding, the oneDNN execution plan and the kernels' steps in it.
        .target(name: "ResNet", dependencies: ["Checkpoint", "CDNNL", "CThreadBinding", "CKernels"], swiftSettings: optimisedInDebug),
        // Labels, the classify pipeline, top-k.
        .target(name: "Recognition", dependencies: ["CKernels", 
            "ResNet", "Imaging", "Checkpoint",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], resources: [
            .embedInCode("Resources/imagenet-classes.tsv"),
            .embedInCode("Resources/imagenet-categories.tsv"),
        ], swiftSettings: optimisedInDebug),
        // Camera and video streams: an ffmpeg subprocess per source, alert rules, webhooks, MQTT.
        .target(name: "Monitoring", dependencies: [
            "Recognition", "Imaging",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Persistence: the database (SQLite through GRDB, or PostgreSQL), its migrations, the history store.
        .target(name: "Storage", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The HTTP service: routes, API types, KServe v2, metrics, the web page.
        // The KServe v2 gRPC messages and service, generated from inference.proto.
        .target(name: "InferenceGRPC", dependencies: [
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ], exclude: ["inference.proto"]),
        .target(name: "Server", dependencies: [
            "Recognition", "ResNet", "Storage", "Monitoring", "Imaging", "CKernels", "InferenceGRPC",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "Yams", package: "Yams"),
        ], resources: [
            // The pages, their scripts and stylesheets, and the OpenAPI document: compiled into the binary.
            .embedInCode("Resources/openapi.yaml"),
            .embedInCode("Resources/head.html"),
            .embedInCode("Resources/account-bar.html"),
            .embedInCode("Resources/weights-notice.html"),
            .embedInCode("Resources/page.html"),
            .embedInCode("Resources/history.html"),
            .embedInCode("Resources/streams.html"),
            .embedInCode("Resources/admin.html"),
            .embedInCode("Resources/heads.html"),
            .embedInCode("Resources/heads.css"),
            .embedInCode("Resources/heads.js"),
            .embedInCode("Resources/login.html"),
            .embedInCode("Resources/style.css"),
            .embedInCode("Resources/history.css"),
            .embedInCode("Resources/streams.css"),
            .embedInCode("Resources/session.js"),
            .embedInCode("Resources/page.js"),
            .embedInCode("Resources/history.js"),
            .embedInCode("Resources/streams.js"),
            .embedInCode("Resources/admin.js"),
        ]),
        .executableTarget(name: "resnet18", dependencies: [
            "Recognition", "Server", "Storage", "Monitoring", "Imaging",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Where the shared fixtures are, for every test target.
        .target(name: "TestSupport", dependencies: ["Storage", "Imaging"], path: "Tests/TestSupport"),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"], exclude: ["Resources"]),
        .testTarget(name: "ResNetTests", dependencies: ["ResNet", "Checkpoint", "CKernels", "TestSupport"]),
        .testTarget(name: "RecognitionTests", dependencies: [
            "Recognition", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        // Runs the built `resnet18` executable as a user would.
        .testTarget(name: "CLITests", dependencies: ["resnet18", "Storage", "TestSupport"]),
        .testTarget(name: "MonitoringTests", dependencies: ["Monitoring", "Recognition", "Imaging", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Recognition", "ResNet", "Storage", "TestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
    ]
)
