#if canImport(Glibc)
import Glibc
#endif

/// Gives freed heap pages back to the system (glibc's `malloc_trim`), so memory used once at start-up
/// (the weights pass through several temporary copies) stops counting as resident.
enum MemoryTrim {
    static func releaseFreePages() {
        #if canImport(Glibc)
        // Looked up at run time: the Glibc module does not import <malloc.h>.
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
