#ifndef RESNET18_SOFTMAX_REGRESSION_H
#define RESNET18_SOFTMAX_REGRESSION_H

#include <stdint.h>

/// The objective of multinomial logistic regression with an L2 penalty on the weights (not the bias), as
/// scikit-learn's LogisticRegression minimises it:
///
///     0.5 * ||W||^2 + c * sum_i -log softmax(W x_i + b)[y_i]
///
/// `x` is [n][d] row-major (float: the features are), `y` [n] class indices in 0..<k, `params` [k][d + 1] (each
/// class's d weights, then its bias). Returns the objective and writes its gradient with respect to `params` into
/// `gradient` ([k][d + 1]). `scratch` holds k * (d + 1) floats. Runs on libgomp's threads when n is large enough.
double resnet18_softmax_regression(const float *x, const int32_t *y, int64_t n, int64_t d, int64_t k,
                                   const double *params, double c, double *gradient, float *scratch);

/// Each row's class probabilities, softmax(W x_i + b): `probabilities` is [n][k].
void resnet18_softmax_regression_predict(const float *x, int64_t n, int64_t d, int64_t k, const double *params,
                                         double *probabilities);

#endif
