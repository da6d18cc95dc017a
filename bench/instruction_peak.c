// The machine's arithmetic ceiling: how many int8 and fp32 operations per second the vector units retire when they do
// nothing else. Each thread runs independent chains of AVX-512 VNNI `vpdpbusd` (64 u8 x s8 multiply-adds per
// instruction) or of `vfmadd` (16 fp32 multiply-adds), enough chains to hide the latency; best of five passes.
// No network, convolution or memory traffic can go faster than this on the same cores.
//
// Usage: bench/instruction_peak.sh [THREADS]   (compiles this with gcc -march=native -fopenmp and runs it)
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <time.h>

enum { chains = 12, rounds = 1 << 20 };

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile int sink;

static double int8_pass(void) {
    double start = seconds();
#pragma omp parallel
    {
        __m512i sum[chains];
        for (int i = 0; i < chains; i++) sum[i] = _mm512_set1_epi32(i);
        __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x02020202);
        for (long n = 0; n < rounds; n++) {
#pragma GCC unroll 12
            for (int i = 0; i < chains; i++) sum[i] = _mm512_dpbusd_epi32(sum[i], a, b);
            __asm__ volatile("" : "+v"(a));
        }
        int total = 0;
        for (int i = 0; i < chains; i++) total += _mm512_reduce_add_epi32(sum[i]);
        sink = total;
    }
    double elapsed = seconds() - start;
    return (double)omp_get_max_threads() * rounds * chains * 64 * 2 / elapsed;
}

static double fp32_pass(void) {
    double start = seconds();
#pragma omp parallel
    {
        __m512 sum[chains];
        for (int i = 0; i < chains; i++) sum[i] = _mm512_set1_ps((float)i);
        __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-6f);
        for (long n = 0; n < rounds; n++) {
#pragma GCC unroll 12
            for (int i = 0; i < chains; i++) sum[i] = _mm512_fmadd_ps(sum[i], a, b);
            __asm__ volatile("" : "+v"(a));
        }
        float total = 0;
        for (int i = 0; i < chains; i++) total += _mm512_reduce_add_ps(sum[i]);
        sink = (int)total;
    }
    double elapsed = seconds() - start;
    return (double)omp_get_max_threads() * rounds * chains * 16 * 2 / elapsed;
}

int main(void) {
    double int8 = 0, fp32 = 0;
    for (int pass = 0; pass < 5; pass++) {
        double i = int8_pass(), f = fp32_pass();
        if (i > int8) int8 = i;
        if (f > fp32) fp32 = f;
    }
    printf("%d threads: int8 (vpdpbusd) %.0f GOP/s, fp32 (vfmadd) %.0f GFLOP/s, best of 5 passes\n",
           omp_get_max_threads(), int8 / 1e9, fp32 / 1e9);
    return 0;
}
