#include "int8_dots.h"

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);

typedef struct {
    const int8_t *matrix;
    int64_t rows, width;
    const int8_t *query;
    int32_t *out;
    int threads;
} job;

// Plain loops that the compiler vectorises (AVX2: 16-bit products summed in 32 bits, exact for 512 values).
__attribute__((target_clones("avx2", "default")))
static void dots(const int8_t *matrix, int64_t first, int64_t last, int64_t width, const int8_t *query, int32_t *out) {
    for (int64_t r = first; r < last; r++) {
        const int8_t *row = matrix + r * width;
        int32_t sum = 0;
        for (int64_t f = 0; f < width; f++) sum += (int16_t)row[f] * (int16_t)query[f];
        out[r] = sum;
    }
}

static void work(void *data) {
    job *j = data;
    int thread = omp_get_thread_num();
    int64_t first = j->rows * thread / j->threads, last = j->rows * (thread + 1) / j->threads;
    dots(j->matrix, first, last, j->width, j->query, j->out);
}

void resnet18_int8_dots(const int8_t *matrix, int64_t rows, int64_t width, const int8_t *query, int32_t *out, int threads) {
    if (threads < 1 || rows < 4096) threads = 1;
    job j = {matrix, rows, width, query, out, threads};
    if (threads == 1) {
        dots(matrix, 0, rows, width, query, out);
    } else {
        GOMP_parallel(work, &j, (unsigned)threads, 0);
    }
}
