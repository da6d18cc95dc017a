import Foundation

/// libFuzzer entry point: any bytes as a request body the service parses before it touches the model.
/// The first byte picks the parser:
/// - even: the rest is a KServe v2 `infer` body → `KServe.InferenceRequest` (JSONDecoder, nested tensor data,
///   b64 objects) → every input's shape and data checked as `POST /v2/models/resnet18/infer` does
///   (`KServeInput`: FP32 `[N,3,224,224]`, BYTES `[N]`, overflow-checked element counts), BYTES elements base64-decoded;
///   when the rest holds a NUL byte, what comes before it is the `Inference-Header-Content-Length` value and what
///   follows the body of the binary tensor data extension (`KServeBinaryBody`: header split, binary_data_size
///   slices, little-endian FP32, length-prefixed BYTES elements);
/// - odd: the rest is a Content-Type line, `\n`, then a body → `MultipartForm` (boundary parameter, delimiters,
///   part headers).
/// A thrown `DecodingError`, `KServeInput.Invalid` or `MultipartForm.Malformed` is a correct answer; a trap, a
/// sanitizer report, a leak, a hang or a broken invariant below is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let rest = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    if data[0] & 1 == 0 {
        kserve(rest)
    } else {
        multipart(rest)
    }
    return 0
}

/// As many floats as one image tensor holds (`ResNet18Engine.inputCount`; ResNet links oneDNN, so not built here).
private let valuesPerImage = 3 * 224 * 224

private func kserve(_ input: UnsafeRawBufferPointer) {
    var headerLength: String?
    var bytes = Array(input)
    if let nul = bytes.firstIndex(of: 0) {
        headerLength = String(decoding: bytes[..<nul], as: UTF8.self)
        bytes = Array(bytes[(nul + 1)...])
    }
    guard let body = try? KServeBinaryBody(bytes: bytes, headerLength: headerLength) else { return }
    precondition(body.header.count + body.tail.count == bytes.count, "header and tail are not the body")
    guard let request = try? JSONDecoder().decode(KServe.InferenceRequest.self, from: Data(body.header)),
          let binary = try? body.tensors(sizes: request.inputs.map { $0.parameters?.binaryDataSize })
    else { return }
    precondition(binary.reduce(0) { $0 + ($1?.count ?? 0) } == body.tail.count, "binary inputs are not the tail")
    for (input, bytes) in zip(request.inputs, binary) {
        if let count = KServeInput.elementCount(of: input.shape) {
            precondition(count >= 0, "negative element count \(count) for \(input.shape)")
        } else {
            precondition(input.shape.contains { $0 < 0 } || input.shape.count > 1, "no element count for \(input.shape)")
        }
        if let bytes {
            if let values = try? KServeBinaryBody.fp32(bytes, shape: input.shape, field: "inputs[0]") {
                precondition(values.count * KServeBinaryBody.fp32Size == bytes.count, "\(values.count) values from \(bytes.count) bytes")
            }
            if let elements = try? KServeBinaryBody.elements(bytes, field: "inputs[0]") {
                let total = elements.reduce(0) { $0 + KServeBinaryBody.lengthPrefixSize + $1.count }
                precondition(total == bytes.count, "\(elements.count) elements of \(total) bytes from \(bytes.count)")
            }
            continue
        }
        switch input.data {
        case let .numbers(values)?:
            guard let images = try? KServeInput.imageTensors(values, shape: input.shape, valuesPerImage: valuesPerImage)
            else { continue }
            precondition(images.count == input.shape[0] && images.allSatisfy { $0.count == valuesPerImage },
                         "\(images.count) image tensors for shape \(input.shape)")
        case let .strings(encoded)?:
            guard (try? KServeInput.checkBytesShape(input.shape, count: encoded.count)) != nil else { continue }
            precondition(encoded.count == input.shape[0], "\(encoded.count) BYTES elements for shape \(input.shape)")
            for text in encoded {
                _ = Data(base64Encoded: text, options: .ignoreUnknownCharacters)
            }
        case nil:
            continue
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
