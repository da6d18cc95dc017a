// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "resnet18",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "resnet18", targets: ["resnet18"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries: a module map and a header each, nothing else.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG"),
        .systemLibrary(name: "CSPNG", path: "Sources/CSPNG"),
        .systemLibrary(name: "CWebP", path: "Sources/CWebP"),

        // Weight file formats (torch.save zip, legacy pickle, safetensors) -> named tensors.
        .target(name: "Checkpoint"),
        // Decoders, EXIF orientation, torchvision-exact preprocessing.
        .target(name: "Imaging", dependencies: ["CTurboJPEG", "CSPNG", "CWebP"]),
        // The network: ResNet-18 weights, BatchNorm folding, the oneDNN execution plan.
        .target(name: "ResNet", dependencies: ["Checkpoint", "CDNNL"]),
        // Labels, the classify pipeline, top-k.
        .target(name: "Recognition", dependencies: ["ResNet", "Imaging"]),
        .executableTarget(name: "resnet18", dependencies: [
            "Recognition",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Where the shared fixtures are, for every test target.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "ResNetTests", dependencies: ["ResNet", "Checkpoint", "TestSupport"]),
        .testTarget(name: "RecognitionTests", dependencies: ["Recognition", "TestSupport"]),
    ]
)
