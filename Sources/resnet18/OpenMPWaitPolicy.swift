#if canImport(Glibc)
import Glibc
#endif

/// OpenMP threads that spin briefly, then sleep while they wait, unless the user chose otherwise.
///
/// By default libgomp's threads spin for up to about 3 ms at every barrier and between parallel regions. On a
/// machine whose cores are shared (a camera box decoding video beside the engine, a VM's neighbours) a spinning
/// thread holds a core its partner needs, and every barrier waits for a partner that is not running: on a Zen 2 with
/// two busy loops beside it, batch-1 fp32 took 226 ms at the median against 31 ms with passive waiting. Sleeping at
/// once has its own price where the cores are free: every parallel region (one a layer) then starts by waking a
/// sleeping thread, which on a Zen 4 VM made a lone image 13.6 ms instead of 11.2. A spin of 2,000 rounds (tens of
/// microseconds) before sleeping keeps nearly all of both: idle 11.2 ms, and with one and two busy loops 0.83x
/// and 0.50x the better peer's median (docs/performance.md, "A shared CPU"). libgomp reads `OMP_WAIT_POLICY` and
/// `GOMP_SPINCOUNT` only once, as it is loaded, before `main` runs; so when no policy is set the process sets
/// PASSIVE (and the spin, unless `GOMP_SPINCOUNT` is given) and executes itself again, once, with the same
/// arguments. An `OMP_WAIT_POLICY` in the environment is left as it is.
enum OpenMPWaitPolicy {
    static let spinCount = "2000"

    static func passiveUnlessChosen() {
        #if canImport(Glibc)
        guard getenv("OMP_WAIT_POLICY") == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        setenv("GOMP_SPINCOUNT", spinCount, 0)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when the executable cannot be run again (no /proc): carry on with libgomp's default.
        #endif
    }
}
