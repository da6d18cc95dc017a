import CKernels

/// An `infer` body in the binary tensor data extension of KServe v2 (Triton's `binary_tensor_data`): a JSON header,
/// then the tensors' raw bytes, the header's length in `Inference-Header-Content-Length`. Each binary input says how
/// many bytes of that tail it takes (`parameters.binary_data_size`), in order. Every number here comes from the
/// client: each is checked with overflow-safe arithmetic before anything is sliced or sized from it.
/// (Free of Hummingbird and Foundation, so the request fuzz target compiles it as it is.)
struct KServeBinaryBody {
    static let headerLengthField = "Inference-Header-Content-Length"
    /// Bytes of one FP32 value.
    static let fp32Size = 4
    /// Bytes of the little-endian length before each BYTES element.
    static let lengthPrefixSize = 4

    /// The JSON header: the whole body when the request has no `Inference-Header-Content-Length`.
    let header: ArraySlice<UInt8>
    /// The binary tensor data after the header.
    let tail: ArraySlice<UInt8>
    /// The header's length as the client declared it; nil without the header field.
    let declaredHeaderLength: Int?

    /// Splits `bytes` at the declared header length.
    init(bytes: [UInt8], headerLength field: String?) throws(KServeInput.Invalid) {
        guard let field else {
            header = bytes[...]
            tail = []
            declaredHeaderLength = nil
            return
        }
        let text = field.trimmingSpaces
        // Digits only: Int() would also take "+5"; a number past Int.max is nil, not a trap.
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let length = Int(text), length >= 1
        else {
            throw .init(message: "\(Self.headerLengthField) \"\(text.prefix(40))\" is not a byte count: send the length "
                + "of the JSON header in bytes (a whole number from 1 to the body's length), the binary tensor data after it")
        }
        guard length <= bytes.count else {
            throw .init(message: "\(Self.headerLengthField) is \(length) but the body has \(bytes.count) bytes: it must be "
                + "the length of the JSON header at the body's start, with the binary tensor data after it")
        }
        header = bytes[..<length]
        tail = bytes[length...]
        declaredHeaderLength = length
    }

    /// The tail cut into each input's bytes, in order: `sizes` are the inputs' `binary_data_size` (nil for an input
    /// sent as JSON). Together they must make up the whole tail, no more and no less.
    func tensors(sizes: [Int?]) throws(KServeInput.Invalid) -> [ArraySlice<UInt8>?] {
        var total = 0
        for (index, size) in sizes.enumerated() {
            guard let size else { continue }
            guard size >= 0 else {
                throw .init(message: "inputs[\(index)].parameters.binary_data_size is \(size): it must be the input's "
                    + "byte count in the binary data after the JSON header (0 or more)")
            }
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow else {
                throw .init(message: "the inputs' parameters.binary_data_size add up to more than any body holds: each must "
                    + "be its input's byte count in the binary data after the JSON header")
            }
            total = sum
        }
        guard total == tail.count else {
            throw .init(message: mismatch(total: total, declared: sizes.contains { $0 != nil }))
        }
        var offset = tail.startIndex
        return sizes.map { size in
            guard let size else { return nil }
            defer { offset += size }
            return tail[offset..<(offset + size)]
        }
    }

    private func mismatch(total: Int, declared: Bool) -> String {
        guard let length = declaredHeaderLength else {
            return "the inputs' parameters.binary_data_size say \(total) bytes of binary tensor data, but the request has "
                + "no \(Self.headerLengthField) header: send the JSON header's length in it, the tensor bytes after the JSON"
        }
        guard declared else {
            return "the body has \(tail.count) bytes after the JSON header (\(Self.headerLengthField): \(length)), but no "
                + "input has parameters.binary_data_size: give each binary input its byte count, or send the JSON alone"
        }
        return "the inputs' parameters.binary_data_size add up to \(total) bytes, but the body has \(tail.count) after the "
            + "JSON header (\(Self.headerLengthField): \(length)): each binary input's binary_data_size must be its byte "
            + "count, in order, together the rest of the body"
    }

    /// Little-endian FP32 values of a tensor of `shape`; `field` names the input in messages (`inputs[0]`).
    static func fp32(_ bytes: ArraySlice<UInt8>, shape: [Int], field: String) throws(KServeInput.Invalid) -> [Float] {
        let parsed = bytes.withUnsafeBytes { raw in Result { () throws(KServeInput.Invalid) in try fp32(raw, shape: shape, field: field) } }
        return try parsed.get()
    }

    /// The same, read straight from the bytes a message arrived in (gRPC's `raw_input_contents`): one copy, into
    /// the values the engine reads, that looks for NaN and infinity on the way (`tensor_bytes.c`).
    static func fp32(_ raw: UnsafeRawBufferPointer, shape: [Int], field: String) throws(KServeInput.Invalid) -> [Float] {
        guard let count = KServeInput.elementCount(of: shape) else {
            throw .init(message: "\(field).shape \(shape) describes more elements than any request can hold")
        }
        let (expected, overflow) = count.multipliedReportingOverflow(by: fp32Size)
        guard !overflow, expected == raw.count else {
            throw .init(message: "\(field).parameters.binary_data_size is \(raw.count) bytes, but FP32 of shape \(shape) "
                + "takes \(overflow ? "more than any request holds" : "\(expected)") (\(fp32Size) bytes a value): make it "
                + "the shape's element count times \(fp32Size)")
        }
        var finite = true
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let start = buffer.baseAddress, let source = raw.baseAddress else { return }
            finite = resnet18_copy_finite_f32le(start, source, count) != 0
            initialized = count
        }
        // JSON cannot carry NaN or infinities; binary can, and they would only come back as logits JSON cannot hold.
        if !finite, let index = values.firstIndex(where: { !$0.isFinite }) {
            throw .init(message: "\(field) FP32 value \(index) is \(values[index]): send finite values (normalised RGB)")
        }
        return values
    }

    /// The elements of a BYTES tensor: each a 4-byte little-endian length, then that many bytes.
    static func elements(_ bytes: ArraySlice<UInt8>, field: String) throws(KServeInput.Invalid) -> [ArraySlice<UInt8>] {
        var elements: [ArraySlice<UInt8>] = []
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let position = offset - bytes.startIndex
            let remaining = bytes.endIndex - offset
            guard remaining >= lengthPrefixSize else {
                throw .init(message: "\(field) BYTES element \(elements.count) at byte \(position) of its binary data has "
                    + "\(remaining) bytes, too few for its \(lengthPrefixSize)-byte length: each element is a "
                    + "\(lengthPrefixSize)-byte little-endian length, then that many bytes")
            }
            let length = bytes[offset..<(offset + lengthPrefixSize)].reversed().reduce(0) { $0 << 8 | Int($1) }
            offset += lengthPrefixSize
            guard length <= bytes.endIndex - offset else {
                throw .init(message: "\(field) BYTES element \(elements.count) at byte \(position) of its binary data claims "
                    + "\(length) bytes, but \(bytes.endIndex - offset) remain in its binary_data_size: each element is a "
                    + "\(lengthPrefixSize)-byte little-endian length, then that many bytes")
            }
            elements.append(bytes[offset..<(offset + length)])
            offset += length
        }
        return elements
    }

    /// FP32 values as binary output data, little-endian.
    static func bytes(of values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * fp32Size)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
        }
        return bytes
    }

    /// BYTES elements as binary output data, each after its 4-byte little-endian length.
    static func bytes(of strings: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for string in strings {
            let utf8 = Array(string.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
            bytes += utf8
        }
        return bytes
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (as HTTP field values may carry), without Foundation.
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
