import Checkpoint

/// libFuzzer entry point: any bytes as a weights file (torch.save zip, legacy pickle, safetensors; the format is
/// sniffed from the content, as `--weights` does), then every tensor converted to floats. A thrown
/// `CheckpointError` is a correct answer; a trap, a sanitizer report, a leak or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let stateDict = try? StateDict(bytes: bytes, name: "fuzz.pth") else { return 0 }
    for (_, tensor) in stateDict.tensors {
        let count = tensor.shape.reduce(1, *)
        let floats = tensor.floats
        precondition(floats.isEmpty || floats.count == count, "tensor of \(floats.count) values for shape \(tensor.shape)")
    }
    return 0
}
