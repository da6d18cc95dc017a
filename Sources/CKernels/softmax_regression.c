#include "softmax_regression.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// libgomp's entry points, called directly as the other kernels do (no -fopenmp needed to build).
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_max_threads(void);

// Sums may be reordered (vectorised): the objective is a sum of thousands of terms, its rounding is not an answer.
#pragma clang fp reassociate(on)

// The logits of one row into `out` ([k]), then softmax in place (shifted by the largest for range); returns the
// log of the normaliser, so that log p_j = logit_j - returned.
__attribute__((target_clones("avx2", "default")))
static double row_softmax(const float *row, int64_t d, int64_t k, const float *params, double *out) {
    double largest = -INFINITY;
    for (int64_t j = 0; j < k; j++) {
        const float *w = params + j * (d + 1);
        float sum = 0;
        for (int64_t f = 0; f < d; f++) sum += w[f] * row[f];
        sum += w[d];
        out[j] = sum;
        if (sum > largest) largest = sum;
    }
    double total = 0;
    for (int64_t j = 0; j < k; j++) total += exp(out[j] - largest);
    double log_normaliser = largest + log(total);
    return log_normaliser;
}

__attribute__((target_clones("avx2", "default")))
static void accumulate(float *g, const float *row, int64_t d, float delta) {
    for (int64_t f = 0; f < d; f++) g[f] += delta * row[f];
    g[d] += delta;
}

typedef struct {
    const float *x;
    const int32_t *y;
    int64_t n, d, k;
    const float *params;
    double c;
    float *gradients;   // [threads][k][d + 1]
    double *losses;     // [threads]
    int threads;
} job;

static void work(void *data) {
    job *j = data;
    int thread = omp_get_thread_num();
    int64_t first = j->n * thread / j->threads, last = j->n * (thread + 1) / j->threads;
    int64_t width = j->k * (j->d + 1);
    float *gradient = j->gradients + (size_t)thread * (size_t)width;
    memset(gradient, 0, sizeof(float) * (size_t)width);
    double logits[256];
    double loss = 0;
    for (int64_t i = first; i < last; i++) {
        const float *row = j->x + i * j->d;
        double log_normaliser = row_softmax(row, j->d, j->k, j->params, logits);
        int64_t target = j->y[i];
        loss += log_normaliser - logits[target];
        // d/dlogit_j = p_j - [j == y]
        for (int64_t m = 0; m < j->k; m++) {
            double delta = j->c * (exp(logits[m] - log_normaliser) - (m == target ? 1.0 : 0.0));
            accumulate(gradient + m * (j->d + 1), row, j->d, (float)delta);
        }
    }
    j->losses[thread] = loss;
}

double resnet18_softmax_regression(const float *x, const int32_t *y, int64_t n, int64_t d, int64_t k,
                                   const double *params, double c, double *gradient, float *scratch) {
    if (k > 256) return NAN;
    // The products in float (eight to an AVX2 register), the sums of the objective and of the threads' gradients
    // in double.
    int64_t size = k * (d + 1);
    for (int64_t p = 0; p < size; p++) scratch[p] = (float)params[p];
    int threads = omp_get_max_threads();
    if (threads > 64) threads = 64;
    if (n < 64 * threads) threads = 1;  // too little work to share
    int64_t width = k * (d + 1);
    float *gradients = malloc(sizeof(float) * (size_t)width * (size_t)threads);
    double losses[64];
    job j = {x, y, n, d, k, scratch, c, gradients, losses, threads};
    if (threads > 1) {
        GOMP_parallel(work, &j, (unsigned)threads, 0);
    } else {
        work(&j);
    }
    double loss = 0;
    for (int64_t p = 0; p < width; p++) gradient[p] = gradients[p];
    for (int t = 1; t < threads; t++) {
        const float *other = gradients + (size_t)t * (size_t)width;
        for (int64_t p = 0; p < width; p++) gradient[p] += other[p];
    }
    for (int t = 0; t < threads; t++) loss += losses[t];
    free(gradients);
    double penalty = 0;
    for (int64_t m = 0; m < k; m++) {
        const double *w = params + m * (d + 1);
        double *g = gradient + m * (d + 1);
        for (int64_t f = 0; f < d; f++) {
            penalty += w[f] * w[f];
            g[f] += w[f];
        }
    }
    return 0.5 * penalty + c * loss;
}

void resnet18_softmax_regression_predict(const float *x, int64_t n, int64_t d, int64_t k, const double *params,
                                         double *probabilities) {
    int64_t size = k * (d + 1);
    float *own = malloc(sizeof(float) * (size_t)size);
    for (int64_t p = 0; p < size; p++) own[p] = (float)params[p];
    for (int64_t i = 0; i < n; i++) {
        double *out = probabilities + i * k;
        double log_normaliser = row_softmax(x + i * d, d, k, own, out);
        for (int64_t m = 0; m < k; m++) out[m] = exp(out[m] - log_normaliser);
    }
    free(own);
}
