/// A storage as a pickle's persistent id names it: where its bytes are and how to read them.
struct StorageReference {
    /// The record the bytes come from (`data/<key>` in a zip, the key list of a legacy file).
    let key: String
    let dtype: DType
    /// Elements in the whole root storage, as the persistent id declares.
    let rootElementCount: Int
    /// Legacy files may hand out a view into a root storage: its first element and length.
    let viewOffset: Int
    let viewElementCount: Int
}

/// What `_rebuild_tensor_v2` describes: a strided view of a storage, resolved once the storage's bytes are known.
struct TensorView {
    let storage: StorageReference
    let offset: Int
    let shape: [Int]
    let stride: [Int]

    /// The tensor this view selects from its root storage's bytes (a zero-copy slice when contiguous).
    /// `gatherBudget` bounds the bytes copied for strided views, so lying strides cannot allocate without limit.
    func materialize(
        rootBytes: ArraySlice<UInt8>, gatherBudget: inout Int, file: String, name: String
    ) throws(CheckpointError) -> Tensor {
        func damaged(_ detail: String) -> CheckpointError { .malformed(file: file, detail: "tensor \(name) \(detail)") }
        let elementSize = storage.dtype.byteCount
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw damaged("has an impossible shape \(shape)") }
            count = product
        }
        if count == 0 {
            return Tensor(shape: shape, dtype: storage.dtype, bytesLittleEndian: [])
        }
        // The furthest element the view touches must lie inside the storage it names.
        var last = offset
        for (size, step) in zip(shape, stride) {
            let (span, overflow) = (size - 1).multipliedReportingOverflow(by: step)
            let (sum, overflow2) = last.addingReportingOverflow(span)
            guard !overflow, !overflow2 else { throw damaged("has impossible strides \(stride)") }
            last = sum
        }
        guard last < storage.viewElementCount else {
            throw damaged("reaches element \(last) of a storage holding \(storage.viewElementCount)")
        }
        guard rootBytes.count / elementSize >= storage.viewOffset + storage.viewElementCount else {
            let needed = storage.viewOffset + storage.viewElementCount
            throw damaged("names storage \(storage.key) of \(needed) elements, but the file holds \(rootBytes.count) bytes for it")
        }
        let first = rootBytes.startIndex + (storage.viewOffset + offset) * elementSize
        if isContiguous {
            return Tensor(shape: shape, dtype: storage.dtype, bytesLittleEndian: rootBytes[first..<(first + count * elementSize)])
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, byteCount <= gatherBudget else {
            throw damaged("is a strided view of \(count) elements, more than the file could hold")
        }
        gatherBudget -= byteCount
        return Tensor(shape: shape, dtype: storage.dtype, bytesLittleEndian: gather(rootBytes, first: first, count: count)[...])
    }

    /// Row-major strides, ignoring dimensions of size 1 (their stride is arbitrary).
    private var isContiguous: Bool {
        var expected = 1
        for (size, step) in zip(shape, stride).reversed() where size != 1 {
            if step != expected { return false }
            expected *= size
        }
        return true
    }

    /// Copies a strided view element by element into row-major order; rare in state_dicts (transposed weights).
    private func gather(_ source: ArraySlice<UInt8>, first: Int, count: Int) -> [UInt8] {
        let elementSize = storage.dtype.byteCount
        var out = [UInt8](repeating: 0, count: count * elementSize)
        var index = [Int](repeating: 0, count: shape.count)
        // A dimension of size 1 never moves, and its stride was not bounds-checked: treat it as 0.
        let stride = zip(shape, self.stride).map { size, step in size == 1 ? 0 : step }
        var sourceElement = 0
        for element in 0..<count {
            let from = first + sourceElement * elementSize
            for byte in 0..<elementSize { out[element * elementSize + byte] = source[from + byte] }
            // Advance the multi-index like an odometer, keeping the source offset in step.
            var dimension = shape.count - 1
            while dimension >= 0 {
                index[dimension] += 1
                sourceElement += stride[dimension]
                if index[dimension] < shape[dimension] { break }
                sourceElement -= stride[dimension] * shape[dimension]
                index[dimension] = 0
                dimension -= 1
            }
        }
        return out
    }
}
