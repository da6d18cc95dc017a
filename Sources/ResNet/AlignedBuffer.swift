/// A page-aligned byte buffer that grows on demand; contents are not kept across growth.
final class AlignedBuffer: @unchecked Sendable {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var byteCount: Int

    init(byteCount: Int = 0) {
        self.byteCount = max(byteCount, 64)
        pointer = .allocate(byteCount: self.byteCount, alignment: 4096)
    }

    /// Makes room for at least `bytes`; the old contents are dropped.
    func reserve(_ bytes: Int) {
        guard bytes > byteCount else { return }
        pointer.deallocate()
        byteCount = bytes
        pointer = .allocate(byteCount: bytes, alignment: 4096)
    }

    deinit { pointer.deallocate() }
}
