import Foundation

/// What this machine's CPU can do, read from /proc/cpuinfo: tests of a precision that needs an instruction set run
/// only where it exists (the accuracy tests of the rest run everywhere).
public enum HostCPU {
    /// AVX-512 F, BW, VL and DQ: what oneDNN calls `avx512_core`, without which it has no bf16 convolution.
    public static let hasAVX512Core: Bool = {
        let flags = flagsLine()
        return ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains)
    }()

    private static func flagsLine() -> Set<Substring> {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }))
    }
}
