// Pillow's bilinear resampling passes in C (PillowResize.swift computes the taps, chooses the order and the window):
// the same integer arithmetic as Resample.c, so the same bytes, with AVX2 where the CPU has it. As Swift loops they
// ran scalar (the x86-64 baseline has no 32-bit vector multiply), and every camera frame and upload goes through them.
#include <immintrin.h>
#include <string.h>
#include "pillow_resample.h"

#define AVX2 __attribute__((target("avx2")))
enum { PRECISION_BITS = 22 };

static inline uint8_t clip8(int32_t sum) {
    const int32_t value = sum >> PRECISION_BITS;
    return value < 0 ? 0 : value > 255 ? 255 : (uint8_t)value;
}

static int has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

static void horizontal_pixel(const uint8_t *pixel, const int32_t *k, long taps, uint8_t *out) {
    int32_t r = 1 << (PRECISION_BITS - 1), g = r, b = r;
    for (long t = 0; t < taps; t++, pixel += 3) {
        r += (int32_t)pixel[0] * k[t];
        g += (int32_t)pixel[1] * k[t];
        b += (int32_t)pixel[2] * k[t];
    }
    out[0] = clip8(r);
    out[1] = clip8(g);
    out[2] = clip8(b);
}

// Two output pixels a vector, lanes 0-3 the first's R, G, B and the byte after them (its lane is never written out),
// 4-7 the second's: each tap is one 4-byte load per pixel, widened to int32. Both run to the longer of their two
// counts, the shorter on its zero weights past its own (FilterTaps pads every position's weights with zeros to
// `stride`), so each reads up to 3 x (longer count) + 1 bytes from its first pixel: pairs that could reach past
// `src_bytes` go one pixel at a time.
AVX2 static void horizontal_avx2(const uint8_t *src, size_t src_bytes, size_t row_bytes, int rows, long first_column,
                                 const long *first, const long *count, const int32_t *weights, long stride,
                                 int out_width, uint8_t *out) {
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int y = 0; y < rows; y++) {
        const uint8_t *row = src + (size_t)y * row_bytes;
        uint8_t *to = out + (size_t)y * out_width * 3;
        int x = 0;
        for (; x + 2 <= out_width; x += 2) {
            const uint8_t *a = row + (first[x] - first_column) * 3, *b = row + (first[x + 1] - first_column) * 3;
            const long taps = count[x] > count[x + 1] ? count[x] : count[x + 1];
            if ((size_t)(b - src) + (size_t)taps * 3 + 1 > src_bytes
                || (size_t)(a - src) + (size_t)taps * 3 + 1 > src_bytes) {
                horizontal_pixel(a, weights + x * stride, count[x], to + x * 3);
                horizontal_pixel(b, weights + (x + 1) * stride, count[x + 1], to + x * 3 + 3);
                continue;
            }
            const int32_t *ka = weights + x * stride, *kb = ka + stride;
            __m256i sum = half;
            for (long t = 0; t < taps; t++) {
                int32_t wa, wb;
                memcpy(&wa, a + t * 3, 4);
                memcpy(&wb, b + t * 3, 4);
                const __m256i pixels = _mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, wb, wa));
                const __m256i k = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi32(ka[t])), _mm_set1_epi32(kb[t]), 1);
                sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(pixels, k));
            }
            const __m256i shifted = _mm256_srai_epi32(sum, PRECISION_BITS);
            const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(shifted), _mm256_extracti128_si256(shifted, 1));
            const __m128i bytes = _mm_packus_epi16(words, words);
            uint8_t packed[16];
            _mm_storeu_si128((__m128i *)packed, bytes);
            memcpy(to + x * 3, packed, 3);
            memcpy(to + x * 3 + 3, packed + 4, 3);
        }
        for (; x < out_width; x++) {
            horizontal_pixel(row + (first[x] - first_column) * 3, weights + x * stride, count[x], to + x * 3);
        }
    }
}

void resnet18_resample_horizontal(const uint8_t *src, size_t src_bytes, size_t row_bytes, int rows, long first_column,
                                  const long *first, const long *count, const int32_t *weights, long stride,
                                  int out_width, uint8_t *out, int allow_avx2) {
    if (allow_avx2 && has_avx2()) {
        horizontal_avx2(src, src_bytes, row_bytes, rows, first_column, first, count, weights, stride, out_width, out);
        return;
    }
    for (int y = 0; y < rows; y++) {
        const uint8_t *row = src + (size_t)y * row_bytes;
        for (int x = 0; x < out_width; x++) {
            horizontal_pixel(row + (first[x] - first_column) * 3, weights + x * stride, count[x],
                             out + ((size_t)y * out_width + x) * 3);
        }
    }
}

// 32 bytes of a row at a time, every tap's row summed in registers, then narrowed with saturation (clip8).
AVX2 static void vertical_avx2(const uint8_t *src, size_t row_bytes, long first_row, size_t byte_offset,
                               size_t out_row_bytes, const long *first, const long *count, const int32_t *weights,
                               long stride, int out_height, uint8_t *out) {
    const __m256i half = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
    for (int y = 0; y < out_height; y++) {
        const uint8_t *top = src + (size_t)(first[y] - first_row) * row_bytes + byte_offset;
        const int32_t *k = weights + y * stride;
        const long taps = count[y];
        uint8_t *to = out + (size_t)y * out_row_bytes;
        size_t i = 0;
        for (; i + 32 <= out_row_bytes; i += 32) {
            __m256i s0 = half, s1 = half, s2 = half, s3 = half;
            for (long t = 0; t < taps; t++) {
                const uint8_t *p = top + (size_t)t * row_bytes + i;
                const __m256i w = _mm256_set1_epi32(k[t]);
                s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)), w));
                s1 = _mm256_add_epi32(s1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8))), w));
                s2 = _mm256_add_epi32(s2, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 16))), w));
                s3 = _mm256_add_epi32(s3, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 24))), w));
            }
            // packs/packus work within 128-bit halves: the permute puts the 32 bytes back in order.
            const __m256i w01 = _mm256_packs_epi32(_mm256_srai_epi32(s0, PRECISION_BITS), _mm256_srai_epi32(s1, PRECISION_BITS));
            const __m256i w23 = _mm256_packs_epi32(_mm256_srai_epi32(s2, PRECISION_BITS), _mm256_srai_epi32(s3, PRECISION_BITS));
            const __m256i bytes = _mm256_packus_epi16(w01, w23);
            _mm256_storeu_si256((__m256i *)(to + i), _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
        }
        for (; i < out_row_bytes; i++) {
            int32_t sum = 1 << (PRECISION_BITS - 1);
            for (long t = 0; t < taps; t++) sum += (int32_t)top[(size_t)t * row_bytes + i] * k[t];
            to[i] = clip8(sum);
        }
    }
}

void resnet18_resample_vertical(const uint8_t *src, size_t row_bytes, long first_row, size_t byte_offset,
                                size_t out_row_bytes, const long *first, const long *count, const int32_t *weights,
                                long stride, int out_height, uint8_t *out, int allow_avx2) {
    if (allow_avx2 && has_avx2()) {
        vertical_avx2(src, row_bytes, first_row, byte_offset, out_row_bytes, first, count, weights, stride, out_height, out);
        return;
    }
    for (int y = 0; y < out_height; y++) {
        const uint8_t *top = src + (size_t)(first[y] - first_row) * row_bytes + byte_offset;
        const int32_t *k = weights + y * stride;
        for (size_t i = 0; i < out_row_bytes; i++) {
            int32_t sum = 1 << (PRECISION_BITS - 1);
            for (long t = 0; t < count[y]; t++) sum += (int32_t)top[(size_t)t * row_bytes + i] * k[t];
            out[(size_t)y * out_row_bytes + i] = clip8(sum);
        }
    }
}
