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

/// Floats of a convolution's weights transformed once for `resnet18_winograd_avx2_run_transformed` (36 x in x out:
/// four times the plain weights).
size_t resnet18_winograd_avx2_transformed_floats(int channels_in, int channels_out);

/// Transforms ABcd8b8a weights into `transformed` (resnet18_winograd_avx2_transformed_floats floats, 32-byte
/// aligned): the values the kernel computes on every call, computed once.
void resnet18_winograd_avx2_transform_weights(const float *weights, int channels_in, int channels_out, float *transformed);

/// Scratch bytes for `resnet18_winograd_avx2_run_transformed` on this shape on `threads` threads.
size_t resnet18_winograd_avx2_transformed_scratch_bytes(int batch, int channels_in, int channels_out, int height, int width,
                                                        int threads);

/// The same convolution from weights transformed once (`conv->weights` is not read), the same output bit for bit;
/// returns 0, or -1 when the CPU or the shape is not supported (nothing written).
int resnet18_winograd_avx2_run_transformed(const resnet18_winograd_conv *conv, const float *transformed);

#endif
