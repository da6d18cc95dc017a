// Winograd F(4x4, 3x3) for AVX2 + FMA CPUs (no AVX-512): winograd.c's schedule on 8-float vectors, nChw8c
// activations and ABcd8b8a weights, which is what oneDNN's AVX2 code reads and writes.
//
// oneDNN 2.6 has no Winograd below AVX-512, so on these CPUs every 3x3 convolution was its direct one. The steps
// and their reasons are winograd.c's: (1) the input to V[36][tiles][channels_in]; (2) per block of 16 output
// channels and chunk of 64 input channels, the weights to U and M[36][tiles][16] += V · U, one small matrix product
// per Winograd point; (3) M back to 4x4 outputs with the bias, the residual sum and the ReLU. Maps of up to 128x128
// channels go by blocks of tiles that stay in L2, against all weights transformed once per call; wider ones (layers
// 3 and 4) keep the whole V and transform their weights a chunk at a time. `resnet18_winograd_avx2_run_transformed`
// takes weights transformed once instead (the plans' layers 1 and 2): blocks of tiles, or with few tiles the whole V
// point by point. AVX2 has 16 vector registers (AVX-512:
// 32), so the products take 6 rows of 16 output channels at a time (12 accumulators) where winograd.c takes 8 of 32.
#include <immintrin.h>
#include <stdint.h>
#include "winograd_avx2.h"
#include "winograd_input.h"
#include "../CThreadBinding/include/openmp_runtime.h"   // libgomp: the team oneDNN runs on

#define AVX2 __attribute__((target("avx2,fma")))

enum { POINTS = 36, LANES = 8, OC_BLOCK = 16, IC_CHUNK = 64, TILE_BLOCK_BYTES = 384 * 1024 };

static int tiles_along(int side) { return (side + 3) / 4; }

static size_t round_up_64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

// The floats from one Winograd point's plane of V or M to the next, for a plane of `floats` (a multiple of 16): one
// 64-byte line more when the plane is an even number of lines, so that the 36 points, which each tile's transforms
// write or read in turn, fall in different L1 sets. Planes of a power of two (layer 3's V at batch 1: 16 tiles x 256
// channels, 16 kB) put all 36 in one set of 8 ways: the input transform took three times as long there
// (`bench/cpu/winograd_avx2_steps.c input ... unpadded`).
static size_t point_floats(size_t floats) { return floats / 16 % 2 == 0 ? floats + 16 : floats; }

static size_t v_bytes(int batch, int channels_in, int height, int width) {
    const size_t tiles = (size_t)batch * tiles_along(height) * tiles_along(width);
    return round_up_64((size_t)POINTS * point_floats(tiles * channels_in) * sizeof(float));
}

static size_t u_bytes(void) { return round_up_64((size_t)POINTS * IC_CHUNK * OC_BLOCK * sizeof(float)); }

static size_t m_bytes(int tiles) { return round_up_64((size_t)POINTS * point_floats((size_t)tiles * OC_BLOCK) * sizeof(float)); }

static int uses_tile_blocks(int channels_in, int channels_out) { return channels_in * channels_out <= 128 * 128; }

static size_t u_all_bytes(int channels_in, int channels_out) {
    return round_up_64((size_t)POINTS * channels_in * channels_out * sizeof(float));
}

static int block_tiles(int tiles, int channels_in, int threads) {
    int target = TILE_BLOCK_BYTES / (POINTS * channels_in * (int)sizeof(float));
    if (target < 6) target = 6;
    int blocks = (tiles + target - 1) / target;
    blocks = (blocks + threads - 1) / threads * threads;
    return (tiles + blocks - 1) / blocks;
}

static size_t block_v_bytes(int block, int channels_in) {
    return round_up_64((size_t)POINTS * point_floats((size_t)block * channels_in) * sizeof(float));
}

static size_t block_bytes(int block, int channels_in) { return block_v_bytes(block, channels_in) + m_bytes(block); }

int resnet18_winograd_avx2_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int resnet18_winograd_avx2_accepts(int batch, int channels_in, int channels_out, int height, int width) {
    return batch > 0 && height > 0 && width > 0 && channels_in % IC_CHUNK == 0 && channels_out % OC_BLOCK == 0;
}

size_t resnet18_winograd_avx2_scratch_bytes(int batch, int channels_in, int channels_out, int height, int width, int threads) {
    int tiles = batch * tiles_along(height) * tiles_along(width);
    if (threads < 1) threads = 1;
    if (uses_tile_blocks(channels_in, channels_out)) {
        int block = block_tiles(tiles, channels_in, threads);
        return u_all_bytes(channels_in, channels_out) + (size_t)threads * block_bytes(block, channels_in);
    }
    return v_bytes(batch, channels_in, height, width) + (size_t)threads * (u_bytes() + m_bytes(tiles));
}

typedef struct {
    const resnet18_winograd_conv *conv;
    int tiles_h, tiles_w, tiles;
    float *v;           ///< V[36][tiles][channels_in] (points v_point floats apart), or with tile blocks U of every weight
    size_t v_point, m_point;   ///< whole V: floats from one point's plane of V, and of a block's M, to the next
    char *per_thread;
    int block;          ///< tiles a block, or 0: whole V, weights a chunk at a time
    int next_block;     ///< the next block a thread takes
    const float *transformed;  ///< U[oc / 16][ic / 64][36][64][16], transformed once, or NULL
    float *m_all;              ///< point by point (convolve_points): M[channels_out / 16][36][tiles][16]
    int next_output;           ///< point by point: the next block of 16 output channels to transform back
} job;

// (1) B^T d B of one 6x6 tile of 8 channels, into out[point * point_stride]. A tile wholly inside the map (most of
// layer 1's, half of layer 2's) is loaded without a test for each of its 36 pixels.
AVX2 static void transform_tile(const resnet18_winograd_conv *c, const float *plane, int ty, int tx, float *out,
                                size_t point_stride) {
    const int h = c->height, w = c->width, top = 4 * ty - 1, left = 4 * tx - 1;
    __m256 d[6][6];
    if (top >= 0 && top + 6 <= h && left >= 0 && left + 6 <= w) {
        const float *corner = plane + ((size_t)top * w + left) * LANES;
        for (int i = 0; i < 6; i++) {
            for (int k = 0; k < 6; k++) d[i][k] = _mm256_load_ps(corner + ((size_t)i * w + k) * LANES);
        }
        winograd_input_transform_avx2(d, out, point_stride);
        return;
    }
    for (int i = 0; i < 6; i++) {
        const int y = 4 * ty - 1 + i;
        for (int k = 0; k < 6; k++) {
            const int x = 4 * tx - 1 + k;
            d[i][k] = (y >= 0 && y < h && x >= 0 && x < w) ? _mm256_load_ps(plane + ((size_t)y * w + x) * LANES)
                                                          : _mm256_setzero_ps();
        }
    }
    winograd_input_transform_avx2(d, out, point_stride);
}

// Tiles [first, first + count) (of the index (n, ty, tx)), every input channel, into v[36][rows][channels_in], a
// point's rows point_stride floats from the next point's.
static void transform_tiles(const job *j, int first, int count, float *v, size_t point_stride) {
    const resnet18_winograd_conv *c = j->conv;
    const int blocks = c->channels_in / LANES;
    for (int local = 0; local < count; local++) {
        const int tile = first + local, tx = tile % j->tiles_w, ty = (tile / j->tiles_w) % j->tiles_h;
        const int n = tile / (j->tiles_w * j->tiles_h);
        for (int cb = 0; cb < blocks; cb++) {
            const float *plane = c->src + (size_t)(n * blocks + cb) * c->height * c->width * LANES;
            transform_tile(c, plane, ty, tx, v + (size_t)local * c->channels_in + cb * LANES, point_stride);
        }
    }
}

// The 3x3 kernel of input channel ic into the 8 output channels from oc (a multiple of 8): nine rows of 8 floats,
// 256 bytes apart, in ABcd8b8a ([oc / 8][ic / 8][kh][kw][8 ic][8 oc]).
static const float *kernel_taps(const resnet18_winograd_conv *c, int ic, int oc) {
    return c->weights + (((size_t)(oc / LANES) * (c->channels_in / LANES) + ic / LANES) * 9 * LANES + ic % LANES) * LANES;
}

// (2a) G g G^T for input channels [ic, ic + IC_CHUNK) and output channels [oc, oc + 16), into u at ic_stride
// floats an input channel and point_stride a point. An input channel's weights are 18 rows in 18 places, which the
// hardware's prefetchers do not follow, and layer 4's come from memory at every call: the rows of the channel 8
// ahead are asked for as each is transformed, as in winograd.c, past the chunk's end into the next chunk's first
// channels too, which the next call transforms (bench/results/engine-plan.md).
AVX2 static void transform_weights(const resnet18_winograd_conv *c, int ic, int oc, float *u, size_t ic_stride,
                                   size_t point_stride) {
    const __m256 quarter = _mm256_set1_ps(0.25f), sixth = _mm256_set1_ps(1.0f / 6), twelfth = _mm256_set1_ps(1.0f / 12),
                 twentyfourth = _mm256_set1_ps(1.0f / 24), zero = _mm256_setzero_ps();
    enum { AHEAD = 8 };
    for (int i = 0; i < IC_CHUNK; i++) {
        for (int half = 0; half < 2 && ic + i + AHEAD < c->channels_in; half++) {
            const char *ahead = (const char *)kernel_taps(c, ic + i + AHEAD, oc + half * LANES);
            for (int tap = 0; tap < 9; tap++) _mm_prefetch(ahead + tap * LANES * LANES * sizeof(float), _MM_HINT_T0);
        }
        for (int half = 0; half < 2; half++) {
            const float *g = kernel_taps(c, ic + i, oc + half * LANES);
            __m256 t[6][3];
            for (int col = 0; col < 3; col++) {
                const __m256 g0 = _mm256_load_ps(g + (0 * 3 + col) * LANES * LANES);
                const __m256 g1 = _mm256_load_ps(g + (1 * 3 + col) * LANES * LANES);
                const __m256 g2 = _mm256_load_ps(g + (2 * 3 + col) * LANES * LANES);
                const __m256 outer = _mm256_add_ps(g0, g2);
                const __m256 even = _mm256_fmadd_ps(twentyfourth, g0, _mm256_mul_ps(sixth, g2));
                t[0][col] = _mm256_mul_ps(quarter, g0);
                t[1][col] = _mm256_mul_ps(sixth, _mm256_sub_ps(zero, _mm256_add_ps(outer, g1)));
                t[2][col] = _mm256_mul_ps(sixth, _mm256_sub_ps(g1, outer));
                t[3][col] = _mm256_fmadd_ps(twelfth, g1, even);
                t[4][col] = _mm256_fnmadd_ps(twelfth, g1, even);
                t[5][col] = g2;
            }
            for (int row = 0; row < 6; row++) {
                const __m256 g0 = t[row][0], g1 = t[row][1], g2 = t[row][2];
                const __m256 outer = _mm256_add_ps(g0, g2);
                const __m256 even = _mm256_fmadd_ps(twentyfourth, g0, _mm256_mul_ps(sixth, g2));
                const __m256 r[6] = {
                    _mm256_mul_ps(quarter, g0),
                    _mm256_mul_ps(sixth, _mm256_sub_ps(zero, _mm256_add_ps(outer, g1))),
                    _mm256_mul_ps(sixth, _mm256_sub_ps(g1, outer)),
                    _mm256_fmadd_ps(twelfth, g1, even),
                    _mm256_fnmadd_ps(twelfth, g1, even),
                    g2,
                };
                for (int k = 0; k < 6; k++) {
                    _mm256_store_ps(u + i * ic_stride + (row * 6 + k) * point_stride + half * LANES, r[k]);
                }
            }
        }
    }
}

// (2b) M[rows][16] (+)= V[rows][chunks x IC_CHUNK] · U, rows a compile-time 1 to 6: chunk c's U rows
// [IC_CHUNK][16] at u + c x chunk_stride, u_stride floats apart. One chunk a call when the weights are transformed a
// chunk at a time (the sums go through M between calls), all of them at once with weights transformed once (the sums
// stay in registers): the same multiply-adds in the same order, so the same values bit for bit.
#define GEMM_KERNEL(ROWS)                                                                                        \
    AVX2 static void gemm_##ROWS(const float *v, size_t v_stride, const float *u, size_t u_stride, size_t chunk_stride, \
                                 int chunks, float *m, int first) {                                               \
        __m256 acc[ROWS][2];                                                                                     \
        for (int r = 0; r < ROWS; r++) {                                                                         \
            acc[r][0] = first ? _mm256_setzero_ps() : _mm256_load_ps(m + r * OC_BLOCK);                          \
            acc[r][1] = first ? _mm256_setzero_ps() : _mm256_load_ps(m + r * OC_BLOCK + LANES);                  \
        }                                                                                                        \
        for (int chunk = 0; chunk < chunks; chunk++, u += chunk_stride, v += IC_CHUNK) {                         \
            for (int k = 0; k < IC_CHUNK; k++) {                                                                 \
                const __m256 b0 = _mm256_load_ps(u + k * u_stride), b1 = _mm256_load_ps(u + k * u_stride + LANES); \
                for (int r = 0; r < ROWS; r++) {                                                                 \
                    const __m256 a = _mm256_broadcast_ss(v + r * v_stride + k);                                  \
                    acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);                                               \
                    acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);                                               \
                }                                                                                                \
            }                                                                                                    \
        }                                                                                                        \
        for (int r = 0; r < ROWS; r++) {                                                                         \
            _mm256_store_ps(m + r * OC_BLOCK, acc[r][0]);                                                        \
            _mm256_store_ps(m + r * OC_BLOCK + LANES, acc[r][1]);                                                \
        }                                                                                                        \
    }
GEMM_KERNEL(6)
GEMM_KERNEL(5)
GEMM_KERNEL(4)
GEMM_KERNEL(3)
GEMM_KERNEL(2)
GEMM_KERNEL(1)

typedef void (*gemm_kernel)(const float *, size_t, const float *, size_t, size_t, int, float *, int);

// (2b) over `count` rows of V and M: 6 at a time while more than 9 are left, then the last 4 to 9 in one or two
// calls of 4 to 6 (7 as 4 + 3). A call keeps two accumulators a row, and the FMA units need 8 sums in flight (their
// latency times their throughput) to run at full rate: 6 + 2 ran the 2 at half the rate, 4 + 4 runs both at full.
static void gemm_rows(const float *v, size_t v_stride, const float *u, size_t u_stride, size_t chunk_stride, int chunks,
                      float *m, int count, int first) {
    static const gemm_kernel by_rows[7] = { NULL, gemm_1, gemm_2, gemm_3, gemm_4, gemm_5, gemm_6 };
    int row = 0;
    for (; count - row > 9; row += 6) gemm_6(v + (size_t)row * v_stride, v_stride, u, u_stride, chunk_stride, chunks, m + (size_t)row * OC_BLOCK, first);
    const int left = count - row;
    const int split = left > 6 ? 4 : left;  // the first call's rows: 7 = 4 + 3, 8 = 4 + 4, 9 = 4 + 5
    for (int rows = split; row < count; row += rows, rows = count - row) {
        by_rows[rows](v + (size_t)row * v_stride, v_stride, u, u_stride, chunk_stride, chunks, m + (size_t)row * OC_BLOCK, first);
    }
}

// (3) A^T m A for tiles [first, first + count) and output channels [oc, oc + 16), then bias, residual sum and ReLU
// into dst; m[36][rows][16] from m's tile 0 on, a point's rows point_stride floats from the next point's.
AVX2 static void transform_output(const job *j, int oc, const float *m, int first, int count, size_t point_stride) {
    const resnet18_winograd_conv *c = j->conv;
    const int h = c->height, w = c->width, out_blocks = c->channels_out / LANES;
    const __m256 zero = _mm256_setzero_ps(), two = _mm256_set1_ps(2), four = _mm256_set1_ps(4), eight = _mm256_set1_ps(8);
    for (int local = 0; local < count; local++) {
        const int tile = first + local;
        const int tx = tile % j->tiles_w, ty = (tile / j->tiles_w) % j->tiles_h, n = tile / (j->tiles_w * j->tiles_h);
        for (int half = 0; half < 2; half++) {
            const int block = (oc + half * LANES) / LANES;
            const __m256 bias = _mm256_loadu_ps(c->bias + oc + half * LANES);
            __m256 t[4][6];
            for (int k = 0; k < 6; k++) {
                __m256 p[6];
                for (int i = 0; i < 6; i++) p[i] = _mm256_load_ps(m + (size_t)(i * 6 + k) * point_stride + (size_t)local * OC_BLOCK + half * LANES);
                const __m256 s12 = _mm256_add_ps(p[1], p[2]), d12 = _mm256_sub_ps(p[1], p[2]);
                const __m256 s34 = _mm256_add_ps(p[3], p[4]), d34 = _mm256_sub_ps(p[3], p[4]);
                t[0][k] = _mm256_add_ps(_mm256_add_ps(p[0], s12), s34);
                t[1][k] = _mm256_fmadd_ps(two, d34, d12);
                t[2][k] = _mm256_fmadd_ps(four, s34, s12);
                t[3][k] = _mm256_add_ps(_mm256_fmadd_ps(eight, d34, d12), p[5]);
            }
            float *plane = c->dst + (size_t)(n * out_blocks + block) * h * w * LANES;
            for (int a = 0; a < 4; a++) {
                const int y = 4 * ty + a;
                if (y >= h) break;
                const __m256 s12 = _mm256_add_ps(t[a][1], t[a][2]), d12 = _mm256_sub_ps(t[a][1], t[a][2]);
                const __m256 s34 = _mm256_add_ps(t[a][3], t[a][4]), d34 = _mm256_sub_ps(t[a][3], t[a][4]);
                const __m256 out[4] = {
                    _mm256_add_ps(_mm256_add_ps(t[a][0], s12), s34),
                    _mm256_fmadd_ps(two, d34, d12),
                    _mm256_fmadd_ps(four, s34, s12),
                    _mm256_add_ps(_mm256_fmadd_ps(eight, d34, d12), t[a][5]),
                };
                for (int b = 0; b < 4; b++) {
                    const int x = 4 * tx + b;
                    if (x >= w) break;
                    float *pixel = plane + ((size_t)y * w + x) * LANES;
                    __m256 value = _mm256_add_ps(out[b], bias);
                    if (c->accumulate) value = _mm256_add_ps(value, _mm256_load_ps(pixel));
                    if (c->relu) value = _mm256_max_ps(value, zero);
                    _mm256_store_ps(pixel, value);
                }
            }
        }
    }
}

// Wide maps (layers 3 and 4): whichever thread is free takes the next block of 16 output channels over every tile,
// transforming the weights of one chunk of input channels at a time into U[IC_CHUNK][36][16]. Taken as they come
// rather than half each, so that when another process holds one thread's CPU for a while the other thread goes on
// with the blocks left instead of waiting at the end; a block's output does not depend on which thread makes it.
static void convolve_blocks(job *j, int thread) {
    const resnet18_winograd_conv *c = j->conv;
    char *mine = j->per_thread + (size_t)thread * (u_bytes() + m_bytes(j->tiles));
    float *u = (float *)mine, *m = (float *)(mine + u_bytes());
    const size_t point_stride = j->v_point, m_stride = j->m_point;
    const int blocks = c->channels_out / OC_BLOCK;
    for (int block; (block = __atomic_fetch_add(&j->next_block, 1, __ATOMIC_RELAXED)) < blocks;) {
        const int oc = block * OC_BLOCK;
        for (int ic = 0; ic < c->channels_in; ic += IC_CHUNK) {
            transform_weights(c, ic, oc, u, POINTS * OC_BLOCK, OC_BLOCK);
            for (int point = 0; point < POINTS; point++) {
                gemm_rows(j->v + point * point_stride + ic, c->channels_in, u + (size_t)point * OC_BLOCK, POINTS * OC_BLOCK, 0, 1,
                          m + point * m_stride, j->tiles, ic == 0);
            }
        }
        transform_output(j, oc, m, 0, j->tiles, m_stride);
    }
}

// With weights transformed once (`resnet18_winograd_avx2_run_transformed`) and few tiles: each (point, block of 16
// output channels) is one product over every tile and every input channel, taken point by point, so a point's V
// stays in L2 while the blocks go through it and V is read once a call; then the blocks back to outputs.
static void convolve_points(job *j) {
    const resnet18_winograd_conv *c = j->conv;
    const int ci = c->channels_in, chunks = ci / IC_CHUNK, blocks = c->channels_out / OC_BLOCK;
    const size_t point_stride = j->v_point, m_stride = j->m_point;
    const size_t m_block = (size_t)POINTS * m_stride;
    const size_t chunk_stride = (size_t)POINTS * IC_CHUNK * OC_BLOCK;
    for (int item; (item = __atomic_fetch_add(&j->next_block, 1, __ATOMIC_RELAXED)) < POINTS * blocks;) {
        const int point = item / blocks, block = item % blocks;
        const float *u = j->transformed + (size_t)block * chunks * chunk_stride + (size_t)point * IC_CHUNK * OC_BLOCK;
        gemm_rows(j->v + point * point_stride, ci, u, OC_BLOCK, chunk_stride, chunks,
                  j->m_all + block * m_block + point * m_stride, j->tiles, 1);
    }
    GOMP_barrier();
    for (int block; (block = __atomic_fetch_add(&j->next_output, 1, __ATOMIC_RELAXED)) < blocks;) {
        transform_output(j, block * OC_BLOCK, j->m_all + block * m_block, 0, j->tiles, m_stride);
    }
}

// Larger maps with fewer channels (layers 1 and 2): blocks of tiles that stay in L2, taken by whichever thread is
// free, against U[oc / 16][ic / 64][36][64][16]: the weights transformed once (`j->transformed`), or else at the start
// of every call by all threads.
static void convolve_tile_blocks(job *j, int thread, int threads) {
    const resnet18_winograd_conv *c = j->conv;
    const int chunks = c->channels_in / IC_CHUNK, oc_blocks = c->channels_out / OC_BLOCK;
    const float *u_all = j->transformed;
    if (!u_all) {
        for (int item = thread; item < oc_blocks * chunks; item += threads) {
            transform_weights(c, (item % chunks) * IC_CHUNK, (item / chunks) * OC_BLOCK,
                              j->v + (size_t)item * IC_CHUNK * POINTS * OC_BLOCK, OC_BLOCK, IC_CHUNK * OC_BLOCK);
        }
        GOMP_barrier();
        u_all = j->v;
    }
    const int block = j->block;
    float *v = (float *)(j->per_thread + (size_t)thread * block_bytes(block, c->channels_in));
    float *m = v + block_v_bytes(block, c->channels_in) / sizeof(float);
    for (int first; (first = __atomic_fetch_add(&j->next_block, 1, __ATOMIC_RELAXED) * block) < j->tiles;) {
        const int count = first + block <= j->tiles ? block : j->tiles - first;
        const size_t v_stride = point_floats((size_t)count * c->channels_in), m_stride = point_floats((size_t)count * OC_BLOCK);
        transform_tiles(j, first, count, v, v_stride);
        const size_t chunk_stride = (size_t)IC_CHUNK * POINTS * OC_BLOCK;
        for (int ob = 0; ob < oc_blocks; ob++) {
            const float *u = u_all + (size_t)ob * chunks * chunk_stride;
            for (int point = 0; point < POINTS; point++) {
                gemm_rows(v + point * v_stride, c->channels_in, u + (size_t)point * IC_CHUNK * OC_BLOCK, OC_BLOCK, chunk_stride,
                          chunks, m + point * m_stride, count, 1);
            }
            transform_output(j, ob * OC_BLOCK, m, first, count, m_stride);
        }
    }
}

static void work(void *data) {
    job *j = data;
    const resnet18_winograd_conv *c = j->conv;
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    if (j->block > 0) {
        convolve_tile_blocks(j, thread, threads);
        return;
    }
    const int first = (int)((long)j->tiles * thread / threads), last = (int)((long)j->tiles * (thread + 1) / threads);
    transform_tiles(j, first, last - first, j->v + (size_t)first * c->channels_in, j->v_point);
    GOMP_barrier();
    if (j->transformed) {
        convolve_points(j);
        return;
    }
    convolve_blocks(j, thread);
}

int resnet18_winograd_avx2_run(const resnet18_winograd_conv *conv) {
    if (!resnet18_winograd_avx2_supported()
        || !resnet18_winograd_avx2_accepts(conv->batch, conv->channels_in, conv->channels_out, conv->height, conv->width)
        || ((uintptr_t)conv->scratch & 63) != 0) {
        return -1;
    }
    job j = { .conv = conv, .tiles_h = tiles_along(conv->height), .tiles_w = tiles_along(conv->width) };
    j.tiles = conv->batch * j.tiles_h * j.tiles_w;
    j.v_point = point_floats((size_t)j.tiles * conv->channels_in);
    j.m_point = point_floats((size_t)j.tiles * OC_BLOCK);
    const unsigned threads = conv->threads > 0 ? (unsigned)conv->threads : 1;
    j.v = conv->scratch;
    if (uses_tile_blocks(conv->channels_in, conv->channels_out)) {
        j.block = block_tiles(j.tiles, conv->channels_in, (int)threads);
        j.per_thread = (char *)conv->scratch + u_all_bytes(conv->channels_in, conv->channels_out);
    } else {
        j.per_thread = (char *)conv->scratch + v_bytes(conv->batch, conv->channels_in, conv->height, conv->width);
    }
    GOMP_parallel(work, &j, threads, 0);
    return 0;
}

size_t resnet18_winograd_avx2_transformed_floats(int channels_in, int channels_out) {
    return (size_t)POINTS * channels_in * channels_out;
}

// U[oc / 16][ic / 64][36][64][16]: what the blocks of tiles transform on every call (convolve_tile_blocks), which
// convolve_points reads too.
void resnet18_winograd_avx2_transform_weights(const float *weights, int channels_in, int channels_out, float *transformed) {
    const resnet18_winograd_conv c = { .channels_in = channels_in, .channels_out = channels_out, .weights = weights };
    const int chunks = channels_in / IC_CHUNK;
    for (int item = 0; item < channels_out / OC_BLOCK * chunks; item++) {
        transform_weights(&c, (item % chunks) * IC_CHUNK, (item / chunks) * OC_BLOCK,
                          transformed + (size_t)item * IC_CHUNK * POINTS * OC_BLOCK, OC_BLOCK, IC_CHUNK * OC_BLOCK);
    }
}

// With weights transformed once, maps of up to 128x128 channels go by blocks of tiles unless they have few tiles
// (layer 2 at batches 1-3: 49 tiles an image), where products over the whole V were faster: no block then repeats
// reading a weight (bench/cpu/winograd_avx2_kernel.c). Wider maps always go point by point.
enum { POINTS_PATH_TILES = 160 };

static int transformed_by_blocks(int tiles, int channels_in, int channels_out) {
    return uses_tile_blocks(channels_in, channels_out) && tiles > POINTS_PATH_TILES;
}

size_t resnet18_winograd_avx2_transformed_scratch_bytes(int batch, int channels_in, int channels_out, int height, int width,
                                                        int threads) {
    const int tiles = batch * tiles_along(height) * tiles_along(width);
    if (transformed_by_blocks(tiles, channels_in, channels_out)) {
        return resnet18_winograd_avx2_scratch_bytes(batch, channels_in, channels_out, height, width, threads);
    }
    return v_bytes(batch, channels_in, height, width) + (size_t)(channels_out / OC_BLOCK) * m_bytes(tiles);
}

int resnet18_winograd_avx2_run_transformed(const resnet18_winograd_conv *conv, const float *transformed) {
    if (!resnet18_winograd_avx2_supported() || transformed == NULL
        || !resnet18_winograd_avx2_accepts(conv->batch, conv->channels_in, conv->channels_out, conv->height, conv->width)
        || ((uintptr_t)conv->scratch & 63) != 0 || ((uintptr_t)transformed & 31) != 0) {
        return -1;
    }
    job j = { .conv = conv, .tiles_h = tiles_along(conv->height), .tiles_w = tiles_along(conv->width), .transformed = transformed };
    j.tiles = conv->batch * j.tiles_h * j.tiles_w;
    j.v_point = point_floats((size_t)j.tiles * conv->channels_in);
    j.m_point = point_floats((size_t)j.tiles * OC_BLOCK);
    const unsigned threads = conv->threads > 0 ? (unsigned)conv->threads : 1;
    j.v = conv->scratch;
    if (transformed_by_blocks(j.tiles, conv->channels_in, conv->channels_out)) {
        j.block = block_tiles(j.tiles, conv->channels_in, (int)threads);
        j.per_thread = (char *)conv->scratch + u_all_bytes(conv->channels_in, conv->channels_out);
    } else {
        j.m_all = (float *)((char *)conv->scratch + v_bytes(conv->batch, conv->channels_in, conv->height, conv->width));
    }
    GOMP_parallel(work, &j, threads, 0);
    return 0;
}
