#ifndef RESNET18_STEM_INT8_H
#define RESNET18_STEM_INT8_H

#include <stddef.h>
#include <stdint.h>

/// ResNet-18's stem in int8 (AVX-512 VNNI), in one pass: the f32 NCHW input (224x224, normalised) quantised to s8,
/// the 7x7 stride-2 pad-3 convolution to 64 channels with its bias and ReLU, and the 3x3 stride-2 pad-1 max pooling,
/// into u8 nhwc [batch][56][56][64]. The stem's 112x112 output never leaves the cache.
typedef struct {
    int batch;
    const float *src;             ///< NCHW f32 [batch][3][224][224]
    float input_scale;            ///< s8 level = round(value x input_scale), saturated
    const int8_t *weights;        ///< resnet18_stem_int8_pack_weights's layout
    const int32_t *compensation;  ///< [64]: 128 x the sum of each output channel's s8 weights
    const float *multiplier;      ///< [64]: product units to dst units (dst scale / (input scale x weight scale))
    const float *bias;            ///< [64], in dst units
    uint8_t *dst;                 ///< nhwc u8 [batch][56][56][64]
    void *scratch;                ///< resnet18_stem_int8_scratch_bytes(batch, threads) bytes, 64-byte aligned
    int threads;                  ///< OpenMP threads (libgomp's team, shared with oneDNN)
} resnet18_stem_int8;

/// Bytes of the packed weights.
enum { RESNET18_STEM_INT8_WEIGHT_BYTES = 148 * 64 };

/// Whether this CPU runs the kernel (AVX-512 VNNI).
int resnet18_stem_int8_supported(void);

/// Scratch bytes for a batch on `threads` threads (the padded u8 input and each thread's pooling rows).
size_t resnet18_stem_int8_scratch_bytes(int batch, int threads);

/// Packs OIHW s8 weights [64][3][7][7] into the kernel's layout (RESNET18_STEM_INT8_WEIGHT_BYTES) and writes the
/// compensation.
void resnet18_stem_int8_pack_weights(const int8_t *oihw, int8_t *packed, int32_t *compensation);

/// Runs the stem; returns 0, or -1 when the CPU is not supported or the scratch is not 64-byte aligned.
int resnet18_stem_int8_run(const resnet18_stem_int8 *stem);

#endif
