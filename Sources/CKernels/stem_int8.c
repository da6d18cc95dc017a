// ResNet-18's stem in int8: quantise, 7x7 stride-2 convolution (3 -> 64 channels) + bias + ReLU, 3x3 stride-2 max
// pooling, in one pass.
//
// oneDNN's int8 stem (jit_int8) pads the image's 3 channels to VNNI's groups of 4, so a quarter of its products are
// zeros, and writes the 112x112x64 output (0.8 MB an image) for the pooling to read back. Here the input is
// quantised into a padded u8 nhwc copy (s8 + 128, for VNNI's u8 x s8 products; `compensation` takes the 128s back
// out), where one kernel row of an output pixel is 21 consecutive bytes (7 pixels x 3 channels). Six pixels at a
// time, their 7 rows are copied into 148-byte columns (147 taps and a zero weight), and each column's 37 dwords are
// broadcast against the 64 channels' weights (4 vectors of 16 channels x 4 bytes; 9.5 kB for all, in L1), into 24
// accumulators. Taking each kernel row as 6 dwords straight from the input instead (168 products per 147, no
// copies) was slower (bench/results/engine-plan.md). Work goes out in bands of 14 pooled rows (29 stem rows, one shared with the band
// above); a band's stem rows are max-pooled across as they are made and down once the band is done.

#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "stem_int8.h"
#include "vnni_common.h"
#include "../CThreadBinding/include/openmp_runtime.h"


enum {
    SIDE = 224, PAD = 3, PADDED = SIDE + 2 * PAD, ROW_BYTES = PADDED * 3,
    IMAGE_BYTES = (PADDED * ROW_BYTES + 63) & ~63,
    K_BYTES = 148, OUT = 112, POOLED = 56, OC = 64, KH = 7, STEP_BYTES = OC * 4,
    BAND = 14, BANDS = POOLED / BAND, BAND_BYTES = (2 * BAND + 1) * POOLED * OC,
    QUANTIZE_ROWS = 16, QUANTIZE_UNITS = SIDE / QUANTIZE_ROWS,
};

typedef struct {
    const resnet18_stem_int8 *stem;
    int next;  // units handed out so far (atomic)
} job;

int resnet18_stem_int8_supported(void) {
    return resnet18_cpu_has_vnni();
}

size_t resnet18_stem_int8_scratch_bytes(int batch, int threads) {
    return (size_t)batch * IMAGE_BYTES + (size_t)(threads > 0 ? threads : 1) * BAND_BYTES;
}

void resnet18_stem_int8_pack_weights(const int8_t *oihw, int8_t *packed, int32_t *compensation) {
    for (int o = 0; o < OC; o++) {
        int32_t sum = 0;
        for (int i = 0; i < 3 * 7 * 7; i++) sum += oihw[o * 3 * 7 * 7 + i];
        compensation[o] = 128 * sum;
    }
    // Byte k of 148 is tap (kh, kw) = (k / 21, k % 21 / 3) of channel k % 3; k = 147 meets a zero weight.
    for (int k4 = 0; k4 < K_BYTES / 4; k4++)
        for (int o = 0; o < OC; o++)
            for (int t = 0; t < 4; t++) {
                const int k = 4 * k4 + t, kh = k / 21, kw = k % 21 / 3, c = k % 3;
                packed[(k4 * OC + o) * 4 + t] = k < 147 ? oihw[((o * 3 + c) * 7 + kh) * 7 + kw] : 0;
            }
}

// Input rows [y0, y1) of one image into its padded u8 nhwc copy, with their left and right padding; the first and
// last units also write the top and bottom padding rows. 128 is the level of 0.
VNNI static void quantize_rows(const resnet18_stem_int8 *s, int image, int y0, int y1) {
    uint8_t *padded = (uint8_t *)s->scratch + (size_t)image * IMAGE_BYTES;
    const float *src = s->src + (size_t)image * 3 * SIDE * SIDE;
    const __m512 scale = _mm512_set1_ps(s->input_scale);
    const __m128i offset = _mm_set1_epi8((char)0x80);
    if (y0 == 0) memset(padded, 128, (size_t)PAD * ROW_BYTES);
    if (y1 == SIDE) memset(padded + (size_t)(PAD + SIDE) * ROW_BYTES, 128, IMAGE_BYTES - (size_t)(PAD + SIDE) * ROW_BYTES);
    for (int y = y0; y < y1; y++) {
        uint8_t *row = padded + (size_t)(y + PAD) * ROW_BYTES;
        memset(row, 128, PAD * 3);
        memset(row + (PAD + SIDE) * 3, 128, PAD * 3);
        row += PAD * 3;
        for (int x = 0; x < SIDE; x += 16) {
            uint8_t planes[3][16], pixels[48];
            for (int c = 0; c < 3; c++) {
                const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(src + ((size_t)c * SIDE + y) * SIDE + x), scale);
                _mm_storeu_si128((void *)planes[c], _mm_xor_si128(_mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)), offset));
            }
            for (int i = 0; i < 16; i++) {
                pixels[3 * i] = planes[0][i];
                pixels[3 * i + 1] = planes[1][i];
                pixels[3 * i + 2] = planes[2][i];
            }
            memcpy(row + 3 * x, pixels, sizeof pixels);
        }
    }
}

// P output pixels from `ox` of the stem row whose kernel rows start at `top`, after bias and ReLU, into `out`. The
// 32-byte copies overlap (each row's last 11 bytes are overwritten by the next) and may read past the row's end
// into the next row or the image's slack, which the copy's next row or zero weight then covers.
#define PIXELS(P)                                                                                               \
    do {                                                                                                        \
        uint8_t cols[P][K_BYTES + 32] __attribute__((aligned(64)));                                             \
        for (int p = 0; p < P; p++)                                                                             \
            for (int kh = 0; kh < KH; kh++)                                                                     \
                _mm256_storeu_si256((void *)(cols[p] + 21 * kh),                                                \
                    _mm256_loadu_si256((const void *)(top + (size_t)kh * ROW_BYTES + (size_t)(ox + p) * 6)));   \
        for (int p = 0; p < P; p++) cols[p][147] = 128;                                                         \
        __m512i acc[P][4];                                                                                      \
        for (int p = 0; p < P; p++)                                                                             \
            for (int g = 0; g < 4; g++) acc[p][g] = _mm512_setzero_si512();                                     \
        const int8_t *w = s->weights;                                                                           \
        for (int k = 0; k < K_BYTES; k += 4, w += STEP_BYTES) {                                                 \
            const __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 64);                         \
            const __m512i w2 = _mm512_loadu_si512(w + 128), w3 = _mm512_loadu_si512(w + 192);                  \
            for (int p = 0; p < P; p++) {                                                                       \
                int32_t bytes;                                                                                  \
                memcpy(&bytes, cols[p] + k, 4);                                                                 \
                const __m512i b = _mm512_set1_epi32(bytes);                                                     \
                acc[p][0] = _mm512_dpbusd_epi32(acc[p][0], b, w0);                                              \
                acc[p][1] = _mm512_dpbusd_epi32(acc[p][1], b, w1);                                              \
                acc[p][2] = _mm512_dpbusd_epi32(acc[p][2], b, w2);                                              \
                acc[p][3] = _mm512_dpbusd_epi32(acc[p][3], b, w3);                                              \
            }                                                                                                   \
        }                                                                                                       \
        for (int p = 0; p < P; p++)                                                                             \
            for (int g = 0; g < 4; g++) {                                                                       \
                __m512 z = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[p][g], compensation[g]));                    \
                z = _mm512_max_ps(_mm512_fmadd_ps(z, multiplier[g], bias[g]), zero);                            \
                _mm_storeu_si128((void *)(out + (size_t)(ox + p) * OC + 16 * g),                                \
                                 _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(z)));                                \
            }                                                                                                   \
    } while (0)

// One stem output row, [112][64] u8, from the padded input rows starting at `top`.
VNNI __attribute__((noinline)) static void stem_row(const resnet18_stem_int8 *s, const uint8_t *top, uint8_t *out) {
    __m512i compensation[4];
    __m512 multiplier[4], bias[4];
    const __m512 zero = _mm512_setzero_ps();
    for (int g = 0; g < 4; g++) {
        compensation[g] = _mm512_loadu_si512(s->compensation + 16 * g);
        multiplier[g] = _mm512_loadu_ps(s->multiplier + 16 * g);
        bias[g] = _mm512_loadu_ps(s->bias + 16 * g);
    }
    int ox = 0;
    for (; ox + 6 <= OUT; ox += 6) PIXELS(6);
    for (; ox + 4 <= OUT; ox += 4) PIXELS(4);  // 112 = 18 x 6 + 4
}

// A stem row's maxima across, [56][64]: pooled column px takes stem columns 2px-1..2px+1 (the padding never wins
// after a ReLU).
VNNI static void pool_across(const uint8_t *row, uint8_t *across) {
    for (int px = 0; px < POOLED; px++) {
        __m512i m = _mm512_max_epu8(_mm512_loadu_si512(row + (size_t)(2 * px) * OC),
                                    _mm512_loadu_si512(row + (size_t)(2 * px + 1) * OC));
        if (px > 0) m = _mm512_max_epu8(m, _mm512_loadu_si512(row + (size_t)(2 * px - 1) * OC));
        _mm512_storeu_si512(across + (size_t)px * OC, m);
    }
}

// Pooled rows [first, first + BAND) of one image: stem rows 2 first - 1 .. 2 last + 1, each pooled across into
// `own`, then down.
VNNI static void band(const resnet18_stem_int8 *s, int image, int first, uint8_t *own) {
    const uint8_t *padded = (const uint8_t *)s->scratch + (size_t)image * IMAGE_BYTES;
    uint8_t row[OUT * OC] __attribute__((aligned(64)));
    const int last = first + BAND;
    const int first_row = first > 0 ? 2 * first - 1 : 0, last_row = 2 * last - 1;
    for (int r = first_row; r <= last_row; r++) {
        stem_row(s, padded + (size_t)(2 * r) * ROW_BYTES, row);
        pool_across(row, own + (size_t)(r - first_row) * POOLED * OC);
    }
    for (int py = first; py < last; py++) {
        uint8_t *dst = s->dst + ((size_t)image * POOLED + py) * POOLED * OC;
        const int top = py > 0 ? 2 * py - 1 : 0;
        for (int px = 0; px < POOLED; px++) {
            __m512i m = _mm512_loadu_si512(own + ((size_t)(top - first_row) * POOLED + px) * OC);
            for (int r = top + 1; r <= 2 * py + 1; r++)
                m = _mm512_max_epu8(m, _mm512_loadu_si512(own + ((size_t)(r - first_row) * POOLED + px) * OC));
            _mm512_storeu_si512(dst + (size_t)px * OC, m);
        }
    }
}

static void quantize_work(void *data) {
    job *j = data;
    const resnet18_stem_int8 *s = j->stem;
    for (int u; (u = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < s->batch * QUANTIZE_UNITS;) {
        const int y0 = (u % QUANTIZE_UNITS) * QUANTIZE_ROWS;
        quantize_rows(s, u / QUANTIZE_UNITS, y0, y0 + QUANTIZE_ROWS);
    }
}

static void stem_work(void *data) {
    job *j = data;
    const resnet18_stem_int8 *s = j->stem;
    uint8_t *own = (uint8_t *)s->scratch + (size_t)s->batch * IMAGE_BYTES + (size_t)omp_get_thread_num() * BAND_BYTES;
    for (int u; (u = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < s->batch * BANDS;)
        band(s, u / BANDS, (u % BANDS) * BAND, own);
}

int resnet18_stem_int8_run(const resnet18_stem_int8 *stem) {
    if (!resnet18_stem_int8_supported() || ((uintptr_t)stem->scratch & 63) != 0) return -1;
    const unsigned threads = stem->threads > 0 ? (unsigned)stem->threads : 1;
    job j = { .stem = stem };
    GOMP_parallel(quantize_work, &j, threads, 0);
    j.next = 0;
    GOMP_parallel(stem_work, &j, threads, 0);
    return 0;
}
