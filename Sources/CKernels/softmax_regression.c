#include "softmax_regression.h"

#include <math.h>
#include <string.h>

// The logits of one row into `out` ([k]), then softmax in place (shifted by the largest for range); returns the
// log of the normaliser plus the shift, so that log p_j = logit_j - returned.
static double row_softmax(const double *row, int64_t d, int64_t k, const double *params, double *out) {
    double largest = -INFINITY;
    for (int64_t j = 0; j < k; j++) {
        const double *w = params + j * (d + 1);
        double sum = w[d];
        for (int64_t f = 0; f < d; f++) sum += w[f] * row[f];
        out[j] = sum;
        if (sum > largest) largest = sum;
    }
    double total = 0;
    for (int64_t j = 0; j < k; j++) total += exp(out[j] - largest);
    double log_normaliser = largest + log(total);
    for (int64_t j = 0; j < k; j++) out[j] = exp(out[j] - log_normaliser);
    return log_normaliser;
}

double resnet18_softmax_regression(const double *x, const int32_t *y, int64_t n, int64_t d, int64_t k,
                                   const double *params, double c, double *gradient, double *scratch) {
    double loss = 0;
    memset(gradient, 0, sizeof(double) * (size_t)(k * (d + 1)));
    for (int64_t i = 0; i < n; i++) {
        const double *row = x + i * d;
        double log_normaliser = row_softmax(row, d, k, params, scratch);
        int64_t target = y[i];
        const double *w = params + target * (d + 1);
        double logit = w[d];
        for (int64_t f = 0; f < d; f++) logit += w[f] * row[f];
        loss += log_normaliser - logit;
        // d/dlogit_j = p_j - [j == y]
        for (int64_t j = 0; j < k; j++) {
            double delta = c * (scratch[j] - (j == target ? 1.0 : 0.0));
            double *g = gradient + j * (d + 1);
            for (int64_t f = 0; f < d; f++) g[f] += delta * row[f];
            g[d] += delta;
        }
    }
    double penalty = 0;
    for (int64_t j = 0; j < k; j++) {
        const double *w = params + j * (d + 1);
        double *g = gradient + j * (d + 1);
        for (int64_t f = 0; f < d; f++) {
            penalty += w[f] * w[f];
            g[f] += w[f];
        }
    }
    return 0.5 * penalty + c * loss;
}

void resnet18_softmax_regression_predict(const double *x, int64_t n, int64_t d, int64_t k, const double *params,
                                         double *probabilities) {
    for (int64_t i = 0; i < n; i++) row_softmax(x + i * d, d, k, params, probabilities + i * k);
}
