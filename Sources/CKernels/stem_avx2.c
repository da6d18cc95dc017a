// ResNet-18's stem in fp32 for AVX2 + FMA CPUs: 7x7 stride-2 convolution (3 -> 64 channels) + bias + ReLU, and the
// 3x3 stride-2 max pooling, in one pass.
//
// oneDNN runs the stem as a convolution and a pooling primitive, and the 112x112x64 output between them (3.2 MB an
// image) goes through memory and back. Here the input is copied into a zero-padded planar buffer, so that every tap
// of every output pixel is one plain load; six output pixels at a time, each of the 147 taps is broadcast against 16
// output channels' weights (2 vectors; 9.4 kB a quarter, in L1) into 12 accumulators, the most AVX2's 16 registers
// hold beside the weights and the broadcast. The products run at the cores' FMA peak, as oneDNN's do; what is saved
// is the pooling's pass over memory. Work goes out in bands of 14 pooled rows (29 stem rows, one shared with the band
// above); each stem row is pooled across as it is made, and each pooled row is written as soon as its three stem rows
// are.

#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "stem_avx2.h"
#include "../CThreadBinding/include/openmp_runtime.h"   // libgomp: the team oneDNN runs on

#define AVX2 __attribute__((target("avx2,fma")))

enum {
    SIDE = 224, PAD = 3, TAPS = 147, OC = 64, QUARTER = 16, LANES = 8,
    PADDED_ROWS = SIDE + 2 * PAD,
    // A stem row is made 6 pixels at a time, 114 of them (112 and two the pooling never reads), which read up to
    // padded column 2 x 113 + 6 = 232.
    BLOCK = 6, ROW_PIXELS = 114, PADDED_STRIDE = 240,
    IMAGE_FLOATS = 3 * PADDED_ROWS * PADDED_STRIDE,
    OUT = 112, POOLED = 56, BAND = 14, BANDS = POOLED / BAND,
    PAD_GROUPS = 10, PAD_GROUP_ROWS = PADDED_ROWS / PAD_GROUPS,
    // Per thread: one stem row [114][64], and the last three stem rows pooled across, [3][56][64].
    OWN_FLOATS = ROW_PIXELS * OC + 3 * POOLED * OC,
};

typedef struct {
    const resnet18_stem_avx2 *stem;
    int next_pad;   // padding units handed out so far (atomic)
    int next_band;  // bands handed out so far (atomic)
} job;

int resnet18_stem_avx2_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

size_t resnet18_stem_avx2_scratch_bytes(int batch, int threads) {
    return ((size_t)batch * IMAGE_FLOATS + (size_t)(threads > 0 ? threads : 1) * OWN_FLOATS) * sizeof(float);
}

void resnet18_stem_avx2_pack_weights(const float *oihw, float *packed) {
    // [quarter][tap][16 output channels], tap = (c x 7 + kh) x 7 + kw.
    for (int q = 0; q < OC / QUARTER; q++)
        for (int k = 0; k < TAPS; k++)
            for (int o = 0; o < QUARTER; o++)
                packed[((size_t)q * TAPS + k) * QUARTER + o] = oihw[(size_t)(q * QUARTER + o) * TAPS + k];
}

// Rows [group x 23, group x 23 + 23) of one channel's padded copy.
static void pad_rows(const resnet18_stem_avx2 *s, int image, int channel, int group) {
    float *padded = (float *)s->scratch + (size_t)image * IMAGE_FLOATS + (size_t)channel * PADDED_ROWS * PADDED_STRIDE;
    const float *source = s->src + ((size_t)image * 3 + channel) * SIDE * SIDE;
    for (int y = group * PAD_GROUP_ROWS; y < (group + 1) * PAD_GROUP_ROWS; y++) {
        float *row = padded + (size_t)y * PADDED_STRIDE;
        if (y < PAD || y >= PAD + SIDE) {
            memset(row, 0, PADDED_STRIDE * sizeof(float));
            continue;
        }
        memset(row, 0, PAD * sizeof(float));
        memcpy(row + PAD, source + (size_t)(y - PAD) * SIDE, SIDE * sizeof(float));
        memset(row + PAD + SIDE, 0, (PADDED_STRIDE - PAD - SIDE) * sizeof(float));
    }
}

// Stem row `oh` of one image, after bias and ReLU, into `row` [114][64].
AVX2 __attribute__((noinline)) static void stem_row(const resnet18_stem_avx2 *s, const float *padded, int oh, float *row) {
    for (int q = 0; q < OC / QUARTER; q++) {
        const float *weights = s->weights + (size_t)q * TAPS * QUARTER;
        const __m256 bias0 = _mm256_loadu_ps(s->bias + q * QUARTER), bias1 = _mm256_loadu_ps(s->bias + q * QUARTER + LANES);
        for (int ow = 0; ow < ROW_PIXELS; ow += BLOCK) {
            __m256 acc[BLOCK][2];
            for (int p = 0; p < BLOCK; p++) {
                acc[p][0] = bias0;
                acc[p][1] = bias1;
            }
            for (int c = 0; c < 3; c++)
                for (int kh = 0; kh < 7; kh++) {
                    const float *in = padded + ((size_t)c * PADDED_ROWS + 2 * oh + kh) * PADDED_STRIDE + 2 * ow;
                    const float *w = weights + (size_t)(c * 7 + kh) * 7 * QUARTER;
                    // Not unrolled: across kernel columns the same input values come back (2p + kw), and a compiler
                    // that keeps their broadcasts in registers spills the accumulators.
                    #pragma clang loop unroll(disable)
                    for (int kw = 0; kw < 7; kw++) {
                        const __m256 w0 = _mm256_loadu_ps(w + kw * QUARTER), w1 = _mm256_loadu_ps(w + kw * QUARTER + LANES);
                        #pragma clang loop unroll(full)
                        for (int p = 0; p < BLOCK; p++) {
                            const __m256 x = _mm256_broadcast_ss(in + 2 * p + kw);
                            acc[p][0] = _mm256_fmadd_ps(x, w0, acc[p][0]);
                            acc[p][1] = _mm256_fmadd_ps(x, w1, acc[p][1]);
                        }
                    }
                }
            const __m256 zero = _mm256_setzero_ps();
            for (int p = 0; p < BLOCK; p++) {
                float *out = row + (size_t)(ow + p) * OC + q * QUARTER;
                _mm256_storeu_ps(out, _mm256_max_ps(acc[p][0], zero));
                _mm256_storeu_ps(out + LANES, _mm256_max_ps(acc[p][1], zero));
            }
        }
    }
}

// A stem row's maxima across, [56][64]: pooled column px takes stem columns 2px-1..2px+1 (the padding never wins
// after a ReLU).
AVX2 static void pool_across(const float *row, float *across) {
    for (int px = 0; px < POOLED; px++)
        for (int v = 0; v < OC / LANES; v++) {
            __m256 m = _mm256_max_ps(_mm256_loadu_ps(row + (size_t)(2 * px) * OC + v * LANES),
                                     _mm256_loadu_ps(row + (size_t)(2 * px + 1) * OC + v * LANES));
            if (px > 0) m = _mm256_max_ps(m, _mm256_loadu_ps(row + (size_t)(2 * px - 1) * OC + v * LANES));
            _mm256_storeu_ps(across + (size_t)px * OC + v * LANES, m);
        }
}

// Pooled rows [first, first + BAND) of one image: stem rows 2 first - 1 .. 2 last - 1, each pooled across into a
// ring of three; when a stem row 2 py + 1 is done, pooled row py is the maximum of the ring, written as nChw8c.
AVX2 static void band(const resnet18_stem_avx2 *s, int image, int first, float *own) {
    const float *padded = (const float *)s->scratch + (size_t)image * IMAGE_FLOATS;
    float *row = own, *ring = own + ROW_PIXELS * OC;
    const int first_row = first > 0 ? 2 * first - 1 : 0, last_row = 2 * (first + BAND) - 1;
    for (int r = first_row; r <= last_row; r++) {
        stem_row(s, padded, r, row);
        pool_across(row, ring + (size_t)(r % 3) * POOLED * OC);
        const int py = (r - 1) / 2;
        if ((r & 1) == 0 || py < first) continue;
        const float *below = ring + (size_t)(r % 3) * POOLED * OC, *middle = ring + (size_t)((r - 1) % 3) * POOLED * OC;
        const float *above = py > 0 ? ring + (size_t)((r - 2) % 3) * POOLED * OC : middle;
        for (int v = 0; v < OC / LANES; v++) {
            float *dst = s->dst + (((size_t)image * (OC / LANES) + v) * POOLED + py) * POOLED * LANES;
            for (int px = 0; px < POOLED; px++) {
                const size_t at = (size_t)px * OC + v * LANES;
                const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_loadu_ps(above + at), _mm256_loadu_ps(middle + at)),
                                               _mm256_loadu_ps(below + at));
                _mm256_storeu_ps(dst + (size_t)px * LANES, m);
            }
        }
    }
}

static void work(void *data) {
    job *j = data;
    const resnet18_stem_avx2 *s = j->stem;
    for (int u; (u = __atomic_fetch_add(&j->next_pad, 1, __ATOMIC_RELAXED)) < s->batch * 3 * PAD_GROUPS;)
        pad_rows(s, u / (3 * PAD_GROUPS), u / PAD_GROUPS % 3, u % PAD_GROUPS);
    GOMP_barrier();
    float *own = (float *)s->scratch + (size_t)s->batch * IMAGE_FLOATS + (size_t)omp_get_thread_num() * OWN_FLOATS;
    for (int u; (u = __atomic_fetch_add(&j->next_band, 1, __ATOMIC_RELAXED)) < s->batch * BANDS;)
        band(s, u / BANDS, (u % BANDS) * BAND, own);
}

int resnet18_stem_avx2_run(const resnet18_stem_avx2 *stem) {
    if (!resnet18_stem_avx2_supported() || ((uintptr_t)stem->scratch & 63) != 0) return -1;
    const unsigned threads = stem->threads > 0 ? (unsigned)stem->threads : 1;
    job j = { .stem = stem };
    GOMP_parallel(work, &j, threads, 0);
    return 0;
}
