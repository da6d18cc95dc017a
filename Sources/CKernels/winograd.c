// Winograd F(4x4, 3x3) for the 3x3 stride-1 convolutions of small feature maps, weights transformed as it runs.
//
// oneDNN's own Winograd keeps every convolution's weights transformed (6x6 per 3x3 kernel: four times the
// plain size). Here only the plain weights are kept: each call transforms them a block at a time into a
// cache-sized buffer, a cost per call whatever the batch, which the 3x fewer multiplications pay for from 16 tiles
// (batch 4 of 7x7 maps; bench/results/engine-plan.md).
//
// Per call, for layer 4's small maps: (1) the input, 6x6 tiles at a stride of 4, goes to V[36][tiles][channels_in];
// (2) per block of 32 output channels and per chunk of 64 input channels, the weights go to U[64][36][32]
// and M[36][tiles][32] += V · U, one small matrix product per Winograd point; (3) M goes back to 4x4 outputs,
// with the bias, the residual sum and the ReLU. Threads split (1) by tiles and (2)-(3) by blocks.
// On layer 4 at batch 8 about as fast as oneDNN's 4x3 Winograd, and faster than its direct convolution
// (bench/results/engine-plan.md).
// Layers 1 and 2 (larger maps, fewer channels) go by blocks of tiles instead: see convolve_tile_blocks.
#include <immintrin.h>
#include <stdint.h>
#include "winograd.h"
#include "winograd_input.h"
#include "../CThreadBinding/include/openmp_runtime.h"   // libgomp: the team oneDNN runs on

#define AVX512 __attribute__((target("avx512f,fma")))

// TILE_BLOCK_BYTES: V of one block of tiles (layers 1 and 2); from 2/3 to 2x this measured alike within the noise.
enum { POINTS = 36, OC_BLOCK = 32, IC_CHUNK = 64, TILE_BLOCK_BYTES = 384 * 1024 };

static int tiles_along(int side) { return (side + 3) / 4; }

static size_t round_up_64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

static size_t v_bytes(int batch, int channels_in, int height, int width) {
    return round_up_64((size_t)POINTS * batch * tiles_along(height) * tiles_along(width) * channels_in * sizeof(float));
}

static size_t u_bytes(void) { return round_up_64((size_t)POINTS * IC_CHUNK * OC_BLOCK * sizeof(float)); }

static size_t m_bytes(int tiles) { return round_up_64((size_t)POINTS * tiles * OC_BLOCK * sizeof(float)); }

static int uses_tile_blocks(int channels_in, int channels_out) { return channels_in * channels_out <= 128 * 128; }

static size_t u_all_bytes(int channels_in, int channels_out) {
    return round_up_64((size_t)POINTS * channels_in * channels_out * sizeof(float));
}

// Tiles a block: V of a block about TILE_BLOCK_BYTES, and a count of blocks the threads share evenly.
static int block_tiles(int tiles, int channels_in, int threads) {
    int target = TILE_BLOCK_BYTES / (POINTS * channels_in * (int)sizeof(float));
    if (target < 8) target = 8;
    int blocks = (tiles + target - 1) / target;
    blocks = (blocks + threads - 1) / threads * threads;
    return (tiles + blocks - 1) / blocks;
}

static size_t block_bytes(int block, int channels_in) {
    return round_up_64((size_t)POINTS * block * channels_in * sizeof(float))
        + round_up_64((size_t)POINTS * block * OC_BLOCK * sizeof(float));
}

int resnet18_winograd_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}

int resnet18_winograd_accepts(int batch, int channels_in, int channels_out, int height, int width) {
    int tiles = batch * tiles_along(height) * tiles_along(width);
    return batch > 0 && height > 0 && width > 0 && channels_in % IC_CHUNK == 0 && channels_out % OC_BLOCK == 0
        && (uses_tile_blocks(channels_in, channels_out) || tiles % 4 == 0);
}

size_t resnet18_winograd_scratch_bytes(int batch, int channels_in, int channels_out, int height, int width, int threads) {
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
    float *v;           ///< V[36][tiles][channels_in], or with tile blocks U of every weight
    char *per_thread;
    int block;          ///< tiles a block, or 0: whole V, weights a chunk at a time
    int next_block;     ///< the next block a thread takes (threads take blocks as they finish: steal time varies)
} job;

// (1) The input transform B^T d B of one 6x6 tile of 16 channels, into out[point * point_stride].
AVX512 static void transform_tile(const resnet18_winograd_conv *c, const float *plane, int ty, int tx, float *out,
                                  size_t point_stride) {
    const int h = c->height, w = c->width;
    const __m512 zero = _mm512_setzero_ps();
    __m512 d[6][6];
    for (int i = 0; i < 6; i++) {
        int y = 4 * ty - 1 + i;
        for (int k = 0; k < 6; k++) {
            int x = 4 * tx - 1 + k;
            d[i][k] = (y >= 0 && y < h && x >= 0 && x < w) ? _mm512_load_ps(plane + ((size_t)y * w + x) * 16) : zero;
        }
    }
    winograd_input_transform(d, out, point_stride);
}

// Tiles [first, first + count) (of the index (n, ty, tx)), every input channel, into v from v's tile 0 on: tile t's
// point p at v + t x tile_stride + p x point_stride (channels contiguous).
static void transform_tiles(const job *j, int first, int count, float *v, size_t tile_stride, size_t point_stride) {
    const resnet18_winograd_conv *c = j->conv;
    const int blocks = c->channels_in / 16;
    for (int local = 0; local < count; local++) {
        const int tile = first + local, tx = tile % j->tiles_w, ty = (tile / j->tiles_w) % j->tiles_h;
        const int n = tile / (j->tiles_w * j->tiles_h);
        for (int cb = 0; cb < blocks; cb++) {
            const float *plane = c->src + (size_t)(n * blocks + cb) * c->height * c->width * 16;
            transform_tile(c, plane, ty, tx, v + (size_t)local * tile_stride + cb * 16, point_stride);
        }
    }
}

// The 3x3 kernel of input channel ic into the 16 output channels from oc (a multiple of 16): nine rows of 16 floats,
// 1 kB apart, in ABcd16b16a ([oc / 16][ic / 16][kh][kw][16 ic][16 oc]).
static const float *kernel_taps(const resnet18_winograd_conv *c, int ic, int oc) {
    return c->weights + (((size_t)(oc / 16) * (c->channels_in / 16) + ic / 16) * 9 * 16 + ic % 16) * 16;
}

// (2a) G g G^T for input channels [ic, ic + IC_CHUNK) and output channels [oc, oc + 32), into u at ic_stride
// floats an input channel and point_stride a point. Layer 4's schedule: U[IC_CHUNK][36][32], input channel
// outermost, so each kernel's 36 points are stored in one run (36 scattered runs cost twice the time of the whole
// transform, which it repeats on every call); the products then read U[·][point] at a stride of 4.6 kB, from L2.
// An input channel's weights are 18 lines in 18 places, which the hardware's prefetchers do not follow, and at
// batch 8 layer 4's come from memory (9.4 MB a convolution), so the transform waited on them; the lines of the
// channel 8 ahead are asked for as each is transformed (bench/results/engine-plan.md).
AVX512 static void transform_weights(const resnet18_winograd_conv *c, int ic, int oc, float *u, size_t ic_stride,
                                     size_t point_stride) {
    const __m512 quarter = _mm512_set1_ps(0.25f), sixth = _mm512_set1_ps(1.0f / 6), twelfth = _mm512_set1_ps(1.0f / 12),
                 twentyfourth = _mm512_set1_ps(1.0f / 24);
    enum { AHEAD = 8 };
    for (int i = 0; i < IC_CHUNK; i++) {
        for (int half = 0; half < 2 && i + AHEAD < IC_CHUNK; half++) {
            const char *ahead = (const char *)kernel_taps(c, ic + i + AHEAD, oc + half * 16);
            for (int tap = 0; tap < 9; tap++) _mm_prefetch(ahead + tap * 1024, _MM_HINT_T0);
        }
        for (int half = 0; half < 2; half++) {
            const float *g = kernel_taps(c, ic + i, oc + half * 16);
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
                    _mm512_store_ps(u + i * ic_stride + (row * 6 + k) * point_stride + half * 16, r[k]);
                }
            }
        }
    }
}

// (2b) M[rows][32] (+)= V[rows][IC_CHUNK] · U[IC_CHUNK][32], rows a compile-time 8, 4 or 1, U's rows u_stride apart.
#define GEMM_KERNEL(ROWS)                                                                                        \
    AVX512 static void gemm_##ROWS(const float *v, size_t v_stride, const float *u, size_t u_stride, float *m, int first) { \
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
GEMM_KERNEL(1)

// (3) A^T m A for tiles [first, first + count) and output channels [oc, oc + 32), then bias, residual sum and ReLU
// into dst; m[36][stride][32] from m's tile 0 on.
AVX512 static void transform_output(const job *j, int oc, const float *m, int first, int count, int stride) {
    const resnet18_winograd_conv *c = j->conv;
    const int h = c->height, w = c->width, out_blocks = c->channels_out / 16;
    const __m512 zero = _mm512_setzero_ps(), two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
    for (int local = 0; local < count; local++) {
        const int tile = first + local;
        int tx = tile % j->tiles_w, ty = (tile / j->tiles_w) % j->tiles_h, n = tile / (j->tiles_w * j->tiles_h);
        for (int half = 0; half < 2; half++) {
            const int block = (oc + half * 16) / 16;
            const __m512 bias = _mm512_loadu_ps(c->bias + oc + half * 16);
            __m512 t[4][6];
            for (int k = 0; k < 6; k++) {
                __m512 p[6];
                for (int i = 0; i < 6; i++) p[i] = _mm512_load_ps(m + ((size_t)(i * 6 + k) * stride + local) * OC_BLOCK + half * 16);
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
// from memory on every call (all of a layer-4 convolution's weights), which would stall the transform if it waited
// for them. So while the products of one chunk run, the next chunk's weights are fetched into L2, a 1/36 a point.
enum { CHUNK_LINES = 2 * (IC_CHUNK / 16) * 9 * 16 * 16 * 4 / 64, LINES_PER_POINT = (CHUNK_LINES + POINTS - 1) / POINTS };

static void prefetch_weights(const resnet18_winograd_conv *c, int ic, int oc, int point) {
    if (oc >= c->channels_out) return;
    const int run_lines = 9 * 16 * 16 * 4 / 64;  // one 16x16 block of 3x3 kernels
    for (int line = point * LINES_PER_POINT; line < (point + 1) * LINES_PER_POINT && line < CHUNK_LINES; line++) {
        int run = line / run_lines, half = run / (IC_CHUNK / 16), in_block = ic / 16 + run % (IC_CHUNK / 16);
        const char *start = (const char *)kernel_taps(c, in_block * 16, oc + half * 16);
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
            transform_weights(c, ic, oc, u, POINTS * OC_BLOCK, OC_BLOCK);
            const int next_ic = ic + IC_CHUNK < c->channels_in ? ic + IC_CHUNK : 0;
            const int next_oc = ic + IC_CHUNK < c->channels_in ? oc : (block + 1 < last ? oc + OC_BLOCK : c->channels_out);
            for (int point = 0; point < POINTS; point++) {
                prefetch_weights(c, next_ic, next_oc, point);
                const float *v = j->v + point * point_stride + ic;
                const float *up = u + (size_t)point * OC_BLOCK;
                float *mp = m + (size_t)point * j->tiles * OC_BLOCK;
                int row = 0;
                for (; row + 8 <= j->tiles; row += 8) {
                    gemm_8(v + (size_t)row * c->channels_in, c->channels_in, up, POINTS * OC_BLOCK, mp + (size_t)row * OC_BLOCK, ic == 0);
                }
                if (row < j->tiles) gemm_4(v + (size_t)row * c->channels_in, c->channels_in, up, POINTS * OC_BLOCK, mp + (size_t)row * OC_BLOCK, ic == 0);
            }
        }
        transform_output(j, oc, m, 0, j->tiles, j->tiles);
    }
}

// Larger maps (layers 1 and 2): the whole V and M would not stay in cache (14 MB and 7 MB a thread for layer 1
// at batch 8), so the threads take blocks of tiles (about TILE_BLOCK_BYTES of V each) and transform, multiply and
// transform back each block while it is in L2, against weights transformed once per call for all threads into
// U[oc / 32][ic / 64][36][64][32] (input channels at a stride of 128 bytes; the layout of (2a) would put them
// 4.6 kB apart, on 8 of L1's 64 sets). A block's V goes tile by tile, [tile][36][channels_in], so a tile's transform
// stores to one run, not to 36 scattered ones. Against [36][tile][channels_in], alternating runs of the kernel alone
// at batch 8: layer 2 2-5 % faster in 10 of 11, layer 1 alike to 4 % faster (on layers 3 and 4, whose whole V the
// threads share, it was slower). Against oneDNN's 4x3 Winograd it is faster on layers 1 and 2 at batch 8 and
// slower on layer 3, whose U is read again for every block (bench/results/engine-plan.md).
// Blocks go to whichever thread is free: one vCPU losing time to its neighbours then delays the other less.
AVX512 static void convolve_tile_blocks(job *j, int thread, int threads) {
    const resnet18_winograd_conv *c = j->conv;
    const int chunks = c->channels_in / IC_CHUNK, oc_blocks = c->channels_out / OC_BLOCK;
    float *u_all = j->v;
    for (int item = thread; item < oc_blocks * chunks; item += threads) {
        transform_weights(c, (item % chunks) * IC_CHUNK, (item / chunks) * OC_BLOCK,
                          u_all + (size_t)item * IC_CHUNK * POINTS * OC_BLOCK, OC_BLOCK, IC_CHUNK * OC_BLOCK);
    }
    GOMP_barrier();
    const int block = j->block;
    float *v = (float *)(j->per_thread + (size_t)thread * block_bytes(block, c->channels_in));
    float *m = v + round_up_64((size_t)POINTS * block * c->channels_in * sizeof(float)) / sizeof(float);
    for (int first; (first = __atomic_fetch_add(&j->next_block, 1, __ATOMIC_RELAXED) * block) < j->tiles;) {
        const int count = first + block <= j->tiles ? block : j->tiles - first;
        transform_tiles(j, first, count, v, (size_t)POINTS * c->channels_in, c->channels_in);
        for (int ob = 0; ob < oc_blocks; ob++) {
            for (int chunk = 0; chunk < chunks; chunk++) {
                const float *u = u_all + (size_t)(ob * chunks + chunk) * IC_CHUNK * POINTS * OC_BLOCK;
                for (int point = 0; point < POINTS; point++) {
                    const float *vp = v + (size_t)point * c->channels_in + chunk * IC_CHUNK;
                    const float *up = u + (size_t)point * IC_CHUNK * OC_BLOCK;
                    float *mp = m + (size_t)point * count * OC_BLOCK;
                    const size_t in = (size_t)POINTS * c->channels_in;
                    int row = 0;
                    for (; row + 8 <= count; row += 8) gemm_8(vp + row * in, in, up, OC_BLOCK, mp + row * OC_BLOCK, chunk == 0);
                    for (; row + 4 <= count; row += 4) gemm_4(vp + row * in, in, up, OC_BLOCK, mp + row * OC_BLOCK, chunk == 0);
                    for (; row < count; row++) gemm_1(vp + row * in, in, up, OC_BLOCK, mp + row * OC_BLOCK, chunk == 0);
                }
            }
            transform_output(j, ob * OC_BLOCK, m, first, count, count);
        }
    }
}

static void work(void *data) {
    job *j = data;
    const resnet18_winograd_conv *c = j->conv;
    int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    if (j->block > 0) {
        convolve_tile_blocks(j, thread, threads);
        return;
    }
    int first = (int)((long)j->tiles * thread / threads), last = (int)((long)j->tiles * (thread + 1) / threads);
    transform_tiles(j, first, last - first, j->v + (size_t)first * c->channels_in, c->channels_in,
                    (size_t)j->tiles * c->channels_in);
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
    unsigned threads = conv->threads > 0 ? (unsigned)conv->threads : 1;
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
