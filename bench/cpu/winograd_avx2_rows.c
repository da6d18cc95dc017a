// The fp32 AVX2 Winograd kernel's products alone (`gemm_rows` in `Sources/CKernels/winograd_avx2.c`, included here
// to reach it), one thread, V, U and M in L1/L2: multiply-adds a second for a number of rows (tiles) and 64-channel
// chunks, the best of 60 passes of 2,000 calls, so that what the host takes from this VM's CPU drops out. Rows go
// 6 a call with a tail; this shows what the tail costs (layer 2 at batch 8 takes blocks of 20 tiles, layer 4 at
// batch 2 has 8 tiles, layer 2 at batch 1 49).
//
// Usage (add -DKERNEL='"/path/to/winograd_avx2.c"' to build another copy of the kernel, and alternate the two):
//   /opt/swift/usr/bin/clang -O2 -ISources/CKernels/include -ISources/CKernels bench/cpu/winograd_avx2_rows.c \
//       -lgomp -o /tmp/rows && for rows in 7 8 13 14 16 20 49 128; do /tmp/rows $rows 2; done
#ifndef KERNEL
#define KERNEL "../../Sources/CKernels/winograd_avx2.c"
#endif
#include KERNEL
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s ROWS CHUNKS (rows 1 to 256, chunks of 64 input channels 1 to 8)\n", argv[0]);
        return 2;
    }
    const int rows = atoi(argv[1]), chunks = atoi(argv[2]);
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
    const double products = (double)CALLS * rows * channels * OC_BLOCK;
    printf("%d rows, %d input channels: %.1f G multiply-adds/s (one thread; checksum %g)\n", rows, channels,
           products / best * 1e-9, (double)m[0] + m[(size_t)(rows - 1) * OC_BLOCK]);
    return 0;
}
