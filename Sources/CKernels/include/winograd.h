#ifndef RESNET18_WINOGRAD_H
#define RESNET18_WINOGRAD_H

#include <stddef.h>

/// One 3x3 stride-1 pad-1 convolution by Winograd F(4x4, 3x3) with its weights transformed as it runs
/// (nothing but the plain weights is kept), for nChw16c float activations.
typedef struct {
    int batch, channels_in, channels_out, height, width;
    const float *src;      ///< nChw16c: [batch][channels_in / 16][height][width][16]
    float *dst;            ///< nChw16c: [batch][channels_out / 16][height][width][16]
    const float *weights;  ///< oneDNN's ABcd16b16a of oihw: [oc / 16][ic / 16][3][3][16 ic][16 oc], BatchNorm folded, 64-byte aligned
    const float *bias;     ///< [channels_out]
    int accumulate;        ///< dst += convolution (the residual add) instead of dst = convolution
    int relu;              ///< max(0, ·) last
    void *scratch;         ///< resnet18_winograd_scratch_bytes(...) bytes, 64-byte aligned
    int threads;           ///< OpenMP threads (libgomp's team, shared with oneDNN)
} resnet18_winograd_conv;

/// Whether this CPU runs the kernels (AVX-512F).
int resnet18_winograd_supported(void);

/// Whether a shape is one the kernel takes: input channels a multiple of 64, output channels of 32, and (above
/// 128x128 channels, where it keeps no block of tiles) a count of 4x4 tiles that is a multiple of 4.
int resnet18_winograd_accepts(int batch, int channels_in, int channels_out, int height, int width);

/// Scratch bytes for one convolution of this shape on `threads` threads.
size_t resnet18_winograd_scratch_bytes(int batch, int channels_in, int channels_out, int height, int width, int threads);

/// Runs the convolution; returns 0, or -1 when the CPU or the shape is not supported (nothing written).
int resnet18_winograd_run(const resnet18_winograd_conv *conv);

#endif
