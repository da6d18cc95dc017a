// The 16-bit F(4x4, 3x3) int8 kernel (`Sources/CKernels/winograd_s16.c`) alone on one convolution shape: random u8
// input and weights, the kernel run `runs` times on 2 OpenMP threads, median and 10th percentile. Its weights stay
// in the cache from run to run unless EVICT_MB is given: then that many MB of other memory are read between runs, as
// the network's other layers do, and the weights come from memory (the difference is what streaming them costs).
// To compare two versions of the kernel, build each into its own binary and alternate them.
//
// Usage (ResNet-18's layer 3 at batch 1: batch 1, 256 channels, 14x14; then the same with its weights evicted):
//   /opt/swift/usr/bin/clang -O3 -ISources/CKernels/include bench/cpu/winograd_s16_kernel.c \
//       Sources/CKernels/winograd_s16.c Sources/CKernels/tile_blocks.c -lgomp -lm -o /tmp/s16 && /tmp/s16 1 256 14 300 && /tmp/s16 1 256 14 300 64
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "winograd_s16.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void *aligned(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s BATCH CHANNELS SIDE [RUNS [EVICT_MB]]\n", argv[0]);
        return 2;
    }
    const int batch = atoi(argv[1]), channels = atoi(argv[2]), side = atoi(argv[3]), runs = argc > 4 ? atoi(argv[4]) : 200;
    const size_t evict_bytes = (size_t)(argc > 5 ? atoi(argv[5]) : 0) << 20;
    volatile uint8_t *evict = evict_bytes ? aligned(evict_bytes) : NULL;
    if (evict) memset((void *)evict, 1, evict_bytes);
    unsigned sink = 0;
    if (batch < 1 || side < 1 || runs < 1 || !resnet18_winograd_s16_supported() || !resnet18_winograd_s16_accepts(channels, channels)) {
        fprintf(stderr, "needs AVX2, a batch, side and runs of at least 1, and channels a multiple of 64\n");
        return 2;
    }
    const size_t map = (size_t)batch * side * side * channels, taps = (size_t)channels * channels * 9;
    uint8_t *src = aligned(map), *dst = aligned(map);
    for (size_t i = 0; i < map; i++) src[i] = (uint8_t)(rand() % 256);
    float *weights = malloc(taps * sizeof(float)), *scales = malloc(36 * channels * sizeof(float));
    for (size_t i = 0; i < taps; i++) weights[i] = (rand() / 2147483648.0f - 0.5f) * 0.1f;
    int16_t *transformed = aligned(36 * taps / 9 * sizeof(int16_t));
    resnet18_winograd_s16_transform_weights(weights, channels, channels, transformed, scales);
    float *dequantize = malloc(36 * channels * sizeof(float)), *bias = calloc(channels, sizeof(float));
    for (int i = 0; i < 36 * channels; i++) dequantize[i] = 1e-4f;
    void *scratch = aligned(resnet18_winograd_s16_scratch_bytes(batch, channels, channels, side, 2));
    resnet18_winograd_s16_conv conv = {
        .batch = batch, .channels_in = channels, .channels_out = channels, .side = side, .src = src, .dst = dst,
        .weights = transformed, .dequantize = dequantize, .bias = bias, .scratch = scratch, .threads = 2,
    };
    double *times = malloc(runs * sizeof(double));
    resnet18_winograd_s16_run(&conv);
    for (int r = 0; r < runs; r++) {
        for (size_t i = 0; i < evict_bytes; i += 64) sink += evict[i];
        const double start = now_ms();
        resnet18_winograd_s16_run(&conv);
        times[r] = now_ms() - start;
    }
    qsort(times, runs, sizeof(double), by_value);
    unsigned checksum = 0;
    for (size_t i = 0; i < map; i++) checksum = checksum * 31 + dst[i];
    printf("batch %d, %d channels, %dx%d%s: median %.3f ms, p10 %.3f ms (output checksum %08x)\n", batch, channels, side,
           side, evict ? ", weights evicted" : "", times[runs / 2], times[runs / 10], checksum + (sink & 0));
    return 0;
}
