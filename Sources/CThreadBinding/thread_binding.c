#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <stdatomic.h>
#include "openmp_runtime.h"
#include "thread_binding.h"

struct binding {
    int cpus[CPU_SETSIZE];
    atomic_int bound;
};

static void bind_this_thread(void *data) {
    struct binding *binding = data;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(binding->cpus[omp_get_thread_num()], &set);
    if (sched_setaffinity(0, sizeof set, &set) == 0) atomic_fetch_add(&binding->bound, 1);
}

int resnet18_bind_openmp_team(int threads, int first) {
    cpu_set_t allowed;
    if (threads < 2 || threads > CPU_SETSIZE || first < 0) return 0;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
    int cpus[CPU_SETSIZE], available = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &allowed)) cpus[available++] = cpu;
    }
    if (available < threads) return 0;
    struct binding binding = { .bound = 0 };
    for (int k = 0; k < threads; k++) binding.cpus[k] = cpus[(first + k) % available];
    omp_set_num_threads(threads);
    GOMP_parallel(bind_this_thread, &binding, (unsigned)threads, 0);
    return atomic_load(&binding.bound);
}

void resnet18_name_this_thread(const char *name) {
    char kept[16];
    strncpy(kept, name, sizeof kept - 1);
    kept[sizeof kept - 1] = 0;
    pthread_setname_np(pthread_self(), kept);
}
