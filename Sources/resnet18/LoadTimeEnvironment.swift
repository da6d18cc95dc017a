#if canImport(Glibc)
import Glibc
#endif

/// Settings that libgomp and glibc read only once, as the process is loaded, before `main` runs: when the environment
/// lacks one, the process sets it and executes itself again, once, with the same arguments. A value the environment
/// gives is kept. Once loaded, the process puts its environment back as it was given, so that the programs it starts
/// (ffmpeg for a camera) run as they would have.
///
/// **OpenMP threads that spin briefly, then sleep.** By default libgomp's threads spin for up to about 3 ms at every
/// barrier and between parallel regions. On a machine whose cores are shared (a camera box decoding video beside the
/// engine, a VM's neighbours) a spinning thread holds a core its partner needs, and every barrier waits for a partner
/// that is not running: on a Zen 2 with two busy loops beside it, batch-1 fp32 took 226 ms at the median against
/// 31 ms with passive waiting. Sleeping at once has its own price where the cores are free: every parallel region
/// (one a layer) then starts by waking a sleeping thread, which on a Zen 4 VM made a lone image 13.6 ms instead of
/// 11.2. A spin of 2,000 rounds (tens of microseconds) before sleeping keeps nearly all of both: idle 11.2 ms, and
/// with one and two busy loops 0.83x and 0.50x the better peer's median (docs/performance.md, "A shared CPU").
/// `OMP_WAIT_POLICY=PASSIVE`, and `GOMP_SPINCOUNT=2000` unless a spin is given; an `OMP_WAIT_POLICY` given is kept
/// with whatever spin the environment has.
///
/// **Transparent huge pages for the heap.** Every image reads the network's weights (47 MB fp32) and activations
/// from memory in 4 kB pages, more than the TLB covers. Debian's kernels give huge pages only where a program asks
/// (`transparent_hugepage=madvise`); glibc's `glibc.malloc.hugetlb=1` asks for them for the heap and for large
/// blocks. On a Zen 4 a batch-1 fp32 image ran 2 % faster at the median of nine alternating `bench` pairs (-0.5 to
/// 6 %), batch 8 and int8 alike, the server's resident memory alike (bench/results/engine-plan.md). Added to a
/// `GLIBC_TUNABLES` that does not name `glibc.malloc.hugetlb`.
enum LoadTimeEnvironment {
    static let spinCount = "2000"
    static let hugePages = "glibc.malloc.hugetlb=1"
    /// What the first run changed, for the second to put back: a line a variable, `NAME` (was unset) or `NAME=value`.
    static let marker = "RESNET18_GIVEN_ENVIRONMENT"

    static func setUnlessChosen() {
        #if canImport(Glibc)
        if let given = getenv(marker).map({ String(cString: $0) }) {
            restore(given)
            return
        }
        var replaced: [String] = []
        func set(_ name: String, _ value: String) {
            replaced.append(getenv(name).map { "\(name)=\(String(cString: $0))" } ?? name)
            setenv(name, value, 1)
        }
        if getenv("OMP_WAIT_POLICY") == nil {
            set("OMP_WAIT_POLICY", "PASSIVE")
            if getenv("GOMP_SPINCOUNT") == nil { set("GOMP_SPINCOUNT", spinCount) }
        }
        let tunables = getenv("GLIBC_TUNABLES").map { String(cString: $0) } ?? ""
        if !tunables.contains("glibc.malloc.hugetlb") {
            set("GLIBC_TUNABLES", tunables.isEmpty ? hugePages : tunables + ":" + hugePages)
        }
        guard !replaced.isEmpty else { return }
        setenv(marker, replaced.joined(separator: "\n"), 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when the executable cannot be run again (no /proc): carry on with the defaults.
        restore(replaced.joined(separator: "\n"))
        #endif
    }

    /// The variables this sets; `restore` touches no other, whatever the marker says.
    static let managed: Set<String> = ["OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "GLIBC_TUNABLES"]

    private static func restore(_ given: String) {
        #if canImport(Glibc)
        for line in given.split(separator: "\n") {
            let equals = line.firstIndex(of: "=")
            let name = String(line[..<(equals ?? line.endIndex)])
            guard managed.contains(name) else { continue }
            if let equals {
                setenv(name, String(line[line.index(after: equals)...]), 1)
            } else {
                unsetenv(name)
            }
        }
        unsetenv(marker)
        #endif
    }
}
