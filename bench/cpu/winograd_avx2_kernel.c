// The fp32 AVX2 Winograd F(4x4, 3x3) kernel (`Sources/CKernels/winograd_avx2.c`) alone on one convolution shape,
// both ways, alternating in one process: weights transformed as it runs (`resnet18_winograd_avx2_run`) and
// transformed once (`resnet18_winograd_avx2_run_transformed`). Random input and weights, 2 OpenMP threads; the median
// and 10th percentile of each, the rate of the products (36 points x tiles x channels_in x channels_out
// multiply-adds) over the median, and whether the two outputs are the same bit for bit, with their hash: the input
// and weights are the same pseudo-random numbers every run, so two builds of the kernel can be held to the same
// output. With EVICT_MB, that many MB of other memory are read before every run, so the weights come from memory, as
// in the network.
//
// Usage (layer 3 at batch 8: batch 8, 256 channels, 14x14; run with the engine's settings):
//   /opt/swift/usr/bin/clang -O3 -ISources/CKernels/include bench/cpu/winograd_avx2_kernel.c \
//       Sources/CKernels/winograd_avx2.c -lgomp -lm -o /tmp/wa && \
//   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=2000 EVICT_MB=64 /tmp/wa 8 256 14 100
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "winograd_avx2.h"

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

// FNV-1a over a buffer's bytes: equal only when every float is.
static unsigned long long hash(const void *data, size_t bytes) {
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < bytes; i++) h = (h ^ ((const unsigned char *)data)[i]) * 1099511628211ULL;
    return h;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s BATCH CHANNELS SIDE [RUNS]\n", argv[0]);
        return 2;
    }
    const int batch = atoi(argv[1]), channels = atoi(argv[2]), side = atoi(argv[3]), runs = argc > 4 ? atoi(argv[4]) : 100;
    if (batch < 1 || side < 1 || runs < 1 || runs > 100000 || !resnet18_winograd_avx2_supported()
        || !resnet18_winograd_avx2_accepts(batch, channels, channels, side, side)) {
        fprintf(stderr, "needs AVX2, a batch, side and runs of at least 1, and channels a multiple of 64\n");
        return 2;
    }
    const size_t evict_bytes = (size_t)(getenv("EVICT_MB") ? atoi(getenv("EVICT_MB")) : 0) << 20;
    volatile float *evict = evict_bytes ? aligned(evict_bytes) : NULL;
    if (evict) memset((void *)evict, 0, evict_bytes);
    float evicted = 0;
    const size_t map = (size_t)batch * side * side * channels, taps = (size_t)channels * channels * 9;
    float *src = aligned(map * sizeof(float)), *dst = aligned(map * sizeof(float)), *weights = aligned(taps * sizeof(float));
    float *bias = calloc(channels, sizeof(float));
    srand(1);
    for (size_t i = 0; i < map; i++) src[i] = rand() / 2147483648.0f;
    for (size_t i = 0; i < taps; i++) weights[i] = (rand() / 2147483648.0f - 0.5f) * 0.1f;
    float *transformed = aligned(resnet18_winograd_avx2_transformed_floats(channels, channels) * sizeof(float));
    resnet18_winograd_avx2_transform_weights(weights, channels, channels, transformed);
    const int threads = 2;
    size_t scratch_bytes = resnet18_winograd_avx2_scratch_bytes(batch, channels, channels, side, side, threads);
    const size_t once_bytes = resnet18_winograd_avx2_transformed_scratch_bytes(batch, channels, channels, side, side, threads);
    if (once_bytes > scratch_bytes) scratch_bytes = once_bytes;
    resnet18_winograd_conv conv = {
        .batch = batch, .channels_in = channels, .channels_out = channels, .height = side, .width = side,
        .src = src, .dst = dst, .weights = weights, .bias = bias, .accumulate = 0, .relu = 0,
        .scratch = aligned(scratch_bytes), .threads = threads,
    };
    double *streamed = malloc(runs * sizeof(double)), *once = malloc(runs * sizeof(double));
    for (int i = 0; i < 5; i++) {
        resnet18_winograd_avx2_run(&conv);
        resnet18_winograd_avx2_run_transformed(&conv, transformed);
    }
    for (int i = 0; i < runs; i++) {
        for (size_t e = 0; e < evict_bytes / sizeof(float); e += 16) evicted += evict[e];
        double start = now_ms();
        resnet18_winograd_avx2_run(&conv);
        streamed[i] = now_ms() - start;
        for (size_t e = 0; e < evict_bytes / sizeof(float); e += 16) evicted += evict[e];
        start = now_ms();
        resnet18_winograd_avx2_run_transformed(&conv, transformed);
        once[i] = now_ms() - start;
    }
    resnet18_winograd_avx2_run(&conv);
    const unsigned long long streamed_hash = hash(dst, map * sizeof(float));
    memset(dst, 0, map * sizeof(float));
    resnet18_winograd_avx2_run_transformed(&conv, transformed);
    const unsigned long long once_hash = hash(dst, map * sizeof(float));
    qsort(streamed, runs, sizeof(double), by_value);
    qsort(once, runs, sizeof(double), by_value);
    const double products = 36.0 * batch * ((side + 3) / 4) * ((side + 3) / 4) * channels * channels;
    printf("batch %d, %d channels, %dx%d%s: transformed as it runs: median %.3f ms (p10 %.3f, %.1f G multiply-adds/s); "
           "transformed once: %.3f ms (p10 %.3f, %.1f G/s); once / as it runs %.3f; outputs %s (FNV-1a %016llx)%s\n",
           batch, channels, side, side, evict ? ", weights evicted" : "", streamed[runs / 2], streamed[runs / 10],
           products / streamed[runs / 2] * 1e-6, once[runs / 2], once[runs / 10], products / once[runs / 2] * 1e-6,
           once[runs / 2] / streamed[runs / 2], streamed_hash == once_hash ? "the same bit for bit" : "DIFFER", once_hash,
           evicted == 0 ? "" : " ");
    return streamed_hash == once_hash ? 0 : 1;
}
