#ifndef RESNET18_WINOGRAD_AVX2_H
#define RESNET18_WINOGRAD_AVX2_H

#include <stddef.h>
#include "winograd.h"

// The same convolution as winograd.h for CPUs with AVX2 and FMA but no AVX-512, on nChw8c activations and
// ABcd8b8a weights ([oc / 8][ic / 8][3][3][8 ic][8 oc]): the blocks of oneDNN's AVX2 code, so no activation is
// reordered around it. The fields of `resnet18_winograd_conv` mean the same with 8 for 16.

/// Whether this CPU runs the kernel (AVX2 and FMA).
int resnet18_winograd_avx2_supported(void);

/// Whether a shape is one the kernel takes: input channels a multiple of 64, output channels of 16.
int resnet18_winograd_avx2_accepts(int batch, int channels_in, int channels_out, int height, int width);

/// Scratch bytes for one convolution of this shape on `threads` threads.
size_t resnet18_winograd_avx2_scratch_bytes(int batch, int channels_in, int channels_out, int height, int width, int threads);

/// Runs the convolution; returns 0, or -1 when the CPU or the shape is not supported (nothing written).
int resnet18_winograd_avx2_run(const resnet18_winograd_conv *conv);

#endif
