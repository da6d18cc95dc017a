// Whether this VM's vCPUs run on cores of their own right now, or share one physical core (SMT siblings): one
// thread of fp32 multiply-adds pinned to CPU 0 alone, then one pinned to each CPU at once. On cores of their own each
// thread keeps its lone rate (ratio near 1); two vCPUs on one core's two hardware threads share its FMA units
// (ratio near 0.5). The host moves vCPUs about, so a two-thread benchmark can run at two cores' speed one minute
// and one core's the next; bench/engines.sh runs this before and after each engine's measurement and writes both
// beside it.
//
// Usage: cc -O2 -pthread bench/cpu/core_pair.c -o /tmp/core_pair && /tmp/core_pair [MILLISECONDS]
// Prints one JSON object: {"alone_gfma": ..., "together_gfma": [...], "ratio": min(together) / alone,
// "round_trip_ns": a cache line from CPU 0 to CPU 1 and back (below)}.
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CPUS = 256 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
    int cpu;
    double seconds;   ///< how long to run
    double rate;      ///< G multiply-adds a second, out (-1: could not pin)
    pthread_barrier_t *start;
} job;

// Ten independent FMA chains (more than latency x throughput on any x86 core), so the rate is the FMA units'. Named
// accumulators rather than an array: gcc at -O2 keeps an array of vectors in memory, and would time its loads and
// stores instead.
__attribute__((target("avx2,fma"))) static void *run(void *data) {
    job *j = data;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(j->cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        j->rate = -1;
        if (j->start) pthread_barrier_wait(j->start);
        return NULL;
    }
    if (j->start) pthread_barrier_wait(j->start);
    const __m256 x = _mm256_set1_ps(1.0001f), y = _mm256_set1_ps(0.9999f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2), a3 = _mm256_set1_ps(3),
           a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5), a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7),
           a8 = _mm256_set1_ps(8), a9 = _mm256_set1_ps(9);
    long rounds = 0;
    const double begin = now();
    double elapsed = 0;
    while (elapsed < j->seconds) {
        for (int n = 0; n < 100000; n++) {
            a0 = _mm256_fmadd_ps(a0, x, y); a1 = _mm256_fmadd_ps(a1, x, y); a2 = _mm256_fmadd_ps(a2, x, y);
            a3 = _mm256_fmadd_ps(a3, x, y); a4 = _mm256_fmadd_ps(a4, x, y); a5 = _mm256_fmadd_ps(a5, x, y);
            a6 = _mm256_fmadd_ps(a6, x, y); a7 = _mm256_fmadd_ps(a7, x, y); a8 = _mm256_fmadd_ps(a8, x, y);
            a9 = _mm256_fmadd_ps(a9, x, y);
            __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7),
                             "+x"(a8), "+x"(a9));
        }
        rounds += 100000;
        elapsed = now() - begin;
    }
    j->rate = rounds * 10 * 8.0 / elapsed * 1e-9;
    return NULL;
}

// A cache line handed back and forth between a thread on CPU 0 and one on CPU 1 (each waits for the other's write,
// then writes): the round trip in nanoseconds. Two cores that share an L3 pass a line in tens of nanoseconds; cores
// on different L3s (another CCD of an EPYC) or a host that has descheduled one vCPU take far longer, and so does
// every barrier and every activation one thread writes and the other reads.
typedef struct {
    int cpu, first;
    long trips;
    _Atomic long *line;
    pthread_barrier_t *start;
} pinger;

static void *ping(void *data) {
    pinger *p = data;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(p->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    pthread_barrier_wait(p->start);
    for (long i = p->first; i < 2 * p->trips; i += 2) {
        while (__atomic_load_n(p->line, __ATOMIC_ACQUIRE) != i) {}
        __atomic_store_n(p->line, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static double round_trip_ns(int other, long trips) {
    static _Alignas(64) _Atomic long line;
    line = 0;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    pinger a = {.cpu = 0, .first = 0, .trips = trips, .line = &line, .start = &start};
    pinger b = {.cpu = other, .first = 1, .trips = trips, .line = &line, .start = &start};
    pthread_t ta, tb;
    if (pthread_create(&ta, NULL, ping, &a) != 0 || pthread_create(&tb, NULL, ping, &b) != 0) return -1;
    const double begin = now();
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    return (now() - begin) / trips * 1e9;
}

int main(int argc, char **argv) {
    const double seconds = (argc > 1 ? atof(argv[1]) : 200) / 1000;
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (!(seconds > 0 && seconds <= 60) || online < 1) {
        fprintf(stderr, "usage: %s [MILLISECONDS, up to 60000]\n", argv[0]);
        return 2;
    }
    const int cpus = online > MAX_CPUS ? MAX_CPUS : (int)online;
    job alone = {.cpu = 0, .seconds = seconds};
    run(&alone);
    static job jobs[MAX_CPUS];
    static pthread_t threads[MAX_CPUS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)cpus);
    for (int c = 0; c < cpus; c++) {
        jobs[c] = (job){.cpu = c, .seconds = seconds, .start = &start};
        if (pthread_create(&threads[c], NULL, run, &jobs[c]) != 0) return 1;
    }
    double lowest = 1e30;
    for (int c = 0; c < cpus; c++) {
        pthread_join(threads[c], NULL);
        if (jobs[c].rate < lowest) lowest = jobs[c].rate;
    }
    if (alone.rate <= 0 || lowest <= 0) {
        fprintf(stderr, "could not pin a thread to each CPU\n");
        return 1;
    }
    printf("{\"alone_gfma\": %.1f, \"together_gfma\": [", alone.rate);
    for (int c = 0; c < cpus; c++) printf("%s%.1f", c ? ", " : "", jobs[c].rate);
    printf("], \"ratio\": %.2f", lowest / alone.rate);
    if (cpus > 1) printf(", \"round_trip_ns\": %.0f", round_trip_ns(1, 200000));
    printf("}\n");
    return 0;
}
