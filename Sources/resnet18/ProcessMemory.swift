#if canImport(Glibc)
import Glibc
#endif

/// glibc heap settings for a process that loads 46 MB of weights through a few large temporary buffers, then
/// serves requests that each bring a few buffers of about 600 kB (an FP32 tensor and its copies).
enum ProcessMemory {
    /// Fixes glibc's mmap threshold at 2 MiB and its trim threshold at 32 MiB.
    ///
    /// By default the mmap threshold grows to the size of the largest block freed (up to 32 MiB), after which the
    /// engine's multi-megabyte weight buffers come from the heap and the loader's freed buffers stay resident:
    /// 177 MB peak for one `classify` against 140 MB with this. Below 2 MiB, a request's buffers (gRPC assembles a
    /// message in 1 MiB + 4 kB) come from the heap instead of a fresh mapping each time, and a trim threshold well
    /// above them keeps glibc from handing their pages back after every request: either way each request paid
    /// for faulting in and zeroing every page of every buffer anew. glibc's own `MALLOC_MMAP_THRESHOLD_` and
    /// `MALLOC_TRIM_THRESHOLD_` in the environment take precedence.
    static func keepLargeBuffersMapped() {
        #if canImport(Glibc)
        // Looked up at run time: the Glibc module does not import <malloc.h>. M_TRIM_THRESHOLD is -1,
        // M_MMAP_THRESHOLD -3.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        if getenv("MALLOC_MMAP_THRESHOLD_") == nil { _ = mallopt(-3, 2 << 20) }
        if getenv("MALLOC_TRIM_THRESHOLD_") == nil { _ = mallopt(-1, 32 << 20) }
        #endif
    }
}
