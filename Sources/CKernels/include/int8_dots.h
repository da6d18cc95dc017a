#ifndef RESNET18_INT8_DOTS_H
#define RESNET18_INT8_DOTS_H

#include <stdint.h>

/// Dot products of one int8 vector with every row of an int8 matrix: `out[r] = sum_f matrix[r][f] * query[f]`, for
/// `rows` rows of `width` values (exact, in 32-bit integers). Rows are shared between `threads` libgomp threads.
void resnet18_int8_dots(const int8_t *matrix, int64_t rows, int64_t width, const int8_t *query, int32_t *out, int threads);

#endif
