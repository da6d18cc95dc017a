#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

// Debian's libdnnl is built on OpenMP (libgomp); its thread count is set through libgomp's calls, which
// CThreadBinding declares (openmp_runtime.h).
