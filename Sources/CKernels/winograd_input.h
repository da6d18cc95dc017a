// The input transform B^T d B of Winograd F(4x4, 3x3) at the points 0, +-1, +-2 and infinity, 16 channels a vector:
// winograd.c's layers and stem_winograd.c's F(3x3, 4x4), whose points, and so B, are the same.
#ifndef RESNET18_WINOGRAD_INPUT_H
#define RESNET18_WINOGRAD_INPUT_H

#include <immintrin.h>
#include <stddef.h>

// d[row][column] of one 6x6 tile into out[point x point_stride], point = row x 6 + column of the transformed tile.
__attribute__((target("avx512f,fma"), always_inline)) static inline void
winograd_input_transform(__m512 d[6][6], float *out, size_t point_stride) {
    const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), five = _mm512_set1_ps(5);
    __m512 t[6][6];
    for (int k = 0; k < 6; k++) {
        __m512 d0 = d[0][k], d1 = d[1][k], d2 = d[2][k], d3 = d[3][k], d4 = d[4][k], d5 = d[5][k];
        t[0][k] = _mm512_add_ps(_mm512_fmsub_ps(four, d0, _mm512_mul_ps(five, d2)), d4);
        t[1][k] = _mm512_sub_ps(_mm512_add_ps(d3, d4), _mm512_mul_ps(four, _mm512_add_ps(d1, d2)));
        t[2][k] = _mm512_add_ps(_mm512_mul_ps(four, _mm512_sub_ps(d1, d2)), _mm512_sub_ps(d4, d3));
        t[3][k] = _mm512_add_ps(_mm512_mul_ps(two, _mm512_sub_ps(d3, d1)), _mm512_sub_ps(d4, d2));
        t[4][k] = _mm512_add_ps(_mm512_mul_ps(two, _mm512_sub_ps(d1, d3)), _mm512_sub_ps(d4, d2));
        t[5][k] = _mm512_add_ps(_mm512_fmsub_ps(four, d1, _mm512_mul_ps(five, d3)), d5);
    }
    for (int i = 0; i < 6; i++) {
        __m512 t0 = t[i][0], t1 = t[i][1], t2 = t[i][2], t3 = t[i][3], t4 = t[i][4], t5 = t[i][5];
        __m512 r[6];
        r[0] = _mm512_add_ps(_mm512_fmsub_ps(four, t0, _mm512_mul_ps(five, t2)), t4);
        r[1] = _mm512_sub_ps(_mm512_add_ps(t3, t4), _mm512_mul_ps(four, _mm512_add_ps(t1, t2)));
        r[2] = _mm512_add_ps(_mm512_mul_ps(four, _mm512_sub_ps(t1, t2)), _mm512_sub_ps(t4, t3));
        r[3] = _mm512_add_ps(_mm512_mul_ps(two, _mm512_sub_ps(t3, t1)), _mm512_sub_ps(t4, t2));
        r[4] = _mm512_add_ps(_mm512_mul_ps(two, _mm512_sub_ps(t1, t3)), _mm512_sub_ps(t4, t2));
        r[5] = _mm512_add_ps(_mm512_fmsub_ps(four, t1, _mm512_mul_ps(five, t3)), t5);
        for (int k = 0; k < 6; k++) _mm512_store_ps(out + (size_t)(i * 6 + k) * point_stride, r[k]);
    }
}

// The same, 8 channels a vector (AVX2 + FMA): winograd_avx2.c's layers and stem_winograd.c's AVX2 form.
__attribute__((target("avx2,fma"), always_inline)) static inline void
winograd_input_transform_avx2(__m256 d[6][6], float *out, size_t point_stride) {
    const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4), five = _mm256_set1_ps(5);
    __m256 t[6][6];
    for (int k = 0; k < 6; k++) {
        __m256 d0 = d[0][k], d1 = d[1][k], d2 = d[2][k], d3 = d[3][k], d4 = d[4][k], d5 = d[5][k];
        t[0][k] = _mm256_add_ps(_mm256_fmsub_ps(four, d0, _mm256_mul_ps(five, d2)), d4);
        t[1][k] = _mm256_sub_ps(_mm256_add_ps(d3, d4), _mm256_mul_ps(four, _mm256_add_ps(d1, d2)));
        t[2][k] = _mm256_add_ps(_mm256_mul_ps(four, _mm256_sub_ps(d1, d2)), _mm256_sub_ps(d4, d3));
        t[3][k] = _mm256_add_ps(_mm256_mul_ps(two, _mm256_sub_ps(d3, d1)), _mm256_sub_ps(d4, d2));
        t[4][k] = _mm256_add_ps(_mm256_mul_ps(two, _mm256_sub_ps(d1, d3)), _mm256_sub_ps(d4, d2));
        t[5][k] = _mm256_add_ps(_mm256_fmsub_ps(four, d1, _mm256_mul_ps(five, d3)), d5);
    }
    for (int i = 0; i < 6; i++) {
        __m256 t0 = t[i][0], t1 = t[i][1], t2 = t[i][2], t3 = t[i][3], t4 = t[i][4], t5 = t[i][5];
        __m256 r[6];
        r[0] = _mm256_add_ps(_mm256_fmsub_ps(four, t0, _mm256_mul_ps(five, t2)), t4);
        r[1] = _mm256_sub_ps(_mm256_add_ps(t3, t4), _mm256_mul_ps(four, _mm256_add_ps(t1, t2)));
        r[2] = _mm256_add_ps(_mm256_mul_ps(four, _mm256_sub_ps(t1, t2)), _mm256_sub_ps(t4, t3));
        r[3] = _mm256_add_ps(_mm256_mul_ps(two, _mm256_sub_ps(t3, t1)), _mm256_sub_ps(t4, t2));
        r[4] = _mm256_add_ps(_mm256_mul_ps(two, _mm256_sub_ps(t1, t3)), _mm256_sub_ps(t4, t2));
        r[5] = _mm256_add_ps(_mm256_fmsub_ps(four, t1, _mm256_mul_ps(five, t3)), t5);
        for (int k = 0; k < 6; k++) _mm256_store_ps(out + (size_t)(i * 6 + k) * point_stride, r[k]);
    }
}
#endif
