#!/usr/bin/env bash
# Generates Sources/InferenceGRPC/inference.{pb,grpc}.swift from inference.proto (the Open Inference Protocol's
# gRPC service) with protoc and the plugins of the swift-protobuf and grpc-swift-protobuf versions Package.swift
# names. The output is committed; run this only when the .proto changes. Building the plugins takes minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v protoc > /dev/null || { apt-get update && apt-get install -y protobuf-compiler; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Sources/Plugins"
echo "" > "$work/Sources/Plugins/Plugins.swift"
cat > "$work/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
    ],
    targets: [.target(name: "Plugins")]
)
SWIFT
echo "==> building protoc-gen-swift and protoc-gen-grpc-swift-2"
(cd "$work" && swift build -c release --product protoc-gen-swift && swift build -c release --product protoc-gen-grpc-swift-2)
bin="$work/.build/release"
cd "$root/Sources/InferenceGRPC"
protoc inference.proto \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out=. --swift_opt=Visibility=Public \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" --grpc-swift-2_out=. \
  --grpc-swift-2_opt=Visibility=Public,Server=true,Client=true
echo "==> wrote $(ls "$root/Sources/InferenceGRPC"/*.swift | tr '\n' ' ')"
