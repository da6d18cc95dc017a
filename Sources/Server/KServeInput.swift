/// Checks a KServe v2 input tensor's declared shape against its data before anything is sized from it.
/// Shapes come from the request: every product is overflow-checked, so no shape, however large, can trap.
/// (Free of Hummingbird, so the request fuzz target compiles it as it is.)
enum KServeInput {
    /// Why an input was refused, in words for the client.
    struct Invalid: Error, Equatable {
        let message: String
    }

    /// The number of elements a shape describes; nil when a dimension is negative or the product overflows.
    static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Splits FP32 data of shape `[N,3,224,224]` (normalised RGB, NCHW) into N image tensors.
    static func imageTensors(_ values: [Float], shape: [Int], valuesPerImage: Int) throws(Invalid) -> [[Float]] {
        try checkImageShape(shape)
        guard let expected = elementCount(of: shape) else {
            throw Invalid(message: "input shape \(shape) describes more elements than any request can hold: "
                + "send N images of 3x224x224 values, with N no larger than the number of images sent")
        }
        guard values.count == expected else {
            throw Invalid(message: "input of shape \(shape) needs \(expected) values, got \(values.count)")
        }
        // A lone image is the tensor itself (no 600 kB copy); several are cut apart.
        guard shape[0] > 1 else { return [values] }
        return (0..<shape[0]).map { Array(values[($0 * valuesPerImage)..<(($0 + 1) * valuesPerImage)]) }
    }

    /// Checks that an FP32 shape is `[N,3,224,224]`, before any data is read for it.
    static func checkImageShape(_ shape: [Int]) throws(Invalid) {
        guard shape.count == 4, shape[0] >= 1, Array(shape[1...]) == [3, 224, 224] else {
            throw Invalid(message: "input shape must be [N,3,224,224] (normalised RGB, NCHW) with N >= 1, not \(shape)")
        }
    }

    /// Checks a BYTES input of shape `[N]` or `[N,1]` holding `count` elements.
    static func checkBytesShape(_ shape: [Int], count: Int) throws(Invalid) {
        let wellFormed = (shape.count == 1 || (shape.count == 2 && shape[1] == 1)) && shape[0] >= 1
        guard wellFormed, elementCount(of: shape) == count else {
            throw Invalid(message: "BYTES input shape must be [N] (or [N,1]) with N encoded images (base64 in JSON), "
                + "not \(shape) with \(count) elements")
        }
    }
}
