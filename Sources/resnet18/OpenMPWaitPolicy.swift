#if canImport(Glibc)
import Glibc
#endif

/// OpenMP threads that sleep while they wait, unless the user chose otherwise.
///
/// By default libgomp's threads spin for a while at every barrier and between parallel regions. On a machine whose
/// cores are shared (a camera box decoding video beside the engine, a VM's neighbours) a spinning thread holds a
/// core its partner needs, and every barrier waits for a partner that is not running: on a Zen 2 with two busy
/// loops beside it, batch-1 fp32 took 226 ms at the median against 31 ms with passive waiting, while idle both took
/// 18 ms (docs/performance.md, "A shared CPU"). libgomp reads `OMP_WAIT_POLICY` only once, as it is loaded, before
/// `main` runs; so when it is not set the process sets it to PASSIVE and executes itself again, once, with the same
/// arguments. An `OMP_WAIT_POLICY` in the environment is left as it is.
enum OpenMPWaitPolicy {
    static func passiveUnlessChosen() {
        #if canImport(Glibc)
        guard getenv("OMP_WAIT_POLICY") == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when the executable cannot be run again (no /proc): carry on with libgomp's default.
        #endif
    }
}
