#ifndef RESNET18_TENSOR_BYTES_H
#define RESNET18_TENSOR_BYTES_H

#include <stddef.h>

/// Copies `count` little-endian float32 values from `src` (any alignment) into `dst` in the host's order, and
/// returns 1 when every one is finite, 0 when one is NaN or infinite.
int resnet18_copy_finite_f32le(float *dst, const void *src, size_t count);

#endif
