// Winograd F(4x4, 3x3) in 16-bit integers for ResNet-18's 3x3 stride-1 convolutions on u8 activations.
//
// F(4x4) takes 36 multiplications per 4x4 outputs instead of 144: 4x fewer. In 8 bits it would not hold ResNet's
// error (its input transform multiplies the range by up to 100, and even F(2x2)'s 4x cost layers 1-2 too much:
// `Int8WinogradConvolution`), but VNNI also multiplies 16-bit pairs (vpdpwssd, 32 products an instruction against
// vpdpbusd's 64, at the same rate), so it runs 2x fewer instructions than direct int8 with nothing rounded on the
// input side: u8 tiles transform exactly into integers within +-25500 (each 1-D row of B^T sums to at most 10 in
// absolute value). The weights, transformed once when the plan is built, are rounded per transform point and output
// channel at the largest scale that keeps every sum inside int32 whatever the input (the sum over the input
// channels of |weight| x the point's largest input below 2^31): typically 11-14 bits, where direct int8 keeps 7
// per output channel.
//
// Per block of tiles (one thread's, while it is in L2): (1) the tiles go to V[36][rows][ic] as int16; (2) per point
// and per 64 output channels, M[36][rows][oc] = V x U in int32, six rows at a time; (3) each tile's 36 points are
// scaled to the output's units per point and channel, transformed back to 4x4 outputs (A^T m A, in float), and get
// the bias, the residual and the ReLU before rounding to u8. Outputs past the map's edge are dropped. Where the
// weights outweigh the tiles (AVX2 form), the same steps by blocks of output channels instead (`by_output_blocks`).

#include <immintrin.h>
#include <stdint.h>
#include "winograd_s16.h"
#include "vnni_common.h"
#include "tile_blocks.h"
#include "../CThreadBinding/include/openmp_runtime.h"   // libgomp: the team oneDNN runs on


enum { POINTS = 36, OC_BLOCK = 64, ROWS = 6, M_BLOCK_TARGET = 450 * 1024, INPUT_BOUND = 25500 };

static int tiles_along(int side) { return (side + 3) / 4; }

// Rows (tiles) a thread takes at a time: its share of the tiles when that is small; below batch 4 at most as many
// as keep M near 450 kB (48 rows for 64 output channels, 24 for 128); from batch 4, ROWS (one product call's
// worth). With 48 rows a block's V and M beside the point's weights come near Zen 4's 1 MB of L2: from batch 4,
// where every block is that full, blocks of 6 tiles ran layers 1-2 faster in alternating `bench --layers` runs
// (batch 8: 1.83-1.95 ms a layer-1 convolution against 1.96-2.21; batch 4 all three rounds), while at batch 1 and 2
// neither won (bench/results/engine-plan.md).
static int block_rows(int batch, int tiles, int channels_out, int threads) {
    int limit = batch >= 4 ? ROWS : M_BLOCK_TARGET / (POINTS * channels_out * 4) / ROWS * ROWS;
    if (limit < ROWS) limit = ROWS;
    return resnet18_tile_block_rows(tiles, threads, ROWS, limit);
}

// The rows from one Winograd point's plane of V or M to the next, for rows of row_bytes: in the AVX2 form one row
// more when a plane is a multiple of 16 lines of 64 bytes, so that the 36 planes, which each tile's transforms write
// or read in turn, fall in at least 8 of L1's 64 sets (8 ways each) and not in the same one to four: layer 3's V at
// batch 1 (16 rows of 256 channels x 2 bytes, 8 kB) put all 36 in one set, layer 1's at batch 1 (48 rows of 128
// bytes) in two (see winograd_avx2.c's `point_floats`). That spreads rows of up to 8 lines, which is every plane
// here but layer 3's M in blocks of tiles (16 lines a row; only batches over 16 take that path in the AVX2 form).
// The AVX-512 form keeps its planes as they were measured. Each plane has room for one row more than a block's.
static int plane_rows(int avx2_form, int rows, size_t row_bytes) {
    return avx2_form && (size_t)rows * row_bytes / 64 % 16 == 0 ? rows + 1 : rows;
}

static size_t v_block_bytes(int rows, int channels_in) {
    return resnet18_round_up_64((size_t)POINTS * (rows + 1) * channels_in * 2);
}

static size_t m_block_bytes(int rows, int channels_out) {
    return resnet18_round_up_64((size_t)POINTS * (rows + 1) * channels_out * 4);
}

int resnet18_winograd_s16_form(void) {
    if (resnet18_cpu_has_vnni()) return 2;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

int resnet18_winograd_s16_supported(void) {
    return resnet18_winograd_s16_form() != 0;
}

int resnet18_winograd_s16_accepts(int channels_in, int channels_out) {
    return channels_in > 0 && channels_out > 0 && channels_in % 32 == 0 && channels_out % OC_BLOCK == 0;
}

// Where the transformed weights outweigh the transformed input (no more tiles than output channels: layer 3 at
// batch 1-8, layer 2 at batch 1-2), the tiles are all transformed first and each thread takes 64 output channels at a
// time through every tile, reading each weight once a call, where blocks of tiles would each read them all again
// from L3 (and at batch 1 split layer 3's 16 tiles 12 and 4 between two threads). In the AVX2 form only: measured
// on a Zen 3 (alternating `bench --precision int8 --layers`: layer 3 at batch 1 0.72-0.86 ms a convolution against
// 1.14-1.49, at batch 8 about 5 % faster; layer 2 at batch 1 10-15 % faster, slower at batch 8, so not there), where
// the blocks' rule was tuned on a Zen 4 with VNNI (bench/results/engine-plan.md).
enum { OUTPUT_BLOCK = 64 };

static int by_output_blocks(int form, int tiles, int channels_out) { return form == 1 && tiles <= channels_out; }

static size_t v_all_bytes(int tiles, int channels_in) { return v_block_bytes(tiles, channels_in); }

static size_t m_output_block_bytes(int tiles) { return m_block_bytes(tiles, OUTPUT_BLOCK); }

size_t resnet18_winograd_s16_scratch_bytes(int batch, int channels_in, int channels_out, int side, int threads) {
    int tiles = batch * tiles_along(side) * tiles_along(side);
    threads = threads > 0 ? threads : 1;
    if (by_output_blocks(resnet18_winograd_s16_form(), tiles, channels_out))
        return v_all_bytes(tiles, channels_in) + (size_t)threads * m_output_block_bytes(tiles);
    int rows = block_rows(batch, tiles, channels_out, threads);
    return (size_t)threads * (v_block_bytes(rows, channels_in) + m_block_bytes(rows, channels_out));
}

enum { OC_BLOCK_AVX2 = 16 };   // the AVX2 form's product width: 6 rows x 2 vectors of 8 int32, 12 accumulators

// Where the transformed weight of point p, input channel c and output channel o is kept, pairs of input channels side
// by side for vpdpwssd/vpmaddwd: [36][ic / 2][oc][2] for the AVX-512 form; [oc / 16][36][ic / 2][16][2] for the AVX2
// form, so that what one of its product calls reads (16 output channels at one point) is 16 kB in a row for the
// hardware's prefetchers, not 64 bytes of every oc x 4.
size_t resnet18_winograd_s16_weight_index(int form, int p, int c, int o, int channels_in, int channels_out) {
    if (form == 1) {
        return ((((size_t)(o / OC_BLOCK_AVX2) * POINTS + p) * (channels_in / 2) + c / 2) * OC_BLOCK_AVX2
                + o % OC_BLOCK_AVX2) * 2 + c % 2;
    }
    return (size_t)p * channels_in * channels_out + (size_t)(c / 2) * channels_out * 2 + (size_t)o * 2 + c % 2;
}

void resnet18_winograd_s16_transform_weights(const float *oihw, int channels_in, int channels_out, int16_t *weights,
                                             float *scales) {
    const int form = resnet18_winograd_s16_form();
    static const double G[6][3] = {
        {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1},
    };
    // The largest |B^T d B| at each point for u8 tiles: 255 x the two rows' sums of |B^T| (10, 10, 10, 6, 6, 10).
    static const int row_sum[6] = {10, 10, 10, 6, 6, 10};
    double u[POINTS];
    for (int o = 0; o < channels_out; o++) {
        double largest[POINTS] = {0}, total[POINTS] = {0};
        for (int pass = 0; pass < 2; pass++) {   // the range per point first, then the rounded values
            for (int c = 0; c < channels_in; c++) {
                const float *g = oihw + ((size_t)o * channels_in + c) * 9;
                double t[6][3];
                for (int i = 0; i < 6; i++)
                    for (int k = 0; k < 3; k++) t[i][k] = G[i][0] * g[k] + G[i][1] * g[3 + k] + G[i][2] * g[6 + k];
                for (int i = 0; i < 6; i++)
                    for (int k = 0; k < 6; k++) u[i * 6 + k] = t[i][0] * G[k][0] + t[i][1] * G[k][1] + t[i][2] * G[k][2];
                for (int p = 0; p < POINTS; p++) {
                    if (pass == 0) {
                        double a = u[p] < 0 ? -u[p] : u[p];
                        if (a > largest[p]) largest[p] = a;
                        total[p] += a;
                        continue;
                    }
                    double q = __builtin_round(u[p] * scales[p * channels_out + o]);
                    weights[resnet18_winograd_s16_weight_index(form, p, c, o, channels_in, channels_out)] =
                        (int16_t)(q > 32767 ? 32767 : (q < -32767 ? -32767 : q));
                }
            }
            if (pass == 1) continue;
            // The scale: as large as int16 allows, and small enough that the sum over the input channels of
            // |rounded weight| x the point's largest input stays inside int32 (rounding adds at most 1/2 a weight).
            for (int p = 0; p < POINTS; p++) {
                if (largest[p] == 0) { scales[p * channels_out + o] = 1; continue; }
                double input_max = 255.0 * row_sum[p / 6] * row_sum[p % 6];
                double by_sum = (2147483647.0 / input_max - channels_in / 2.0) / total[p] * (1 - 1e-6);  // float's rounding
                double by_type = 32767 / largest[p];
                scales[p * channels_out + o] = (float)(by_sum < by_type ? by_sum : by_type);
            }
        }
    }
}

typedef struct form form;

typedef struct {
    const resnet18_winograd_s16_conv *conv;
    const form *form;
    int tiles_side, rows;
} job;

// B^T d for one column of six 32-channel vectors (exact in int16: at most 10 x 255 in magnitude).
VNNI static inline void transform_column(const __m512i d[6], __m512i r[6]) {
    const __m512i d42 = _mm512_sub_epi16(d[4], d[2]);
    const __m512i d13 = _mm512_sub_epi16(d[1], d[3]);
    r[0] = _mm512_add_epi16(d42, _mm512_slli_epi16(_mm512_sub_epi16(d[0], d[2]), 2));
    r[1] = _mm512_sub_epi16(_mm512_add_epi16(d[3], d[4]), _mm512_slli_epi16(_mm512_add_epi16(d[1], d[2]), 2));
    r[2] = _mm512_add_epi16(_mm512_sub_epi16(d[4], d[3]), _mm512_slli_epi16(_mm512_sub_epi16(d[1], d[2]), 2));
    r[3] = _mm512_sub_epi16(d42, _mm512_slli_epi16(d13, 1));
    r[4] = _mm512_add_epi16(d42, _mm512_slli_epi16(d13, 1));
    r[5] = _mm512_add_epi16(_mm512_sub_epi16(d[5], d[3]), _mm512_slli_epi16(d13, 2));
}

// (1) tiles [first, first + count) to V[36][stride][ic] (v at the first's row): B^T d B exactly in int16, 32 channels
// at a time.
VNNI static void transform_input(const job *j, int first, int count, int16_t *v, int stride) {
    const resnet18_winograd_s16_conv *c = j->conv;
    const int side = c->side, ic = c->channels_in, per_image = j->tiles_side * j->tiles_side;
    for (int row = 0; row < count; row++) {
        int tile = first + row, n = tile / per_image, ty = tile % per_image / j->tiles_side, tx = tile % j->tiles_side;
        for (int c0 = 0; c0 < ic; c0 += 32) {
            __m512i t[6][6];   // t[i][b] = (B^T d)[i][b]
            for (int b = 0; b < 6; b++) {
                int x = tx * 4 - 1 + b;
                __m512i d[6];
                for (int a = 0; a < 6; a++) {
                    int y = ty * 4 - 1 + a;
                    d[a] = (y < 0 || y >= side || x < 0 || x >= side)
                        ? _mm512_setzero_si512()
                        : _mm512_cvtepu8_epi16(_mm256_loadu_si256(
                              (const void *)(c->src + (((size_t)n * side + y) * side + x) * ic + c0)));
                }
                __m512i r[6];
                transform_column(d, r);
                for (int i = 0; i < 6; i++) t[i][b] = r[i];
            }
            for (int i = 0; i < 6; i++) {
                __m512i r[6];
                transform_column(t[i], r);
                for (int k = 0; k < 6; k++)
                    _mm512_storeu_si512(v + ((size_t)(i * 6 + k) * stride + row) * ic + c0, r[k]);
            }
        }
    }
}

// acc + the products of a's and b's 16-bit pairs, as one vpdpwssd. Compiled from the intrinsic without a tuning for
// a CPU whose vpdpwssd is known to be fast, clang splits it into vpmaddwd + vpaddd, two instructions a product where
// the loop below is bound by the instructions it issues: layers 1-2 ran 15-20 % slower that way
// (bench/results/engine-plan.md).
VNNI static inline __m512i dpwssd(__m512i acc, __m512i a, __m512i b) {
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

// (2) M[rows][64] = V[rows][ic] x U[ic][64], for ROWS rows (M's rows m_stride apart) or 1; U's input-channel pairs
// oc_stride pairs apart (`resnet18_winograd_s16_weight_index`).
__attribute__((noinline)) VNNI static void gemm_rows(const int16_t *v, int ic, const int16_t *u, int oc_stride,
                                                     int32_t *m, int m_stride) {
    __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    __m512i a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    __m512i a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00;
    for (int k = 0; k < ic; k += 2) {
        const int16_t *w = u + (size_t)(k / 2) * oc_stride * 2;
        __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 32);
        __m512i w2 = _mm512_loadu_si512(w + 64), w3 = _mm512_loadu_si512(w + 96);
        __m512i b;
#define ROW(r)                                                                                              \
        b = _mm512_set1_epi32(*(const int32_t *)(v + (size_t)(r) * ic + k));                                \
        a##r##0 = dpwssd(a##r##0, b, w0); a##r##1 = dpwssd(a##r##1, b, w1);                                 \
        a##r##2 = dpwssd(a##r##2, b, w2); a##r##3 = dpwssd(a##r##3, b, w3);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
    }
#define STORE(r)                                                                                            \
    _mm512_storeu_si512(m + (size_t)(r) * m_stride, a##r##0);                                               \
    _mm512_storeu_si512(m + (size_t)(r) * m_stride + 16, a##r##1);                                          \
    _mm512_storeu_si512(m + (size_t)(r) * m_stride + 32, a##r##2);                                          \
    _mm512_storeu_si512(m + (size_t)(r) * m_stride + 48, a##r##3);
    STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
#undef STORE
}

__attribute__((noinline)) VNNI static void gemm_row(const int16_t *v, int ic, const int16_t *u, int oc_stride, int32_t *m) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < ic; k += 2) {
        const int16_t *w = u + (size_t)(k / 2) * oc_stride * 2;
        __m512i b = _mm512_set1_epi32(*(const int32_t *)(v + k));
        a0 = dpwssd(a0, b, _mm512_loadu_si512(w));
        a1 = dpwssd(a1, b, _mm512_loadu_si512(w + 32));
        a2 = dpwssd(a2, b, _mm512_loadu_si512(w + 64));
        a3 = dpwssd(a3, b, _mm512_loadu_si512(w + 96));
    }
    _mm512_storeu_si512(m, a0);
    _mm512_storeu_si512(m + 16, a1);
    _mm512_storeu_si512(m + 32, a2);
    _mm512_storeu_si512(m + 48, a3);
}

// The rows left after the six-row calls, one at a time.
VNNI static void gemm_tail(const int16_t *v, int ic, const int16_t *u, int oc_stride, int32_t *m, int m_stride, int count) {
    for (int row = 0; row < count; row++) gemm_row(v + (size_t)row * ic, ic, u, oc_stride, m + (size_t)row * m_stride);
}

// A^T m for one column of six: o0 = m0+m1+m2+m3+m4, o1 = (m1-m2) + 2(m3-m4), o2 = (m1+m2) + 4(m3+m4),
// o3 = (m1-m2) + 8(m3-m4) + m5.
VNNI static inline void output_column(const __m512 m[6], __m512 o[4]) {
    const __m512 sum12 = _mm512_add_ps(m[1], m[2]), diff12 = _mm512_sub_ps(m[1], m[2]);
    const __m512 sum34 = _mm512_add_ps(m[3], m[4]), diff34 = _mm512_sub_ps(m[3], m[4]);
    o[0] = _mm512_add_ps(_mm512_add_ps(m[0], sum12), sum34);
    o[1] = _mm512_fmadd_ps(diff34, _mm512_set1_ps(2), diff12);
    o[2] = _mm512_fmadd_ps(sum34, _mm512_set1_ps(4), sum12);
    o[3] = _mm512_add_ps(_mm512_fmadd_ps(diff34, _mm512_set1_ps(8), diff12), m[5]);
}

// (3) M of tiles [first, first + count) (M[36][m_rows][m_oc], from output channel o_begin) to the u8 outputs of
// channels [o_begin, o_end): per point and channel to dst units, A^T m A, + bias, + residual, ReLU, rounded.
VNNI static void transform_output(const job *j, int first, int count, const int32_t *m, int o_begin, int o_end, int m_oc,
                                  int m_rows) {
    const resnet18_winograd_s16_conv *c = j->conv;
    const int side = c->side, oc = c->channels_out, per_image = j->tiles_side * j->tiles_side;
    const __m512 residual_scale = _mm512_set1_ps(c->residual_scale);
    for (int row = 0; row < count; row++) {
        int tile = first + row, n = tile / per_image, ty = tile % per_image / j->tiles_side, tx = tile % j->tiles_side;
        for (int o0 = o_begin; o0 < o_end; o0 += 16) {
            __m512 t[4][6];   // (A^T s)[a][k]
            for (int k = 0; k < 6; k++) {
                __m512 s[6];
                for (int i = 0; i < 6; i++) {
                    const int p = i * 6 + k;
                    __m512i acc = _mm512_loadu_si512(m + ((size_t)p * m_rows + row) * m_oc + o0 - o_begin);
                    s[i] = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(c->dequantize + p * oc + o0));
                }
                __m512 r[4];
                output_column(s, r);
                for (int a = 0; a < 4; a++) t[a][k] = r[a];
            }
            const __m512 bias = _mm512_loadu_ps(c->bias + o0);
            for (int a = 0; a < 4; a++) {
                int y = ty * 4 + a;
                if (y >= side) continue;
                __m512 out[4];
                output_column(t[a], out);
                for (int b = 0; b < 4; b++) {
                    int x = tx * 4 + b;
                    if (x >= side) continue;
                    size_t at = (((size_t)n * side + y) * side + x) * oc + o0;
                    resnet18_store_u8(_mm512_add_ps(out[b], bias), c->residual, c->residual_signed, residual_scale, c->dst, at);
                }
            }
        }
    }
}


// The same kernel in AVX2 (8 int32 or 16 int16 lanes), for CPUs without AVX-512: each 16-bit pair product is
// vpmaddwd + vpaddd instead of vpdpwssd. The integers are the same (no pair reaches vpmaddwd's one overflow,
// -32768 x -32768 twice: weights stay within ±32767), so are the float steps lane by lane: by construction the
// output is the AVX-512 form's (not compared byte for byte: no machine here has had both). Where integer
// multiplies outrun float ones (Zen 3: 72 G 16-bit multiply-adds a second a core against 47 G fp32 FMAs,
// `bench/cpu/multiply_rates.c`), F(4x4)'s 4x fewer products make it faster than oneDNN's direct int8 code.
#define AVX2 __attribute__((target("avx2,fma")))


AVX2 static inline void transform_column_avx2(const __m256i d[6], __m256i r[6]) {
    const __m256i d42 = _mm256_sub_epi16(d[4], d[2]);
    const __m256i d13 = _mm256_sub_epi16(d[1], d[3]);
    r[0] = _mm256_add_epi16(d42, _mm256_slli_epi16(_mm256_sub_epi16(d[0], d[2]), 2));
    r[1] = _mm256_sub_epi16(_mm256_add_epi16(d[3], d[4]), _mm256_slli_epi16(_mm256_add_epi16(d[1], d[2]), 2));
    r[2] = _mm256_add_epi16(_mm256_sub_epi16(d[4], d[3]), _mm256_slli_epi16(_mm256_sub_epi16(d[1], d[2]), 2));
    r[3] = _mm256_sub_epi16(d42, _mm256_slli_epi16(d13, 1));
    r[4] = _mm256_add_epi16(d42, _mm256_slli_epi16(d13, 1));
    r[5] = _mm256_add_epi16(_mm256_sub_epi16(d[5], d[3]), _mm256_slli_epi16(d13, 2));
}

AVX2 static void transform_input_avx2(const job *j, int first, int count, int16_t *v, int stride) {
    const resnet18_winograd_s16_conv *c = j->conv;
    const int side = c->side, ic = c->channels_in, per_image = j->tiles_side * j->tiles_side;
    for (int row = 0; row < count; row++) {
        int tile = first + row, n = tile / per_image, ty = tile % per_image / j->tiles_side, tx = tile % j->tiles_side;
        for (int c0 = 0; c0 < ic; c0 += 16) {
            __m256i t[6][6];
            for (int b = 0; b < 6; b++) {
                int x = tx * 4 - 1 + b;
                __m256i d[6];
                for (int a = 0; a < 6; a++) {
                    int y = ty * 4 - 1 + a;
                    d[a] = (y < 0 || y >= side || x < 0 || x >= side)
                        ? _mm256_setzero_si256()
                        : _mm256_cvtepu8_epi16(_mm_loadu_si128(
                              (const void *)(c->src + (((size_t)n * side + y) * side + x) * ic + c0)));
                }
                __m256i r[6];
                transform_column_avx2(d, r);
                for (int i = 0; i < 6; i++) t[i][b] = r[i];
            }
            for (int i = 0; i < 6; i++) {
                __m256i r[6];
                transform_column_avx2(t[i], r);
                for (int k = 0; k < 6; k++)
                    _mm256_storeu_si256((void *)(v + ((size_t)(i * 6 + k) * stride + row) * ic + c0), r[k]);
            }
        }
    }
}

// M[rows][16] = V[rows][ic] x U[ic][16], rows a compile-time 6, 4, 2 or 1 (m_stride apart); U's input-channel pairs
// oc_stride pairs apart.
#define GEMM_KERNEL_AVX2(R)                                                                                     \
    __attribute__((noinline)) AVX2 static void gemm_##R##_avx2(const int16_t *v, int ic, const int16_t *u,      \
                                                              int oc_stride, int32_t *m, int m_stride) {        \
        __m256i acc[R][2];                                                                                      \
        for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();                            \
        for (int k = 0; k < ic; k += 2) {                                                                       \
            const int16_t *w = u + (size_t)(k / 2) * oc_stride * 2;                                             \
            const __m256i w0 = _mm256_loadu_si256((const void *)w);                                             \
            const __m256i w1 = _mm256_loadu_si256((const void *)(w + 16));                                      \
            for (int r = 0; r < R; r++) {                                                                       \
                const __m256i b = _mm256_set1_epi32(*(const int32_t *)(v + (size_t)r * ic + k));                \
                acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(b, w0));                              \
                acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(b, w1));                              \
            }                                                                                                   \
        }                                                                                                       \
        for (int r = 0; r < R; r++) {                                                                           \
            _mm256_storeu_si256((void *)(m + (size_t)r * m_stride), acc[r][0]);                                 \
            _mm256_storeu_si256((void *)(m + (size_t)r * m_stride + 8), acc[r][1]);                             \
        }                                                                                                       \
    }
GEMM_KERNEL_AVX2(6)
GEMM_KERNEL_AVX2(4)
GEMM_KERNEL_AVX2(2)
GEMM_KERNEL_AVX2(1)

// The rows left after the six-row calls (fewer than 6): in 4, 2 and 1, where one row at a time spent two weight loads
// and a broadcast on every two products (layer 3 at batch 1 has 16 tiles: 6 + 6 + 4).
AVX2 static void gemm_tail_avx2(const int16_t *v, int ic, const int16_t *u, int oc_stride, int32_t *m, int m_stride,
                                int count) {
    int row = 0;
    if (row + 4 <= count) { gemm_4_avx2(v, ic, u, oc_stride, m, m_stride); row += 4; }
    if (row + 2 <= count) { gemm_2_avx2(v + (size_t)row * ic, ic, u, oc_stride, m + (size_t)row * m_stride, m_stride); row += 2; }
    if (row < count) gemm_1_avx2(v + (size_t)row * ic, ic, u, oc_stride, m + (size_t)row * m_stride, m_stride);
}

AVX2 static inline void output_column_avx2(const __m256 m[6], __m256 o[4]) {
    const __m256 sum12 = _mm256_add_ps(m[1], m[2]), diff12 = _mm256_sub_ps(m[1], m[2]);
    const __m256 sum34 = _mm256_add_ps(m[3], m[4]), diff34 = _mm256_sub_ps(m[3], m[4]);
    o[0] = _mm256_add_ps(_mm256_add_ps(m[0], sum12), sum34);
    o[1] = _mm256_fmadd_ps(diff34, _mm256_set1_ps(2), diff12);
    o[2] = _mm256_fmadd_ps(sum34, _mm256_set1_ps(4), sum12);
    o[3] = _mm256_add_ps(_mm256_fmadd_ps(diff34, _mm256_set1_ps(8), diff12), m[5]);
}

// 8 output channels: resnet18_store_u8's steps. The clamp to 255 before converting stands in for AVX-512's unsigned
// saturating narrowing (equal for every value below 2^31; AVX2's signed packs would turn larger ones into 0).
AVX2 static inline void store_u8_avx2(__m256 z, const void *residual, int residual_signed, __m256 residual_scale,
                                      uint8_t *dst, size_t at) {
    if (residual) {
        __m128i identity = _mm_loadl_epi64((const void *)((const uint8_t *)residual + at));
        __m256i wide = residual_signed ? _mm256_cvtepi8_epi32(identity) : _mm256_cvtepu8_epi32(identity);
        z = _mm256_fmadd_ps(_mm256_cvtepi32_ps(wide), residual_scale, z);
    }
    z = _mm256_min_ps(_mm256_max_ps(z, _mm256_setzero_ps()), _mm256_set1_ps(255));
    __m256i levels = _mm256_cvtps_epi32(z);
    __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(levels), _mm256_extracti128_si256(levels, 1));
    _mm_storel_epi64((void *)(dst + at), _mm_packus_epi16(words, words));
}

AVX2 static void transform_output_avx2(const job *j, int first, int count, const int32_t *m, int o_begin, int o_end,
                                      int m_oc, int m_rows) {
    const resnet18_winograd_s16_conv *c = j->conv;
    const int side = c->side, oc = c->channels_out, per_image = j->tiles_side * j->tiles_side;
    const __m256 residual_scale = _mm256_set1_ps(c->residual_scale);
    for (int row = 0; row < count; row++) {
        int tile = first + row, n = tile / per_image, ty = tile % per_image / j->tiles_side, tx = tile % j->tiles_side;
        for (int o0 = o_begin; o0 < o_end; o0 += 8) {
            __m256 t[4][6];
            for (int k = 0; k < 6; k++) {
                __m256 s[6];
                for (int i = 0; i < 6; i++) {
                    const int p = i * 6 + k;
                    __m256i acc = _mm256_loadu_si256((const void *)(m + ((size_t)p * m_rows + row) * m_oc + o0 - o_begin));
                    s[i] = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(c->dequantize + p * oc + o0));
                }
                __m256 r[4];
                output_column_avx2(s, r);
                for (int a = 0; a < 4; a++) t[a][k] = r[a];
            }
            const __m256 bias = _mm256_loadu_ps(c->bias + o0);
            for (int a = 0; a < 4; a++) {
                int y = ty * 4 + a;
                if (y >= side) continue;
                __m256 out[4];
                output_column_avx2(t[a], out);
                for (int b = 0; b < 4; b++) {
                    int x = tx * 4 + b;
                    if (x >= side) continue;
                    size_t at = (((size_t)n * side + y) * side + x) * oc + o0;
                    store_u8_avx2(_mm256_add_ps(out[b], bias), c->residual, c->residual_signed, residual_scale, c->dst, at);
                }
            }
        }
    }
}

// One form's steps, for `convolve_block`.
struct form {
    void (*transform_input)(const job *, int first, int count, int16_t *v, int stride);
    void (*gemm_rows)(const int16_t *v, int ic, const int16_t *u, int oc_stride, int32_t *m, int m_stride);
    void (*gemm_tail)(const int16_t *v, int ic, const int16_t *u, int oc_stride, int32_t *m, int m_stride, int count);
    void (*transform_output)(const job *, int first, int count, const int32_t *m, int o_begin, int o_end, int m_oc,
                             int m_rows);
    int oc_block;   // output channels a product call takes
};

static const form avx512_vnni = { transform_input, gemm_rows, gemm_tail, transform_output, OC_BLOCK };
static const form avx2 = { transform_input_avx2, gemm_6_avx2, gemm_tail_avx2, transform_output_avx2, OC_BLOCK_AVX2 };

// The weights of point p for the product call from output channel o (`resnet18_winograd_s16_weight_index`'s
// layout), and the int16 pairs from one input-channel pair to the next.
static const int16_t *point_weights(const job *j, int p, int o, int *pair_stride) {
    const resnet18_winograd_s16_conv *c = j->conv;
    if (j->form == &avx2) {
        *pair_stride = OC_BLOCK_AVX2;
        return c->weights + ((size_t)(o / OC_BLOCK_AVX2) * POINTS + p) * c->channels_in * OC_BLOCK_AVX2;
    }
    *pair_stride = c->channels_out;
    return c->weights + (size_t)p * c->channels_in * c->channels_out + (size_t)o * 2;
}

// One block of tiles [first, first + count), in the calling thread's part of the scratchpad.
static void convolve_block(const void *data, int thread, int first, int count) {
    const job *j = data;
    const resnet18_winograd_s16_conv *c = j->conv;
    const form *f = j->form;
    const int ic = c->channels_in, oc = c->channels_out;
    char *own = (char *)c->scratch + (size_t)thread * (v_block_bytes(j->rows, ic) + m_block_bytes(j->rows, oc));
    int16_t *v = (int16_t *)own;
    int32_t *m = (int32_t *)(own + v_block_bytes(j->rows, ic));
    const int v_rows = plane_rows(f == &avx2, count, (size_t)ic * 2), m_rows = plane_rows(f == &avx2, count, (size_t)oc * 4);
    f->transform_input(j, first, count, v, v_rows);
    for (int p = 0; p < POINTS; p++) {
        const int16_t *vp = v + (size_t)p * v_rows * ic;
        int32_t *mp = m + (size_t)p * m_rows * oc;
        for (int o0 = 0; o0 < oc; o0 += f->oc_block) {
            int stride;
            const int16_t *up = point_weights(j, p, o0, &stride);
            int row = 0;
            for (; row + ROWS <= count; row += ROWS)
                f->gemm_rows(vp + (size_t)row * ic, ic, up, stride, mp + (size_t)row * oc + o0, oc);
            if (row < count) f->gemm_tail(vp + (size_t)row * ic, ic, up, stride, mp + (size_t)row * oc + o0, oc, count - row);
        }
    }
    f->transform_output(j, first, count, m, 0, oc, oc, m_rows);
}

typedef struct {
    const job *job;
    int tiles;
    int next_block;   // output blocks handed out so far (atomic)
} output_schedule;

// Every tile to V[36][tiles][ic] (each thread its share), then whole blocks of OUTPUT_BLOCK output channels through
// every tile, whichever thread is free taking the next.
static void convolve_output_blocks(void *data) {
    output_schedule *s = data;
    const job *j = s->job;
    const resnet18_winograd_s16_conv *c = j->conv;
    const form *f = j->form;
    const int ic = c->channels_in, oc = c->channels_out, tiles = s->tiles;
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    int16_t *v = c->scratch;
    int32_t *m = (int32_t *)((char *)c->scratch + v_all_bytes(tiles, ic) + (size_t)thread * m_output_block_bytes(tiles));
    const int first = (int)((long)tiles * thread / threads), last = (int)((long)tiles * (thread + 1) / threads);
    const int v_rows = plane_rows(f == &avx2, tiles, (size_t)ic * 2), m_rows = plane_rows(f == &avx2, tiles, OUTPUT_BLOCK * 4);
    if (last > first) f->transform_input(j, first, last - first, v + (size_t)first * ic, v_rows);
    GOMP_barrier();
    for (int o_begin; (o_begin = __atomic_fetch_add(&s->next_block, 1, __ATOMIC_RELAXED) * OUTPUT_BLOCK) < oc;) {
        for (int p = 0; p < POINTS; p++) {
            const int16_t *vp = v + (size_t)p * v_rows * ic;
            int32_t *mp = m + (size_t)p * m_rows * OUTPUT_BLOCK;
            for (int sub = 0; sub < OUTPUT_BLOCK; sub += f->oc_block) {
                int stride;
                const int16_t *up = point_weights(j, p, o_begin + sub, &stride);
                int row = 0;
                for (; row + ROWS <= tiles; row += ROWS)
                    f->gemm_rows(vp + (size_t)row * ic, ic, up, stride, mp + (size_t)row * OUTPUT_BLOCK + sub, OUTPUT_BLOCK);
                if (row < tiles)
                    f->gemm_tail(vp + (size_t)row * ic, ic, up, stride, mp + (size_t)row * OUTPUT_BLOCK + sub,
                                 OUTPUT_BLOCK, tiles - row);
            }
        }
        f->transform_output(j, 0, tiles, m, o_begin, o_begin + OUTPUT_BLOCK, OUTPUT_BLOCK, m_rows);
    }
}

int resnet18_winograd_s16_run(const resnet18_winograd_s16_conv *conv) {
    if (!resnet18_winograd_s16_supported() || !resnet18_winograd_s16_accepts(conv->channels_in, conv->channels_out)
        || ((uintptr_t)conv->scratch & 63) != 0) {
        return -1;
    }
    unsigned threads = conv->threads > 0 ? (unsigned)conv->threads : 1;
    job j = { .conv = conv, .form = resnet18_winograd_s16_form() == 2 ? &avx512_vnni : &avx2,
              .tiles_side = tiles_along(conv->side) };
    const int tiles = conv->batch * j.tiles_side * j.tiles_side;
    if (by_output_blocks(resnet18_winograd_s16_form(), tiles, conv->channels_out)) {
        output_schedule s = { .job = &j, .tiles = tiles };
        GOMP_parallel(convolve_output_blocks, &s, threads, 0);
        return 0;
    }
    j.rows = block_rows(conv->batch, tiles, conv->channels_out, (int)threads);
    resnet18_run_tile_blocks(tiles, j.rows, threads, convolve_block, &j);
    return 0;
}
