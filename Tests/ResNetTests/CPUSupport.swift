import CKernels
@testable import ResNet

/// What this CPU runs. Tests that check which kernels a plan picked run only where those kernels can run; the
/// accuracy tests run everywhere, on whatever the plan falls back to.
enum CPUSupport {
    /// oneDNN's AVX-512 kernels (its Winograd, brgconv) and the project's fp32 Winograd kernel (AVX-512F).
    static let avx512 = DNNLInstructionSet.avx512 && resnet18_winograd_supported() != 0
    /// AVX2 and FMA without AVX-512: the project's fp32 Winograd kernel in its 8-lane form, where oneDNN has none.
    static let avx2Only = !DNNLInstructionSet.avx512 && resnet18_winograd_supported() == 0 && resnet18_winograd_avx2_supported() != 0
    /// oneDNN's AVX-512 VNNI int8 kernels and the project's: the int8 stem, the 8-bit and the 16-bit Winograd.
    static let avx512VNNI = DNNLInstructionSet.avx512VNNI && resnet18_stem_int8_supported() != 0
        && resnet18_winograd_int8_supported() != 0 && resnet18_winograd_s16_form() == 2
    /// The project's 16-bit int8 Winograd kernel in its AVX2 form (no VNNI): vpmaddwd where VNNI has vpdpwssd.
    static let int16WinogradAVX2 = resnet18_winograd_s16_form() == 1
    /// The instruction set oneDNN dispatches to, for the reason a test is skipped.
    static var oneDNN: String { DNNLInstructionSet.name }
}
