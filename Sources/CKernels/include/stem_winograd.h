#ifndef RESNET18_STEM_WINOGRAD_H
#define RESNET18_STEM_WINOGRAD_H

#include <stddef.h>
#include <stdint.h>

/// ResNet-18's stem in fp32 for CPUs with AVX-512, in one pass: the NCHW input (224x224, normalised), the 7x7
/// stride-2 pad-3 convolution to 64 channels with its bias and ReLU as Winograd F(3x3, 4x4) over the input's four
/// phases, and the 3x3 stride-2 pad-1 max pooling, into nChw16c [batch][4][56][56][16]; with AVX2 alone, the same
/// (`resnet18_stem_winograd_avx2_run`) into nChw8c.
typedef struct {
    int batch;
    const float *src;      ///< NCHW [batch][3][224][224]
    const float *weights;  ///< resnet18_stem_winograd_pack_weights's layout
    const float *bias;     ///< [64]
    float *dst;            ///< nChw16c [batch][4][56][56][16]
    void *scratch;         ///< resnet18_stem_winograd_scratch_bytes(batch, threads) bytes, 64-byte aligned
    int threads;           ///< OpenMP threads (libgomp's team, shared with oneDNN)
} resnet18_stem_winograd;

/// Floats of the packed (transformed) weights: 36 Winograd points x 12 phase channels x 64 output channels.
enum { RESNET18_STEM_WINOGRAD_WEIGHT_FLOATS = 36 * 12 * 64 };

/// Whether this CPU runs the kernel (AVX-512F).
int resnet18_stem_winograd_supported(void);

/// Scratch bytes for a batch on `threads` threads (the input's phases and each thread's rows).
size_t resnet18_stem_winograd_scratch_bytes(int batch, int threads);

/// Transforms OIHW f32 weights [64][3][7][7] into the kernel's layout (RESNET18_STEM_WINOGRAD_WEIGHT_FLOATS floats),
/// in double precision, each value rounded once.
void resnet18_stem_winograd_pack_weights(const float *oihw, float *packed);

/// Runs the stem; returns 0, or -1 when the CPU is not supported or the scratch is not 64-byte aligned.
int resnet18_stem_winograd_run(const resnet18_stem_winograd *stem);

/// Whether this CPU runs the kernel's AVX2 form (AVX2 and FMA).
int resnet18_stem_winograd_avx2_supported(void);

/// The same stem in the AVX2 form, with the same weights and scratch, into nChw8c [batch][8][56][56][8] (`dst`).
int resnet18_stem_winograd_avx2_run(const resnet18_stem_winograd *stem);

/// The AVX2 form into u8 nhwc [batch][56][56][64] at `scale` (level = value x scale, rounded to nearest even,
/// saturated at 255) instead of `stem->dst`, which is not used: the int8 plan's stem on CPUs without VNNI.
int resnet18_stem_winograd_avx2_run_u8(const resnet18_stem_winograd *stem, uint8_t *dst, float scale);

#endif
