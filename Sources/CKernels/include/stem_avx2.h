#ifndef RESNET18_STEM_AVX2_H
#define RESNET18_STEM_AVX2_H

#include <stddef.h>

/// ResNet-18's stem in fp32 for CPUs with AVX2 and FMA, in one pass: the NCHW input (224x224, normalised), the 7x7
/// stride-2 pad-3 convolution to 64 channels with its bias and ReLU, and the 3x3 stride-2 pad-1 max pooling, into
/// nChw8c [batch][8][56][56][8] (the block oneDNN's AVX2 code and the AVX2 Winograd kernel read). The stem's
/// 112x112 output never leaves the cache.
typedef struct {
    int batch;
    const float *src;      ///< NCHW [batch][3][224][224]
    const float *weights;  ///< resnet18_stem_avx2_pack_weights's layout
    const float *bias;     ///< [64]
    float *dst;            ///< nChw8c [batch][8][56][56][8]
    void *scratch;         ///< resnet18_stem_avx2_scratch_bytes(batch, threads) bytes, 64-byte aligned
    int threads;           ///< OpenMP threads (libgomp's team, shared with oneDNN)
} resnet18_stem_avx2;

/// Floats of the packed weights.
enum { RESNET18_STEM_AVX2_WEIGHT_FLOATS = 147 * 64 };

/// Whether this CPU runs the kernel (AVX2 and FMA).
int resnet18_stem_avx2_supported(void);

/// Scratch bytes for a batch on `threads` threads (the padded input and each thread's rows).
size_t resnet18_stem_avx2_scratch_bytes(int batch, int threads);

/// Packs OIHW f32 weights [64][3][7][7] into the kernel's layout (RESNET18_STEM_AVX2_WEIGHT_FLOATS floats).
void resnet18_stem_avx2_pack_weights(const float *oihw, float *packed);

/// Runs the stem; returns 0, or -1 when the CPU is not supported or the scratch is not 64-byte aligned.
int resnet18_stem_avx2_run(const resnet18_stem_avx2 *stem);

#endif
