/// `withUnsafeBytes` and `withUnsafeMutableBytes` are `rethrows`, which erases `ImagingError` to `any Error`;
/// these keep the error typed.
extension Array where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ImagingError) -> R) throws(ImagingError) -> R {
        try withUnsafeBytes { raw in Result { () throws(ImagingError) in try body(raw) } }.get()
    }

    mutating func withMutableBytes<R>(
        _ body: (UnsafeMutableRawBufferPointer) throws(ImagingError) -> R
    ) throws(ImagingError) -> R {
        try withUnsafeMutableBytes { raw in Result { () throws(ImagingError) in try body(raw) } }.get()
    }
}
