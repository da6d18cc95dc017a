// How fast one and two threads read memory: a buffer of SIZE_MB read with 256-bit loads, best of 20 passes, split
// evenly between THREADS OpenMP threads. With a buffer far larger than L3 it is the memory's rate, which bounds any
// step whose weights come from memory at every call (layer 3's 4.7 MB of 16-bit Winograd weights in int8, layer 4's
// 9.4 MB of fp32 weights).
//
// Usage: gcc -O2 -mavx2 -fopenmp bench/cpu/read_bandwidth.c -o /tmp/read_bandwidth && /tmp/read_bandwidth 256 2
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3 || atoi(argv[1]) < 1 || atoi(argv[2]) < 1) {
        fprintf(stderr, "usage: %s SIZE_MB THREADS\n", argv[0]);
        return 2;
    }
    const size_t bytes = (size_t)atoi(argv[1]) << 20;
    const int threads = atoi(argv[2]);
    char *buffer = aligned_alloc(64, bytes);
    memset(buffer, 1, bytes);
    double best = 1e9;
    for (int pass = 0; pass < 20; pass++) {
        const double start = now();
#pragma omp parallel num_threads(threads)
        {
            const size_t share = bytes / threads / 128 * 128, first = share * omp_get_thread_num();
            __m256i sum = _mm256_setzero_si256();
            for (size_t i = first; i < first + share; i += 128) {
                sum = _mm256_add_epi32(sum, _mm256_load_si256((const void *)(buffer + i)));
                sum = _mm256_add_epi32(sum, _mm256_load_si256((const void *)(buffer + i + 32)));
                sum = _mm256_add_epi32(sum, _mm256_load_si256((const void *)(buffer + i + 64)));
                sum = _mm256_add_epi32(sum, _mm256_load_si256((const void *)(buffer + i + 96)));
            }
            __asm__ volatile("" : : "x"(sum));
        }
        const double seconds = now() - start;
        if (seconds < best) best = seconds;
    }
    printf("%zu MB, %d thread%s: %.1f GB/s (best of 20 passes)\n", bytes >> 20, threads, threads == 1 ? "" : "s",
           bytes / best / 1e9);
    return 0;
}
