#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

// Debian's libdnnl is built on OpenMP (libgomp); the thread count is set through it.
// omp.h lives in GCC's private include folder, so the two calls needed are declared here.
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);
