// ResNet-18's stem in fp32 for AVX-512 CPUs (and, at the end of the file, its AVX2 form): the 7x7 stride-2
// convolution (3 -> 64 channels) + bias + ReLU as Winograd F(3x3, 4x4), and the 3x3 stride-2 max pooling, in one pass.
//
// Direct, the stem makes 147 products per output value and oneDNN runs them at the cores' FMA peak, so only fewer
// products go faster. A stride-2 convolution is the sum of four stride-1 ones over the input's phases
// (P[c, p, q][i][j] = x[c][2i + p - 3][2j + q - 3]): twelve phase channels, each with a 4x4 share of the 7x7
// kernel (zeros where 2a + p > 6). Stride 1 lets Winograd in: F(3x3, 4x4) makes 36 products per 3x3 outputs and
// phase channel, 48 an output value where direct makes 147. Its points are those of the layers' F(4x4, 3x3)
// (0, +-1, +-2 and infinity), so the input transform is the same B^T d B, and the weights, transformed once when
// the plan is built (G K G^T in double, rounded once), are 110 kB.
//
// Each image's phases go first to a zero-padded channels-last buffer [120][120][16] (lanes 12-15 zero), so a
// tile's 6x6 input is 36 plain vector loads. Work goes out in bands of 28 pooled rows: a band makes its stem rows
// three at a time (a row of 38 tiles, six tiles at a time: input transform, 36 small products of 6 tiles x 12
// channels x 64 outputs, output transform with bias and ReLU), pools each stem row across as it is made, and
// writes each pooled row as soon as its three stem rows are, as the AVX2 stem does (stem_avx2.c). The stem's
// 112x112x64 output never goes to memory.
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include "stem_winograd.h"
#include "winograd.h"
#include "winograd_input.h"
#include "../CThreadBinding/include/openmp_runtime.h"   // libgomp: the team oneDNN runs on

#define AVX512 __attribute__((target("avx512f,fma")))

enum {
    SIDE = 224, OC = 64, LANES = 16, PHASES = 12, POINTS = 36,
    // Phase rows and columns kept: a tile row ty reads phase rows 3ty .. 3ty + 5, up to 3 x 37 + 5 = 116.
    PHASE_SIDE = 120, PHASE_FLOATS = PHASE_SIDE * PHASE_SIDE * LANES, PHASE_GROUPS = 10,
    // 38 tiles make a stem row 114 wide (112 and two the pooling never reads).
    ROW_TILES = 38, ROW_PIXELS = 3 * ROW_TILES, GROUP = 6,
    POOLED = 56, BAND = 28, BANDS = POOLED / BAND,
    // Per thread: V [36][6][16], M [36][6][64], three stem rows [3][114][64], three rows pooled across [3][56][64].
    V_FLOATS = POINTS * GROUP * LANES, M_FLOATS = POINTS * GROUP * OC, ROWS_FLOATS = 3 * ROW_PIXELS * OC,
    RING_FLOATS = 3 * POOLED * OC, OWN_FLOATS = V_FLOATS + M_FLOATS + ROWS_FLOATS + RING_FLOATS,
};

typedef struct {
    const resnet18_stem_winograd *stem;
    int next_phase;  // phase units handed out so far (atomic)
    int next_band;   // bands handed out so far (atomic)
    int avx2;        // the AVX2 form, into nChw8c
    uint8_t *u8;     // the AVX2 form, into u8 nhwc at `u8_scale` instead (the int8 plan's stem)
    float u8_scale;
} job;

int resnet18_stem_winograd_supported(void) { return resnet18_winograd_supported(); }  // the same AVX-512F + FMA

size_t resnet18_stem_winograd_scratch_bytes(int batch, int threads) {
    return ((size_t)(batch > 0 ? batch : 0) * PHASE_FLOATS + (size_t)(threads > 0 ? threads : 1) * OWN_FLOATS)
        * sizeof(float);
}

void resnet18_stem_winograd_pack_weights(const float *oihw, float *packed) {
    // G of F(3, 4) at the points 0, 1, -1, 2, -2 and infinity, scaled to match B^T of F(4, 3).
    static const double g[6][4] = {
        {1.0 / 4, 0, 0, 0},
        {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
        {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3},
        {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3},
        {0, 0, 0, 1},
    };
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 2; p++)
                for (int q = 0; q < 2; q++) {
                    double k[4][4] = {{0}};
                    for (int a = 0; a < 4; a++)
                        for (int b = 0; b < 4; b++)
                            if (2 * a + p < 7 && 2 * b + q < 7)
                                k[a][b] = oihw[((size_t)(o * 3 + c) * 7 + 2 * a + p) * 7 + 2 * b + q];
                    double gk[6][4];
                    for (int i = 0; i < 6; i++)
                        for (int b = 0; b < 4; b++) {
                            gk[i][b] = 0;
                            for (int a = 0; a < 4; a++) gk[i][b] += g[i][a] * k[a][b];
                        }
                    const int phase = c * 4 + p * 2 + q;
                    for (int i = 0; i < 6; i++)
                        for (int j = 0; j < 6; j++) {
                            double u = 0;
                            for (int b = 0; b < 4; b++) u += gk[i][b] * g[j][b];
                            packed[((size_t)(i * 6 + j) * PHASES + phase) * OC + o] = (float)u;
                        }
                }
}

// Phase rows [group x 12, group x 12 + 12) of one image: P[i][j][c x 4 + p x 2 + q] = x[c][2i + p - 3][2j + q - 3].
static void split_phases(const resnet18_stem_winograd *s, int image, int group) {
    float *phases = (float *)s->scratch + (size_t)image * PHASE_FLOATS;
    const float *source = s->src + (size_t)image * 3 * SIDE * SIDE;
    const int rows = PHASE_SIDE / PHASE_GROUPS;
    for (int i = group * rows; i < (group + 1) * rows; i++) {
        float *row = phases + (size_t)i * PHASE_SIDE * LANES;
        memset(row, 0, PHASE_SIDE * LANES * sizeof(float));
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 2; p++) {
                const int y = 2 * i + p - 3;
                if (y < 0 || y >= SIDE) continue;
                const float *line = source + ((size_t)c * SIDE + y) * SIDE;
                for (int q = 0; q < 2; q++) {
                    const int lane = c * 4 + p * 2 + q;
                    // x = 2j + q - 3 within [0, 224): j from (3 - q + 1) / 2 to (226 - q) / 2.
                    for (int j = (4 - q) / 2; j < PHASE_SIDE && 2 * j + q - 3 < SIDE; j++)
                        row[(size_t)j * LANES + lane] = line[2 * j + q - 3];
                }
            }
    }
}

// B^T d B of tile (ty, tx)'s 6x6 phase pixels (all 16 lanes at once) into v[point x GROUP x 16].
AVX512 static void transform_input(const float *phases, int ty, int tx, float *v) {
    __m512 d[6][6];
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 6; k++) d[i][k] = _mm512_load_ps(phases + ((size_t)(3 * ty + i) * PHASE_SIDE + 3 * tx + k) * LANES);
    winograd_input_transform(d, v, GROUP * LANES);
}

// m[ROWS][64] = v[ROWS][12 of 16] . u[12][64]: one Winograd point of ROWS tiles.
#define GEMM_KERNEL(ROWS)                                                                                        \
    AVX512 static void gemm_##ROWS(const float *v, const float *u, float *m) {                                   \
        __m512 acc[ROWS][4];                                                                                     \
        for (int r = 0; r < ROWS; r++)                                                                           \
            for (int i = 0; i < 4; i++) acc[r][i] = _mm512_setzero_ps();                                         \
        for (int k = 0; k < PHASES; k++) {                                                                       \
            const __m512 b0 = _mm512_load_ps(u + k * OC), b1 = _mm512_load_ps(u + k * OC + 16),                  \
                         b2 = _mm512_load_ps(u + k * OC + 32), b3 = _mm512_load_ps(u + k * OC + 48);             \
            for (int r = 0; r < ROWS; r++) {                                                                     \
                const __m512 a = _mm512_set1_ps(v[r * LANES + k]);                                               \
                acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);                                                   \
                acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);                                                   \
                acc[r][2] = _mm512_fmadd_ps(a, b2, acc[r][2]);                                                   \
                acc[r][3] = _mm512_fmadd_ps(a, b3, acc[r][3]);                                                   \
            }                                                                                                    \
        }                                                                                                        \
        for (int r = 0; r < ROWS; r++)                                                                           \
            for (int i = 0; i < 4; i++) _mm512_store_ps(m + r * OC + i * 16, acc[r][i]);                         \
    }
GEMM_KERNEL(6)
GEMM_KERNEL(2)

// A^T m A of tile `t` of the group (6x6 points -> 3x3 outputs), + bias, ReLU, into stem rows [3][114][64] at
// columns 3 tx .. 3 tx + 2.
AVX512 static void transform_output(const float *m, int t, const float *bias, int tx, float *rows) {
    const __m512 zero = _mm512_setzero_ps(), two = _mm512_set1_ps(2), four = _mm512_set1_ps(4);
    for (int quarter = 0; quarter < OC / 16; quarter++) {
        const __m512 b = _mm512_loadu_ps(bias + quarter * 16);
        __m512 s[3][6];
        for (int k = 0; k < 6; k++) {
            __m512 p[6];
            for (int i = 0; i < 6; i++) p[i] = _mm512_load_ps(m + ((size_t)(i * 6 + k) * GROUP + t) * OC + quarter * 16);
            const __m512 s12 = _mm512_add_ps(p[1], p[2]), d12 = _mm512_sub_ps(p[1], p[2]);
            const __m512 s34 = _mm512_add_ps(p[3], p[4]), d34 = _mm512_sub_ps(p[3], p[4]);
            s[0][k] = _mm512_add_ps(_mm512_add_ps(p[0], s12), s34);
            s[1][k] = _mm512_fmadd_ps(two, d34, d12);
            s[2][k] = _mm512_add_ps(_mm512_fmadd_ps(four, s34, s12), p[5]);
        }
        for (int a = 0; a < 3; a++) {
            const __m512 s12 = _mm512_add_ps(s[a][1], s[a][2]), d12 = _mm512_sub_ps(s[a][1], s[a][2]);
            const __m512 s34 = _mm512_add_ps(s[a][3], s[a][4]), d34 = _mm512_sub_ps(s[a][3], s[a][4]);
            const __m512 out[3] = {
                _mm512_add_ps(_mm512_add_ps(s[a][0], s12), s34),
                _mm512_fmadd_ps(two, d34, d12),
                _mm512_add_ps(_mm512_fmadd_ps(four, s34, s12), s[a][5]),
            };
            for (int c = 0; c < 3; c++) {
                _mm512_store_ps(rows + ((size_t)a * ROW_PIXELS + 3 * tx + c) * OC + quarter * 16,
                                _mm512_max_ps(_mm512_add_ps(out[c], b), zero));
            }
        }
    }
}

// Stem rows 3 ty .. 3 ty + 2 of one image into rows [3][114][64].
AVX512 static void stem_rows(const resnet18_stem_winograd *s, const float *phases, int ty, float *own) {
    float *v = own, *m = own + V_FLOATS, *rows = m + M_FLOATS;
    for (int first = 0; first < ROW_TILES; first += GROUP) {
        const int count = ROW_TILES - first < GROUP ? ROW_TILES - first : GROUP;
        for (int t = 0; t < count; t++) transform_input(phases, ty, first + t, v + t * LANES);
        for (int point = 0; point < POINTS; point++) {
            const float *vp = v + (size_t)point * GROUP * LANES, *up = s->weights + (size_t)point * PHASES * OC;
            float *mp = m + (size_t)point * GROUP * OC;
            if (count == GROUP) gemm_6(vp, up, mp);
            else for (int t = 0; t < count; t += 2) gemm_2(vp + t * LANES, up, mp + t * OC);
        }
        for (int t = 0; t < count; t++) transform_output(m, t, s->bias, first + t, rows);
    }
}

// A stem row's maxima across, [56][64]: pooled column px takes stem columns 2px-1..2px+1 (the padding never wins
// after a ReLU).
AVX512 static void pool_across(const float *row, float *across) {
    for (int px = 0; px < POOLED; px++)
        for (int v = 0; v < OC / 16; v++) {
            __m512 m = _mm512_max_ps(_mm512_load_ps(row + (size_t)(2 * px) * OC + v * 16),
                                     _mm512_load_ps(row + (size_t)(2 * px + 1) * OC + v * 16));
            if (px > 0) m = _mm512_max_ps(m, _mm512_load_ps(row + (size_t)(2 * px - 1) * OC + v * 16));
            _mm512_store_ps(across + (size_t)px * OC + v * 16, m);
        }
}

// Pooled rows [first, first + BAND) of one image: stem rows 2 first - 1 .. 2 last - 1, made three at a time, each
// pooled across into a ring of three; when stem row 2 py + 1 is done, pooled row py is the maximum of the ring,
// written as nChw16c.
AVX512 static void band(const resnet18_stem_winograd *s, int image, int first, float *own) {
    const float *phases = (const float *)s->scratch + (size_t)image * PHASE_FLOATS;
    const float *rows = own + V_FLOATS + M_FLOATS;
    float *ring = own + V_FLOATS + M_FLOATS + ROWS_FLOATS;
    const int first_row = first > 0 ? 2 * first - 1 : 0, last_row = 2 * (first + BAND) - 1;
    for (int ty = first_row / 3; ty <= last_row / 3; ty++) {
        stem_rows(s, phases, ty, own);
        for (int a = 0; a < 3; a++) {
            const int r = 3 * ty + a;
            if (r < first_row || r > last_row) continue;
            pool_across(rows + (size_t)a * ROW_PIXELS * OC, ring + (size_t)(r % 3) * POOLED * OC);
            const int py = (r - 1) / 2;
            if ((r & 1) == 0 || py < first) continue;
            const float *below = ring + (size_t)(r % 3) * POOLED * OC, *middle = ring + (size_t)((r - 1) % 3) * POOLED * OC;
            const float *above = py > 0 ? ring + (size_t)((r - 2) % 3) * POOLED * OC : middle;
            for (int v = 0; v < OC / 16; v++) {
                float *dst = s->dst + (((size_t)image * (OC / 16) + v) * POOLED + py) * POOLED * 16;
                for (int px = 0; px < POOLED; px++) {
                    const size_t at = (size_t)px * OC + v * 16;
                    const __m512 max = _mm512_max_ps(_mm512_max_ps(_mm512_load_ps(above + at), _mm512_load_ps(middle + at)),
                                                     _mm512_load_ps(below + at));
                    _mm512_store_ps(dst + (size_t)px * 16, max);
                }
            }
        }
    }
}

// The same steps for AVX2 + FMA CPUs (8 floats a vector, 16 registers), into nChw8c: the phases, V, M, the stem
// rows and the ring keep their layouts (a 16-lane phase pixel is two vectors), the products take 6 tiles x 16
// output channels at a time (12 accumulators), and the arithmetic is the AVX-512 form's, lane for lane.
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static void transform_input_avx2(const float *phases, int ty, int tx, float *v) {
    for (int half = 0; half < 2; half++) {
        __m256 d[6][6];
        for (int i = 0; i < 6; i++)
            for (int k = 0; k < 6; k++)
                d[i][k] = _mm256_load_ps(phases + ((size_t)(3 * ty + i) * PHASE_SIDE + 3 * tx + k) * LANES + half * 8);
        winograd_input_transform_avx2(d, v + half * 8, GROUP * LANES);
    }
}

// m[ROWS][64] = v[ROWS][12 of 16] . u[12][64], 16 output channels at a time.
#define GEMM_KERNEL_AVX2(ROWS)                                                                                   \
    AVX2 static void gemm_avx2_##ROWS(const float *v, const float *u, float *m) {                                \
        for (int o = 0; o < OC; o += 16) {                                                                       \
            __m256 acc[ROWS][2];                                                                                 \
            for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();                          \
            for (int k = 0; k < PHASES; k++) {                                                                   \
                const __m256 b0 = _mm256_load_ps(u + k * OC + o), b1 = _mm256_load_ps(u + k * OC + o + 8);       \
                for (int r = 0; r < ROWS; r++) {                                                                 \
                    const __m256 a = _mm256_broadcast_ss(v + r * LANES + k);                                     \
                    acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);                                               \
                    acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);                                               \
                }                                                                                                \
            }                                                                                                    \
            for (int r = 0; r < ROWS; r++) {                                                                     \
                _mm256_store_ps(m + r * OC + o, acc[r][0]);                                                      \
                _mm256_store_ps(m + r * OC + o + 8, acc[r][1]);                                                  \
            }                                                                                                    \
        }                                                                                                        \
    }
GEMM_KERNEL_AVX2(6)
GEMM_KERNEL_AVX2(2)

AVX2 static void transform_output_avx2(const float *m, int t, const float *bias, int tx, float *rows) {
    const __m256 zero = _mm256_setzero_ps(), two = _mm256_set1_ps(2), four = _mm256_set1_ps(4);
    for (int eighth = 0; eighth < OC / 8; eighth++) {
        const __m256 b = _mm256_loadu_ps(bias + eighth * 8);
        __m256 s[3][6];
        for (int k = 0; k < 6; k++) {
            __m256 p[6];
            for (int i = 0; i < 6; i++) p[i] = _mm256_load_ps(m + ((size_t)(i * 6 + k) * GROUP + t) * OC + eighth * 8);
            const __m256 s12 = _mm256_add_ps(p[1], p[2]), d12 = _mm256_sub_ps(p[1], p[2]);
            const __m256 s34 = _mm256_add_ps(p[3], p[4]), d34 = _mm256_sub_ps(p[3], p[4]);
            s[0][k] = _mm256_add_ps(_mm256_add_ps(p[0], s12), s34);
            s[1][k] = _mm256_fmadd_ps(two, d34, d12);
            s[2][k] = _mm256_add_ps(_mm256_fmadd_ps(four, s34, s12), p[5]);
        }
        for (int a = 0; a < 3; a++) {
            const __m256 s12 = _mm256_add_ps(s[a][1], s[a][2]), d12 = _mm256_sub_ps(s[a][1], s[a][2]);
            const __m256 s34 = _mm256_add_ps(s[a][3], s[a][4]), d34 = _mm256_sub_ps(s[a][3], s[a][4]);
            const __m256 out[3] = {
                _mm256_add_ps(_mm256_add_ps(s[a][0], s12), s34),
                _mm256_fmadd_ps(two, d34, d12),
                _mm256_add_ps(_mm256_fmadd_ps(four, s34, s12), s[a][5]),
            };
            for (int c = 0; c < 3; c++) {
                _mm256_store_ps(rows + ((size_t)a * ROW_PIXELS + 3 * tx + c) * OC + eighth * 8,
                                _mm256_max_ps(_mm256_add_ps(out[c], b), zero));
            }
        }
    }
}

AVX2 static void stem_rows_avx2(const resnet18_stem_winograd *s, const float *phases, int ty, float *own) {
    float *v = own, *m = own + V_FLOATS, *rows = m + M_FLOATS;
    for (int first = 0; first < ROW_TILES; first += GROUP) {
        const int count = ROW_TILES - first < GROUP ? ROW_TILES - first : GROUP;
        for (int t = 0; t < count; t++) transform_input_avx2(phases, ty, first + t, v + t * LANES);
        for (int point = 0; point < POINTS; point++) {
            const float *vp = v + (size_t)point * GROUP * LANES, *up = s->weights + (size_t)point * PHASES * OC;
            float *mp = m + (size_t)point * GROUP * OC;
            if (count == GROUP) gemm_avx2_6(vp, up, mp);
            else for (int t = 0; t < count; t += 2) gemm_avx2_2(vp + t * LANES, up, mp + t * OC);
        }
        for (int t = 0; t < count; t++) transform_output_avx2(m, t, s->bias, first + t, rows);
    }
}

AVX2 static void pool_across_avx2(const float *row, float *across) {
    for (int px = 0; px < POOLED; px++)
        for (int v = 0; v < OC / 8; v++) {
            __m256 m = _mm256_max_ps(_mm256_load_ps(row + (size_t)(2 * px) * OC + v * 8),
                                     _mm256_load_ps(row + (size_t)(2 * px + 1) * OC + v * 8));
            if (px > 0) m = _mm256_max_ps(m, _mm256_load_ps(row + (size_t)(2 * px - 1) * OC + v * 8));
            _mm256_store_ps(across + (size_t)px * OC + v * 8, m);
        }
}

// 8 pooled values (>= 0, after the ReLU) to u8 levels at `scale`: rounded to nearest even and saturated at 255, as
// oneDNN's quantising reorder does.
AVX2 static inline void store_u8x8(__m256 value, __m256 scale, uint8_t *dst) {
    const __m256i levels = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(value, scale), _mm256_set1_ps(255)));
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(levels), _mm256_extracti128_si256(levels, 1));
    _mm_storel_epi64((void *)dst, _mm_packus_epi16(words, words));
}

// `band` into nChw8c, or into u8 nhwc when the job says so.
AVX2 static void band_avx2(const job *j, int image, int first, float *own) {
    const resnet18_stem_winograd *s = j->stem;
    const __m256 u8_scale = _mm256_set1_ps(j->u8_scale);
    const float *phases = (const float *)s->scratch + (size_t)image * PHASE_FLOATS;
    const float *rows = own + V_FLOATS + M_FLOATS;
    float *ring = own + V_FLOATS + M_FLOATS + ROWS_FLOATS;
    const int first_row = first > 0 ? 2 * first - 1 : 0, last_row = 2 * (first + BAND) - 1;
    for (int ty = first_row / 3; ty <= last_row / 3; ty++) {
        stem_rows_avx2(s, phases, ty, own);
        for (int a = 0; a < 3; a++) {
            const int r = 3 * ty + a;
            if (r < first_row || r > last_row) continue;
            pool_across_avx2(rows + (size_t)a * ROW_PIXELS * OC, ring + (size_t)(r % 3) * POOLED * OC);
            const int py = (r - 1) / 2;
            if ((r & 1) == 0 || py < first) continue;
            const float *below = ring + (size_t)(r % 3) * POOLED * OC, *middle = ring + (size_t)((r - 1) % 3) * POOLED * OC;
            const float *above = py > 0 ? ring + (size_t)((r - 2) % 3) * POOLED * OC : middle;
            if (j->u8) {
                uint8_t *dst = j->u8 + ((size_t)image * POOLED + py) * POOLED * OC;
                for (int px = 0; px < POOLED; px++)
                    for (int v = 0; v < OC / 8; v++) {
                        const size_t at = (size_t)px * OC + v * 8;
                        const __m256 max = _mm256_max_ps(_mm256_max_ps(_mm256_load_ps(above + at), _mm256_load_ps(middle + at)),
                                                         _mm256_load_ps(below + at));
                        store_u8x8(max, u8_scale, dst + at);
                    }
                continue;
            }
            for (int v = 0; v < OC / 8; v++) {
                float *dst = s->dst + (((size_t)image * (OC / 8) + v) * POOLED + py) * POOLED * 8;
                for (int px = 0; px < POOLED; px++) {
                    const size_t at = (size_t)px * OC + v * 8;
                    const __m256 max = _mm256_max_ps(_mm256_max_ps(_mm256_load_ps(above + at), _mm256_load_ps(middle + at)),
                                                     _mm256_load_ps(below + at));
                    _mm256_store_ps(dst + (size_t)px * 8, max);
                }
            }
        }
    }
}

static void work(void *data) {
    job *j = data;
    const resnet18_stem_winograd *s = j->stem;
    for (int u; (u = __atomic_fetch_add(&j->next_phase, 1, __ATOMIC_RELAXED)) < s->batch * PHASE_GROUPS;)
        split_phases(s, u / PHASE_GROUPS, u % PHASE_GROUPS);
    GOMP_barrier();
    float *own = (float *)s->scratch + (size_t)s->batch * PHASE_FLOATS + (size_t)omp_get_thread_num() * OWN_FLOATS;
    for (int u; (u = __atomic_fetch_add(&j->next_band, 1, __ATOMIC_RELAXED)) < s->batch * BANDS;) {
        if (j->avx2) band_avx2(j, u / BANDS, (u % BANDS) * BAND, own);
        else band(s, u / BANDS, (u % BANDS) * BAND, own);
    }
}

static int run(const resnet18_stem_winograd *stem, int avx2, uint8_t *u8, float u8_scale) {
    if (((uintptr_t)stem->scratch & 63) != 0 || (!u8 && ((uintptr_t)stem->dst & 63) != 0)
        || ((uintptr_t)stem->weights & 63) != 0)
        return -1;
    const unsigned threads = stem->threads > 0 ? (unsigned)stem->threads : 1;
    job j = { .stem = stem, .avx2 = avx2, .u8 = u8, .u8_scale = u8_scale };
    GOMP_parallel(work, &j, threads, 0);
    return 0;
}

int resnet18_stem_winograd_run(const resnet18_stem_winograd *stem) {
    return resnet18_stem_winograd_supported() ? run(stem, 0, NULL, 0) : -1;
}

int resnet18_stem_winograd_avx2_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int resnet18_stem_winograd_avx2_run(const resnet18_stem_winograd *stem) {
    return resnet18_stem_winograd_avx2_supported() ? run(stem, 1, NULL, 0) : -1;
}

int resnet18_stem_winograd_avx2_run_u8(const resnet18_stem_winograd *stem, uint8_t *dst, float scale) {
    return resnet18_stem_winograd_avx2_supported() && dst ? run(stem, 1, dst, scale) : -1;
}
