#ifndef RESNET18_PILLOW_RESAMPLE_H
#define RESNET18_PILLOW_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

/// Pillow's 8-bit resampling passes (Resample.c's ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc on
/// RGB), bit for bit: sums of u8 × 22-bit fixed-point weights in int32 from 1 << 21, then >> 22 clamped to 0...255.
/// Output position i reads `count[i]` inputs from `first[i]` with the weights at `weights + i * stride` (zero past
/// `count[i]`). With `allow_avx2` 0 the plain C form runs even where the CPU has AVX2 (the tests compare the two).

/// For each of `rows` rows of `src` (row `r` at `src + r * row_bytes`, its first pixel input column `first_column`),
/// `out_width` RGB output pixels into `out` (3 bytes a pixel, rows packed). `src_bytes`: bytes readable from `src`.
void resnet18_resample_horizontal(const uint8_t *src, size_t src_bytes, size_t row_bytes, int rows, long first_column,
                                  const long *first, const long *count, const int32_t *weights, long stride,
                                  int out_width, uint8_t *out, int allow_avx2);

/// `out_height` output rows of `out_row_bytes` bytes each into `out`: output row y sums input rows
/// `first[y] - first_row ...` of `src` (`row_bytes` apart), each from byte `byte_offset` on, one weight a row.
void resnet18_resample_vertical(const uint8_t *src, size_t row_bytes, long first_row, size_t byte_offset,
                                size_t out_row_bytes, const long *first, const long *count, const int32_t *weights,
                                long stride, int out_height, uint8_t *out, int allow_avx2);

#endif
