// Winograd F(2x2, 3x3) in int8 for the 3x3 stride-1 convolutions of layer 3 (14x14 maps, 256 channels), where the
// products dominate and the transforms are cheap. It takes any side and channels in multiples of 32 / 64; the plan
// keeps it off layers 1-2 (8 bits do not hold their error) and layer 4 (its 4 MB of transformed weights a
// convolution come from memory at every call, which made it slower than oneDNN's direct convolution).
//
// F(2x2) takes 16 multiplications per 2x2 outputs instead of 36: 2.25x fewer (1.7x on 7x7 maps, whose 4x4 tiles
// overhang by a row and a column). Its input transform only adds and subtracts, so u8 tiles transform exactly
// into integers in [-510, 1020]; each of the 16 transform points then has its own scale back to s8 (measured on
// the calibration photos), and the weights, transformed once when the plan is built, their own per point and
// output channel. Per block of tiles (one thread's, while it is in L2): (1) the tiles go to V[16][rows][ic] as
// u8 (s8 + 128, for VNNI's u8 x s8 products; `compensation` takes the 128s back out); (2) per point and per 64
// output channels, M[16][rows][oc] = V x U in int32, six rows at a time; (3) each tile's 16 points are scaled to
// the output's units per point and channel, transformed back to 2x2 outputs, and get the bias, the residual and
// the ReLU before rounding to u8.
#include <immintrin.h>
#include <stdint.h>
#include "winograd_int8.h"
#include "vnni_common.h"
#include "tile_blocks.h"


enum { POINTS = 16, OC_BLOCK = 64, ROWS = 6 };

static int tiles_along(int side) { return (side + 1) / 2; }

// Rows (tiles) a thread takes at a time: its share of the tiles when that is small (batch 1), else as many as
// keep M (16 x rows x oc int32) near 0.75 MB.
static int block_rows(int tiles, int channels_out, int threads) {
    return resnet18_tile_block_rows(tiles, threads, ROWS, channels_out <= 256 ? 48 : 24);
}

static size_t v_block_bytes(int rows, int channels_in) {
    return resnet18_round_up_64((size_t)POINTS * rows * channels_in);
}

static size_t m_block_bytes(int rows, int channels_out) {
    return resnet18_round_up_64((size_t)POINTS * rows * channels_out * sizeof(int32_t));
}

int resnet18_winograd_int8_supported(void) {
    return resnet18_cpu_has_vnni();
}

int resnet18_winograd_int8_accepts(int channels_in, int channels_out) {
    return channels_in > 0 && channels_out > 0 && channels_in % 32 == 0 && channels_out % OC_BLOCK == 0;
}

size_t resnet18_winograd_int8_scratch_bytes(int batch, int channels_in, int channels_out, int side, int threads) {
    int tiles = batch * tiles_along(side) * tiles_along(side);
    int rows = block_rows(tiles, channels_out, threads > 0 ? threads : 1);
    return (size_t)(threads > 0 ? threads : 1) * (v_block_bytes(rows, channels_in) + m_block_bytes(rows, channels_out));
}

void resnet18_winograd_int8_transform_weights(const float *oihw, int channels_in, int channels_out,
                                               int8_t *weights, int32_t *compensation, float *scales) {
    static const float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    float u[POINTS];
    for (int o = 0; o < channels_out; o++) {
        float largest[POINTS] = {0};
        for (int pass = 0; pass < 2; pass++) {   // the range per point first, then the quantized values
            int32_t sum[POINTS] = {0};
            for (int c = 0; c < channels_in; c++) {
                const float *g = oihw + ((size_t)o * channels_in + c) * 9;
                float t[4][3];
                for (int i = 0; i < 4; i++)
                    for (int k = 0; k < 3; k++) t[i][k] = G[i][0] * g[k] + G[i][1] * g[3 + k] + G[i][2] * g[6 + k];
                for (int i = 0; i < 4; i++)
                    for (int k = 0; k < 4; k++) u[i * 4 + k] = t[i][0] * G[k][0] + t[i][1] * G[k][1] + t[i][2] * G[k][2];
                for (int p = 0; p < POINTS; p++) {
                    if (pass == 0) {
                        float a = u[p] < 0 ? -u[p] : u[p];
                        if (a > largest[p]) largest[p] = a;
                        continue;
                    }
                    float scale = scales[p * channels_out + o];
                    float q = __builtin_roundf(u[p] * scale);
                    int8_t value = (int8_t)(q > 127 ? 127 : (q < -127 ? -127 : q));
                    weights[(size_t)p * channels_in * channels_out + (size_t)(c / 4) * channels_out * 4 + o * 4 + c % 4] = value;
                    sum[p] += value;
                }
            }
            for (int p = 0; p < POINTS; p++) {
                if (pass == 0) scales[p * channels_out + o] = largest[p] > 0 ? 127 / largest[p] : 1;
                else compensation[p * channels_out + o] = 128 * sum[p];
            }
        }
    }
}

typedef struct {
    const resnet18_winograd_int8_conv *conv;
    int tiles_side, rows;
} job;

// (1) tiles [first, first + count) to V[16][count][ic]: B^T d B exactly in 16 bits, then x multiplier / 4096 to s8,
// stored + 128 as u8; 32 channels at a time.
VNNI static void transform_input(const job *j, int first, int count, uint8_t *v) {
    const resnet18_winograd_int8_conv *c = j->conv;
    const int side = c->side, ic = c->channels_in, per_image = j->tiles_side * j->tiles_side;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    for (int row = 0; row < count; row++) {
        int tile = first + row, n = tile / per_image, ty = tile % per_image / j->tiles_side, tx = tile % j->tiles_side;
        for (int c0 = 0; c0 < ic; c0 += 32) {
            __m512i d[4][4];
            for (int a = 0; a < 4; a++) {
                int y = ty * 2 - 1 + a;
                for (int b = 0; b < 4; b++) {
                    int x = tx * 2 - 1 + b;
                    d[a][b] = (y < 0 || y >= side || x < 0 || x >= side)
                        ? _mm512_setzero_si512()
                        : _mm512_cvtepu8_epi16(_mm256_loadu_si256(
                              (const void *)(c->src + (((size_t)n * side + y) * side + x) * ic + c0)));
                }
            }
            __m512i t[4][4];
            for (int b = 0; b < 4; b++) {
                t[0][b] = _mm512_sub_epi16(d[0][b], d[2][b]);
                t[1][b] = _mm512_add_epi16(d[1][b], d[2][b]);
                t[2][b] = _mm512_sub_epi16(d[2][b], d[1][b]);
                t[3][b] = _mm512_sub_epi16(d[1][b], d[3][b]);
            }
            for (int a = 0; a < 4; a++) {
                __m512i w[4] = {
                    _mm512_sub_epi16(t[a][0], t[a][2]), _mm512_add_epi16(t[a][1], t[a][2]),
                    _mm512_sub_epi16(t[a][2], t[a][1]), _mm512_sub_epi16(t[a][1], t[a][3]),
                };
                for (int b = 0; b < 4; b++) {
                    int p = a * 4 + b;
                    __m512i scaled = _mm512_mulhrs_epi16(_mm512_slli_epi16(w[b], 3),
                                                         _mm512_set1_epi16(c->point_multipliers[p]));
                    __m256i s8 = _mm512_cvtsepi16_epi8(scaled);
                    _mm256_storeu_si256((void *)(v + ((size_t)p * count + row) * ic + c0), _mm256_xor_si256(s8, flip));
                }
            }
        }
    }
}

// (2) M[rows][64] = V[rows][ic] x U[ic][64] - compensation, for ROWS rows (M's rows m_stride apart) or 1;
// U in VNNI's [ic / 4][oc][4].
__attribute__((noinline)) VNNI static void gemm_rows(const uint8_t *v, int ic, const int8_t *u, int oc_stride,
                                                     const int32_t *compensation, int32_t *m, int m_stride) {
    __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    __m512i a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    __m512i a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00;
    for (int k = 0; k < ic; k += 4) {
        const int8_t *w = u + (size_t)(k / 4) * oc_stride * 4;
        __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 64);
        __m512i w2 = _mm512_loadu_si512(w + 128), w3 = _mm512_loadu_si512(w + 192);
        __m512i b;
#define ROW(r)                                                                                              \
        b = _mm512_set1_epi32(*(const int32_t *)(v + (size_t)(r) * ic + k));                                \
        a##r##0 = _mm512_dpbusd_epi32(a##r##0, b, w0); a##r##1 = _mm512_dpbusd_epi32(a##r##1, b, w1);      \
        a##r##2 = _mm512_dpbusd_epi32(a##r##2, b, w2); a##r##3 = _mm512_dpbusd_epi32(a##r##3, b, w3);
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
#undef ROW
    }
    const __m512i c0 = _mm512_loadu_si512(compensation), c1 = _mm512_loadu_si512(compensation + 16);
    const __m512i c2 = _mm512_loadu_si512(compensation + 32), c3 = _mm512_loadu_si512(compensation + 48);
#define STORE(r)                                                                                            \
    _mm512_storeu_si512(m + (size_t)(r) * m_stride, _mm512_sub_epi32(a##r##0, c0));                                 \
    _mm512_storeu_si512(m + (size_t)(r) * m_stride + 16, _mm512_sub_epi32(a##r##1, c1));                            \
    _mm512_storeu_si512(m + (size_t)(r) * m_stride + 32, _mm512_sub_epi32(a##r##2, c2));                            \
    _mm512_storeu_si512(m + (size_t)(r) * m_stride + 48, _mm512_sub_epi32(a##r##3, c3));
    STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
#undef STORE
}

__attribute__((noinline)) VNNI static void gemm_row(const uint8_t *v, int ic, const int8_t *u, int oc_stride,
                                                    const int32_t *compensation, int32_t *m) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < ic; k += 4) {
        const int8_t *w = u + (size_t)(k / 4) * oc_stride * 4;
        __m512i b = _mm512_set1_epi32(*(const int32_t *)(v + k));
        a0 = _mm512_dpbusd_epi32(a0, b, _mm512_loadu_si512(w));
        a1 = _mm512_dpbusd_epi32(a1, b, _mm512_loadu_si512(w + 64));
        a2 = _mm512_dpbusd_epi32(a2, b, _mm512_loadu_si512(w + 128));
        a3 = _mm512_dpbusd_epi32(a3, b, _mm512_loadu_si512(w + 192));
    }
    _mm512_storeu_si512(m, _mm512_sub_epi32(a0, _mm512_loadu_si512(compensation)));
    _mm512_storeu_si512(m + 16, _mm512_sub_epi32(a1, _mm512_loadu_si512(compensation + 16)));
    _mm512_storeu_si512(m + 32, _mm512_sub_epi32(a2, _mm512_loadu_si512(compensation + 32)));
    _mm512_storeu_si512(m + 48, _mm512_sub_epi32(a3, _mm512_loadu_si512(compensation + 48)));
}

// (3) M of tiles [first, first + count) (M[16][count][oc]) to u8 outputs: per point and channel to dst units,
// A^T m A, + bias, + residual, ReLU, rounded; outputs past the map's edge (odd sides) are dropped.
VNNI static void transform_output(const job *j, int first, int count, const int32_t *m) {
    const resnet18_winograd_int8_conv *c = j->conv;
    const int side = c->side, oc = c->channels_out, per_image = j->tiles_side * j->tiles_side;
    const __m512 residual_scale = _mm512_set1_ps(c->residual_scale);
    for (int row = 0; row < count; row++) {
        int tile = first + row, n = tile / per_image, ty = tile % per_image / j->tiles_side, tx = tile % j->tiles_side;
        for (int o0 = 0; o0 < oc; o0 += 16) {
            __m512 s[4][4];
            for (int p = 0; p < POINTS; p++) {
                __m512i acc = _mm512_loadu_si512(m + ((size_t)p * count + row) * oc + o0);
                s[p / 4][p % 4] = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(c->dequantize + p * oc + o0));
            }
            __m512 t[2][4];
            for (int b = 0; b < 4; b++) {
                t[0][b] = _mm512_add_ps(_mm512_add_ps(s[0][b], s[1][b]), s[2][b]);
                t[1][b] = _mm512_sub_ps(_mm512_sub_ps(s[1][b], s[2][b]), s[3][b]);
            }
            const __m512 bias = _mm512_loadu_ps(c->bias + o0);
            for (int a = 0; a < 2; a++) {
                int y = ty * 2 + a;
                if (y >= side) continue;
                __m512 out[2] = {
                    _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(t[a][0], t[a][1]), t[a][2]), bias),
                    _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(t[a][1], t[a][2]), t[a][3]), bias),
                };
                for (int b = 0; b < 2; b++) {
                    int x = tx * 2 + b;
                    if (x >= side) continue;
                    size_t at = (((size_t)n * side + y) * side + x) * oc + o0;
                    resnet18_store_u8(out[b], c->residual, c->residual_signed, residual_scale, c->dst, at);
                }
            }
        }
    }
}

// One block of tiles [first, first + count), in the calling thread's part of the scratchpad.
static void convolve_block(const void *data, int thread, int first, int count) {
    const job *j = data;
    const resnet18_winograd_int8_conv *c = j->conv;
    const int ic = c->channels_in, oc = c->channels_out;
    char *own = (char *)c->scratch + (size_t)thread * (v_block_bytes(j->rows, ic) + m_block_bytes(j->rows, oc));
    uint8_t *v = (uint8_t *)own;
    int32_t *m = (int32_t *)(own + v_block_bytes(j->rows, ic));
    transform_input(j, first, count, v);
    for (int p = 0; p < POINTS; p++) {
        const uint8_t *vp = v + (size_t)p * count * ic;
        int32_t *mp = m + (size_t)p * count * oc;
        for (int o0 = 0; o0 < oc; o0 += OC_BLOCK) {
            const int8_t *up = c->weights + (size_t)p * ic * oc + (size_t)o0 * 4;
            const int32_t *cp = c->compensation + p * oc + o0;
            int row = 0;
            for (; row + ROWS <= count; row += ROWS)
                gemm_rows(vp + (size_t)row * ic, ic, up, oc, cp, mp + (size_t)row * oc + o0, oc);
            for (; row < count; row++) gemm_row(vp + (size_t)row * ic, ic, up, oc, cp, mp + (size_t)row * oc + o0);
        }
    }
    transform_output(j, first, count, m);
}

int resnet18_winograd_int8_run(const resnet18_winograd_int8_conv *conv) {
    if (!resnet18_winograd_int8_supported() || !resnet18_winograd_int8_accepts(conv->channels_in, conv->channels_out)
        || ((uintptr_t)conv->scratch & 63) != 0) {
        return -1;
    }
    unsigned threads = conv->threads > 0 ? (unsigned)conv->threads : 1;
    job j = { .conv = conv, .tiles_side = tiles_along(conv->side) };
    const int tiles = conv->batch * j.tiles_side * j.tiles_side;
    j.rows = block_rows(tiles, conv->channels_out, (int)threads);
    resnet18_run_tile_blocks(tiles, j.rows, threads, convolve_block, &j);
    return 0;
}
