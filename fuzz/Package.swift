// swift-tools-version:6.0
// libFuzzer targets for the modules that read untrusted bytes. A package of its own, so the project's normal
// build never compiles them; its module sources are the project's own, through the symlinks in Sources/.
// Built and run by fuzz/run.sh (swiftc -sanitize=fuzzer,address), whose header says how to run a target, where the
// corpus and findings go, and what to do with a finding.
import PackageDescription

let package = Package(
    name: "resnet18-fuzz",
    targets: [
        .systemLibrary(name: "CTurboJPEG"),
        .systemLibrary(name: "CSPNG"),
        .systemLibrary(name: "CWebP"),
        .target(name: "Checkpoint"),
        .target(name: "Imaging", dependencies: ["CTurboJPEG", "CSPNG", "CWebP", "CKernels"]),
        // The C routines the fuzzed modules call: Pillow's resampling passes (pillow_resample.c) for Imaging, and for
        // the request files an FP32 tensor copied and checked in one pass (tensor_bytes.c).
        .target(name: "CKernels"),
        // Image bytes -> decoded RGB (JPEG, PNG, WebP), EXIF orientation, Pillow resize, torchvision tensor.
        .executableTarget(name: "FuzzImaging", dependencies: ["Imaging"]),
        // Weights bytes -> state_dict (torch.save zip, legacy pickle, safetensors), every tensor converted.
        .executableTarget(name: "FuzzCheckpoint", dependencies: ["Checkpoint"]),
        // Request bodies -> KServe v2 infer JSON and its shape checks, multipart/form-data. The Server files it
        // reads are symlinked into the target itself (their types are internal; the rest of Server needs Hummingbird).
        .executableTarget(name: "FuzzRequests", dependencies: ["CKernels"]),
    ]
)
