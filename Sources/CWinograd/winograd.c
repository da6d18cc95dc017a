// Winograd F(4x4, 3x3) for the 3x3 stride-1 convolutions of small feature maps, weights transformed as it runs.
//
// oneDNN's own Winograd keeps every convolution's weights transformed (6x6 per 3x3 kernel: four times the
// plain size, 113 MB for ResNet-18's layer 4). Here only the plain weights are kept: each call transforms them
// a block at a time into a cache-sized buffer: 0.5-0.7 ms of a call whatever the batch, which the 3x fewer
// multiplications pay for from 16 tiles (batch 4 of 7x7 maps).
//
// Per call: (1) the input, 6x6 tiles at a stride of 4, goes to V[36][tiles][channels_in];
// (2) per block of 32 output channels and per chunk of 64 input channels, the weights go to U[64][36][32]
// and M[36][tiles][32] += V · U, one small matrix product per Winograd point; (3) M goes back to 4x4 outputs,
// with the bias, the residual sum and the ReLU. Threads split (1) by tiles and (2)-(3) by blocks.
// Measured at batch 8 on layer 4 (2 threads): 4.0-4.4 ms against oneDNN's 4x3 Winograd 4.1 and its direct 7.0.
#include <immintrin.h>
#include <stdint.h>
#include "winograd.h"

// libgomp's entry points (the team oneDNN runs on); omp.h lives in GCC's private include folder.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
void GOMP_barrier(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);

#define AVX512 __attribute__((target("avx512f,fma")))

enum { POINTS = 36, OC_BLOCK = 32, IC_CHUNK = 64 };

static int tiles_along(int side) { return (side + 3) / 4; }

static size_t round_up_64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

static size_t v_bytes(int batch, int channels_in, int height, int width) {
    return round_up_64((size_t)POINTS * batch * tiles_along(height) * tiles_along(width) * channels_in * sizeof(float));
}

static size_t u_bytes(void) { return round_up_64((size_t)POINTS * IC_CHUNK * OC_BLOCK * sizeof(float)); }

static size_t m_bytes(int tiles) { return round_up_64((size_t)POINTS * tiles * OC_BLOCK * sizeof(float)); }

int resnet18_winograd_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}

int resnet18_winograd_accepts(int batch, int channels_in, int channels_out, int height, int width) {
    int tiles = batch * tiles_along(height) * tiles_along(width);
    return batch > 0 && height > 0 && width > 0 && channels_in % IC_CHUNK == 0 && channels_out % OC_BLOCK == 0
        && tiles % 4 == 0;
}

size_t resnet18_winograd_scratch_bytes(int batch, int channels_in, int channels_out, int height, int width, int threads) {
    (void)channels_out;
    int tiles = batch * tiles_along(height) * tiles_along(width);
    return v_bytes(batch, channels_in, height, width) + (size_t)(threads > 0 ? threads : 1) * (u_bytes() + m_bytes(tiles));
}

typedef struct {
    const resnet18_winograd_conv *conv;
    int tiles_h, tiles_w, tiles;
    float *v;
    char *per_thread;
} job;

// (1) The input transform B^T d B of every 6x6 tile, 16 channels at a time.
AVX512 static void transform_input(const job *j, int first, int last) {
    const resnet18_winograd_conv *c = j->conv;
    const int blocks = c->channels_in / 16, h = c->height, w = c->width;
    const __m512 zero = _mm512_setzero_ps(), two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), five = _mm512_set1_ps(5);
    for (int item = first; item < last; item++) {
        // item = ((n * blocks + cb) * tiles_h + ty) * tiles_w + tx
        int tx = item % j->tiles_w, rest = item / j->tiles_w;
        int ty = rest % j->tiles_h; rest /= j->tiles_h;
        int cb = rest % blocks, n = rest / blocks;
        const float *plane = c->src + (size_t)(n * blocks + cb) * h * w * 16;
        __m512 d[6][6], t[6][6];
        for (int i = 0; i < 6; i++) {
            int y = 4 * ty - 1 + i;
            for (int k = 0; k < 6; k++) {
                int x = 4 * tx - 1 + k;
                d[i][k] = (y >= 0 && y < h && x >= 0 && x < w) ? _mm512_load_ps(plane + ((size_t)y * w + x) * 16) : zero;
            }
        }
        for (int k = 0; k < 6; k++) {
            __m512 d0 = d[0][k], d1 = d[1][k], d2 = d[2][k], d3 = d[3][k], d4 = d[4][k], d5 = d[5][k];
            t[0][k] = _mm512_add_ps(_mm512_fmsub_ps(four, d0, _mm512_mul_ps(five, d2)), d4);
            t[1][k] = _mm512_sub_ps(_mm512_add_ps(d3, d4), _mm512_mul_ps(four, _mm512_add_ps(d1, d2)));
            t[2][k] = _mm512_add_ps(_mm512_mul_ps(four, _mm512_sub_ps(d1, d2)), _mm512_sub_ps(d4, d3));
            t[3][k] = _mm512_add_ps(_mm512_mul_ps(two, _mm512_sub_ps(d3, d1)), _mm512_sub_ps(d4, d2));
            t[4][k] = _mm512_add_ps(_mm512_mul_ps(two, _mm512_sub_ps(d1, d3)), _mm512_sub_ps(d4, d2));
            t[5][k] = _mm512_add_ps(_mm512_fmsub_ps(four, d1, _mm512_mul_ps(five, d3)), d5);
        }
        const size_t tile = (size_t)(n * j->tiles_h + ty) * j->tiles_w + tx;
        const size_t point_stride = (size_t)j->tiles * c->channels_in;
        float *out = j->v + tile * c->channels_in + cb * 16;
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
}

// (2a) G g G^T for input channels [ic, ic + IC_CHUNK) and output channels [oc, oc + 32): U[IC_CHUNK][36][32].
// Input channel outermost, so each kernel's 36 points are stored in one run (36 scattered runs cost twice the time
// of the whole transform); the products then read U[·][point] at a stride of 4.6 kB, from L2.
AVX512 static void transform_weights(const resnet18_winograd_conv *c, int ic, int oc, float *u) {
    const __m512 quarter = _mm512_set1_ps(0.25f), sixth = _mm512_set1_ps(1.0f / 6), twelfth = _mm512_set1_ps(1.0f / 12),
                 twentyfourth = _mm512_set1_ps(1.0f / 24);
    for (int i = 0; i < IC_CHUNK; i++) {
        for (int half = 0; half < 2; half++) {
            // ABcd16b16a: [oc / 16][ic / 16][kh][kw][16 ic][16 oc]
            const float *g = c->weights + (((size_t)((oc + half * 16) / 16) * (c->channels_in / 16) + (ic + i) / 16) * 9 * 16
                                           + (ic + i) % 16) * 16;
            __m512 t[6][3];
            for (int col = 0; col < 3; col++) {
                __m512 g0 = _mm512_load_ps(g + (0 * 3 + col) * 256);
                __m512 g1 = _mm512_load_ps(g + (1 * 3 + col) * 256);
                __m512 g2 = _mm512_load_ps(g + (2 * 3 + col) * 256);
                __m512 outer = _mm512_add_ps(g0, g2);
                t[0][col] = _mm512_mul_ps(quarter, g0);
                t[1][col] = _mm512_mul_ps(sixth, _mm512_sub_ps(_mm512_setzero_ps(), _mm512_add_ps(outer, g1)));
                t[2][col] = _mm512_mul_ps(sixth, _mm512_sub_ps(g1, outer));
                __m512 even = _mm512_fmadd_ps(twentyfourth, g0, _mm512_mul_ps(sixth, g2));
                t[3][col] = _mm512_fmadd_ps(twelfth, g1, even);
                t[4][col] = _mm512_fnmadd_ps(twelfth, g1, even);
                t[5][col] = g2;
            }
            for (int row = 0; row < 6; row++) {
                __m512 g0 = t[row][0], g1 = t[row][1], g2 = t[row][2];
                __m512 outer = _mm512_add_ps(g0, g2);
                __m512 even = _mm512_fmadd_ps(twentyfourth, g0, _mm512_mul_ps(sixth, g2));
                __m512 r[6] = {
                    _mm512_mul_ps(quarter, g0),
                    _mm512_mul_ps(sixth, _mm512_sub_ps(_mm512_setzero_ps(), _mm512_add_ps(outer, g1))),
                    _mm512_mul_ps(sixth, _mm512_sub_ps(g1, outer)),
                    _mm512_fmadd_ps(twelfth, g1, even),
                    _mm512_fnmadd_ps(twelfth, g1, even),
                    g2,
                };
                for (int k = 0; k < 6; k++) {
                    _mm512_store_ps(u + ((size_t)i * POINTS + row * 6 + k) * OC_BLOCK + half * 16, r[k]);
                }
            }
        }
    }
}

// (2b) M[rows][32] (+)= V[rows][IC_CHUNK] · U[IC_CHUNK][32], rows a compile-time 8 or 4.
#define GEMM_KERNEL(ROWS)                                                                                        \
    AVX512 static void gemm_##ROWS(const float *v, size_t v_stride, const float *u, float *m, int first) {      \
        const size_t u_stride = POINTS * OC_BLOCK;      \
        __m512 acc[ROWS][2];                                                                                     \
        for (int r = 0; r < ROWS; r++) {                                                                         \
            acc[r][0] = first ? _mm512_setzero_ps() : _mm512_load_ps(m + r * OC_BLOCK);                          \
            acc[r][1] = first ? _mm512_setzero_ps() : _mm512_load_ps(m + r * OC_BLOCK + 16);                     \
        }                                                                                                        \
        for (int k = 0; k < IC_CHUNK; k++) {                                                                     \
            __m512 b0 = _mm512_load_ps(u + k * u_stride), b1 = _mm512_load_ps(u + k * u_stride + 16);            \
            for (int r = 0; r < ROWS; r++) {                                                                     \
                __m512 a = _mm512_set1_ps(v[r * v_stride + k]);                                                  \
                acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);                                                   \
                acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);                                                   \
            }                                                                                                    \
        }                                                                                                        \
        for (int r = 0; r < ROWS; r++) {                                                                         \
            _mm512_store_ps(m + r * OC_BLOCK, acc[r][0]);                                                        \
            _mm512_store_ps(m + r * OC_BLOCK + 16, acc[r][1]);                                                   \
        }                                                                                                        \
    }
GEMM_KERNEL(8)
GEMM_KERNEL(4)

// (3) A^T m A for every tile of output channels [oc, oc + 32), then bias, residual sum and ReLU into dst.
AVX512 static void transform_output(const job *j, int oc, const float *m) {
    const resnet18_winograd_conv *c = j->conv;
    const int h = c->height, w = c->width, out_blocks = c->channels_out / 16;
    const __m512 zero = _mm512_setzero_ps(), two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
    for (int tile = 0; tile < j->tiles; tile++) {
        int tx = tile % j->tiles_w, ty = (tile / j->tiles_w) % j->tiles_h, n = tile / (j->tiles_w * j->tiles_h);
        for (int half = 0; half < 2; half++) {
            const int block = (oc + half * 16) / 16;
            const __m512 bias = _mm512_loadu_ps(c->bias + oc + half * 16);
            __m512 t[4][6];
            for (int k = 0; k < 6; k++) {
                __m512 p[6];
                for (int i = 0; i < 6; i++) p[i] = _mm512_load_ps(m + ((size_t)(i * 6 + k) * j->tiles + tile) * OC_BLOCK + half * 16);
                __m512 s12 = _mm512_add_ps(p[1], p[2]), d12 = _mm512_sub_ps(p[1], p[2]);
                __m512 s34 = _mm512_add_ps(p[3], p[4]), d34 = _mm512_sub_ps(p[3], p[4]);
                t[0][k] = _mm512_add_ps(_mm512_add_ps(p[0], s12), s34);
                t[1][k] = _mm512_fmadd_ps(two, d34, d12);
                t[2][k] = _mm512_fmadd_ps(four, s34, s12);
                t[3][k] = _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), p[5]);
            }
            float *plane = c->dst + (size_t)(n * out_blocks + block) * h * w * 16;
            for (int a = 0; a < 4; a++) {
                int y = 4 * ty + a;
                if (y >= h) break;
                __m512 s12 = _mm512_add_ps(t[a][1], t[a][2]), d12 = _mm512_sub_ps(t[a][1], t[a][2]);
                __m512 s34 = _mm512_add_ps(t[a][3], t[a][4]), d34 = _mm512_sub_ps(t[a][3], t[a][4]);
                __m512 out[4] = {
                    _mm512_add_ps(_mm512_add_ps(t[a][0], s12), s34),
                    _mm512_fmadd_ps(two, d34, d12),
                    _mm512_fmadd_ps(four, s34, s12),
                    _mm512_add_ps(_mm512_fmadd_ps(eight, d34, d12), t[a][5]),
                };
                for (int b = 0; b < 4; b++) {
                    int x = 4 * tx + b;
                    if (x >= w) break;
                    float *pixel = plane + ((size_t)y * w + x) * 16;
                    __m512 value = _mm512_add_ps(out[b], bias);
                    if (c->accumulate) value = _mm512_add_ps(value, _mm512_load_ps(pixel));
                    if (c->relu) value = _mm512_max_ps(value, zero);
                    _mm512_store_ps(pixel, value);
                }
            }
        }
    }
}

// The weights of one chunk are 8 runs of 9 kB (2 blocks of 16 output channels × 4 of 16 input channels), read
// from memory on every call: 9.4 MB for a layer-4 convolution, over a millisecond if the transform waited for
// them. So while the products of one chunk run, the next chunk's weights are fetched into L2, a 1/36 a point.
enum { CHUNK_LINES = 2 * (IC_CHUNK / 16) * 9 * 16 * 16 * 4 / 64, LINES_PER_POINT = (CHUNK_LINES + POINTS - 1) / POINTS };

static void prefetch_weights(const resnet18_winograd_conv *c, int ic, int oc, int point) {
    if (oc >= c->channels_out) return;
    const int run_lines = 9 * 16 * 16 * 4 / 64;  // one 16x16 block of 3x3 kernels
    for (int line = point * LINES_PER_POINT; line < (point + 1) * LINES_PER_POINT && line < CHUNK_LINES; line++) {
        int run = line / run_lines, half = run / (IC_CHUNK / 16), in_block = ic / 16 + run % (IC_CHUNK / 16);
        const char *start = (const char *)(c->weights + ((size_t)((oc + half * 16) / 16) * (c->channels_in / 16) + in_block) * 9 * 256);
        _mm_prefetch(start + (size_t)(line % run_lines) * 64, _MM_HINT_T1);
    }
}

AVX512 static void convolve_blocks(const job *j, int thread, int first, int last) {
    const resnet18_winograd_conv *c = j->conv;
    char *mine = j->per_thread + (size_t)thread * (u_bytes() + m_bytes(j->tiles));
    float *u = (float *)mine, *m = (float *)(mine + u_bytes());
    const size_t point_stride = (size_t)j->tiles * c->channels_in;
    for (int block = first; block < last; block++) {
        const int oc = block * OC_BLOCK;
        for (int ic = 0; ic < c->channels_in; ic += IC_CHUNK) {
            transform_weights(c, ic, oc, u);
            const int next_ic = ic + IC_CHUNK < c->channels_in ? ic + IC_CHUNK : 0;
            const int next_oc = ic + IC_CHUNK < c->channels_in ? oc : (block + 1 < last ? oc + OC_BLOCK : c->channels_out);
            for (int point = 0; point < POINTS; point++) {
                prefetch_weights(c, next_ic, next_oc, point);
                const float *v = j->v + point * point_stride + ic;
                const float *up = u + (size_t)point * OC_BLOCK;
                float *mp = m + (size_t)point * j->tiles * OC_BLOCK;
                int row = 0;
                for (; row + 8 <= j->tiles; row += 8) {
                    gemm_8(v + (size_t)row * c->channels_in, c->channels_in, up, mp + (size_t)row * OC_BLOCK, ic == 0);
                }
                if (row < j->tiles) gemm_4(v + (size_t)row * c->channels_in, c->channels_in, up, mp + (size_t)row * OC_BLOCK, ic == 0);
            }
        }
        transform_output(j, oc, m);
    }
}

static void work(void *data) {
    const job *j = data;
    const resnet18_winograd_conv *c = j->conv;
    int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    int items = (c->channels_in / 16) * j->tiles;  // j->tiles counts every image's tiles
    transform_input(j, (int)((long)items * thread / threads), (int)((long)items * (thread + 1) / threads));
    GOMP_barrier();
    int blocks = c->channels_out / OC_BLOCK;
    convolve_blocks(j, thread, blocks * thread / threads, blocks * (thread + 1) / threads);
}

int resnet18_winograd_run(const resnet18_winograd_conv *conv) {
    if (!resnet18_winograd_supported()
        || !resnet18_winograd_accepts(conv->batch, conv->channels_in, conv->channels_out, conv->height, conv->width)
        || ((uintptr_t)conv->scratch & 63) != 0) {
        return -1;
    }
    job j = { .conv = conv, .tiles_h = tiles_along(conv->height), .tiles_w = tiles_along(conv->width) };
    j.tiles = conv->batch * j.tiles_h * j.tiles_w;
    j.v = conv->scratch;
    j.per_thread = (char *)conv->scratch + v_bytes(conv->batch, conv->channels_in, conv->height, conv->width);
    unsigned threads = conv->threads > 0 ? (unsigned)conv->threads : 1;
    GOMP_parallel(work, &j, threads, 0);
    return 0;
}
