// Two steps of the fp32 AVX2 Winograd kernel (`Sources/CKernels/winograd_avx2.c`, included here to reach its static
// functions) alone, one thread, the best of many passes so that what the host takes from this VM's CPU drops out:
//
//   products ROWS CHUNKS   `gemm_rows`: multiply-adds a second over ROWS tiles and CHUNKS x 64 input channels, V, U
//                          and M in L1/L2. Rows go 6 a call with a tail; this shows what the tail costs (layer 2
//                          at batch 8 takes blocks of 20 tiles, layer 4 at batch 2 has 8 tiles, layer 2 at batch 1 49).
//   input CHANNELS SIDE ROWS [unpadded]
//                          `transform_tiles`: nanoseconds a tile of 8 channels, one image's tiles ROWS at a time
//                          (layer 1: 64 56 42; layer 2 at batch 8: 128 28 20; layer 3 at batch 1: 256 14 16). With
//                          `unpadded`, the 36 points' planes of V lie ROWS x CHANNELS floats apart, as they did before
//                          `point_floats`: at 16 tiles x 256 channels that is 16 kB, and all 36 fall in one L1 set.
//
// Usage (add -DKERNEL='"/path/to/winograd_avx2.c"' to build another copy of the kernel, and alternate the two):
//   /opt/swift/usr/bin/clang -O2 -ISources/CKernels/include -ISources/CKernels bench/cpu/winograd_avx2_steps.c \
//       -lgomp -o /tmp/steps && for rows in 7 8 14 16 20 49; do /tmp/steps products $rows 2; done && \
//   /tmp/steps input 256 14 16 && /tmp/steps input 256 14 16 unpadded
#ifndef KERNEL
#define KERNEL "../../Sources/CKernels/winograd_avx2.c"
#endif
#include KERNEL
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int products(int rows, int chunks) {
    if (rows < 1 || rows > 256 || chunks < 1 || chunks > 8) {
        fprintf(stderr, "rows must be 1 to 256 and chunks 1 to 8\n");
        return 2;
    }
    const int channels = chunks * IC_CHUNK;
    float *v = aligned_alloc(64, (size_t)rows * channels * sizeof(float));
    float *u = aligned_alloc(64, (size_t)channels * OC_BLOCK * sizeof(float));
    float *m = aligned_alloc(64, (size_t)rows * OC_BLOCK * sizeof(float));
    for (int i = 0; i < rows * channels; i++) v[i] = (float)(i % 97) * 1e-3f;
    for (int i = 0; i < channels * OC_BLOCK; i++) u[i] = (float)(i % 89) * 1e-3f;
    enum { PASSES = 60, CALLS = 2000 };
    double best = 1e9;
    for (int pass = 0; pass < PASSES; pass++) {
        const double start = now_s();
        for (int call = 0; call < CALLS; call++) {
            gemm_rows(v, channels, u, OC_BLOCK, (size_t)IC_CHUNK * OC_BLOCK, chunks, m, rows, 1);
        }
        const double took = now_s() - start;
        if (took < best) best = took;
    }
    printf("products: %d rows, %d input channels: %.1f G multiply-adds/s (one thread; checksum %g)\n", rows, channels,
           (double)CALLS * rows * channels * OC_BLOCK / best * 1e-9, (double)m[0] + m[(size_t)(rows - 1) * OC_BLOCK]);
    return 0;
}

static int input(int channels, int side, int rows, int unpadded) {
    if (channels < 64 || channels > 512 || channels % 64 != 0 || side < 1 || side > 112 || rows < 1 || rows > 256) {
        fprintf(stderr, "channels must be 64 to 512 (a multiple of 64), side 1 to 112 and rows 1 to 256\n");
        return 2;
    }
    const size_t pixels = (size_t)channels * side * side;
    float *src = aligned_alloc(64, pixels * sizeof(float));
    for (size_t i = 0; i < pixels; i++) src[i] = (float)(i % 101) * 1e-2f;
    const size_t point_stride = unpadded ? (size_t)rows * channels : point_floats((size_t)rows * channels);
    float *v = aligned_alloc(64, POINTS * (point_stride + 16) * sizeof(float));
    const resnet18_winograd_conv conv = { .batch = 1, .channels_in = channels, .channels_out = OC_BLOCK, .height = side,
                                          .width = side, .src = src };
    job j = { .conv = &conv, .tiles_h = tiles_along(side), .tiles_w = tiles_along(side) };
    j.tiles = j.tiles_h * j.tiles_w;
    const int taken = j.tiles / rows * rows;
    if (taken == 0) {
        fprintf(stderr, "an image of side %d has %d tiles, fewer than %d rows\n", side, j.tiles, rows);
        return 2;
    }
    double best = 1e9;
    for (int pass = 0; pass < 200; pass++) {
        const double start = now_s();
        for (int first = 0; first + rows <= j.tiles; first += rows) transform_tiles(&j, first, rows, v, point_stride);
        const double took = now_s() - start;
        if (took < best) best = took;
    }
    printf("input: %d channels, %dx%d, %d rows, points %s: %.1f ns a tile of 8 channels (one thread; checksum %g)\n",
           channels, side, side, rows, unpadded ? "unpadded" : "padded", best * 1e9 / ((double)taken * channels / LANES),
           (double)v[5]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "products") == 0) return products(atoi(argv[2]), atoi(argv[3]));
    if (argc >= 5 && strcmp(argv[1], "input") == 0) {
        return input(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argc >= 6 && strcmp(argv[5], "unpadded") == 0);
    }
    fprintf(stderr, "usage: %s products ROWS CHUNKS | input CHANNELS SIDE ROWS [unpadded]\n", argv[0]);
    return 2;
}
