import Foundation

/// libFuzzer entry point: any bytes as a request body the service parses before it touches the model.
/// The first byte picks the parser:
/// - even: the rest is a KServe v2 `infer` body → `KServe.InferenceRequest` (JSONDecoder, nested tensor data,
///   b64 objects) → every input's shape and data checked as `POST /v2/models/resnet18/infer` does
///   (`KServeInput`: FP32 `[N,3,224,224]`, BYTES `[N]`, overflow-checked element counts), BYTES elements base64-decoded;
/// - odd: the rest is a Content-Type line, `\n`, then a body → `MultipartForm` (boundary parameter, delimiters,
///   part headers).
/// A thrown `DecodingError`, `KServeInput.Invalid` or `MultipartForm.Malformed` is a correct answer; a trap, a
/// sanitizer report, a leak, a hang or a broken invariant below is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let rest = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    if data[0] & 1 == 0 {
        kserve(Data(rest))
    } else {
        multipart(rest)
    }
    return 0
}

/// As many floats as one image tensor holds (`ResNet18Engine.inputCount`; ResNet links oneDNN, so not built here).
private let valuesPerImage = 3 * 224 * 224

private func kserve(_ body: Data) {
    guard let request = try? JSONDecoder().decode(KServe.InferenceRequest.self, from: body) else { return }
    for input in request.inputs {
        if let count = KServeInput.elementCount(of: input.shape) {
            precondition(count >= 0, "negative element count \(count) for \(input.shape)")
        } else {
            precondition(input.shape.contains { $0 < 0 } || input.shape.count > 1, "no element count for \(input.shape)")
        }
        switch input.data {
        case let .numbers(values):
            guard let images = try? KServeInput.imageTensors(values, shape: input.shape, valuesPerImage: valuesPerImage)
            else { continue }
            precondition(images.count == input.shape[0] && images.allSatisfy { $0.count == valuesPerImage },
                         "\(images.count) image tensors for shape \(input.shape)")
        case let .strings(encoded):
            guard (try? KServeInput.checkBytesShape(input.shape, count: encoded.count)) != nil else { continue }
            precondition(encoded.count == input.shape[0], "\(encoded.count) BYTES elements for shape \(input.shape)")
            for text in encoded {
                _ = Data(base64Encoded: text, options: .ignoreUnknownCharacters)
            }
        }
    }
}

private func multipart(_ input: UnsafeRawBufferPointer) {
    let newline = input.firstIndex(of: 10) ?? input.count
    let contentType = String(decoding: UnsafeRawBufferPointer(rebasing: input[..<newline]), as: UTF8.self)
    let body = UnsafeRawBufferPointer(rebasing: input[min(newline + 1, input.count)...])
    guard let form = try? MultipartForm(bytes: body, contentType: contentType) else { return }
    // Every part's bytes are a slice of the body: together they can never be more than it.
    precondition(form.parts.reduce(0) { $0 + $1.bytes.count } <= body.count, "parts larger than the body")
}
