// libgomp's entry points, declared once for the project's C code (CThreadBinding, and CKernels through a relative
// include): omp.h lives in GCC's private include folder, which clang does not search. Debian's oneDNN runs on
// libgomp, so these reach the very team, and the very per-thread thread count, that oneDNN uses.
#ifndef RESNET18_OPENMP_RUNTIME_H
#define RESNET18_OPENMP_RUNTIME_H

/// Runs `fn(data)` on a team of `num_threads` threads, the caller being thread 0 (what `#pragma omp parallel`
/// compiles to in GCC).
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
/// Waits for every thread of the current team (`#pragma omp barrier`).
void GOMP_barrier(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
/// The calling thread's team size for its next parallel regions: an OpenMP setting per thread, not per process.
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);

#endif
