#include "tile_blocks.h"
#include "../CThreadBinding/include/openmp_runtime.h"

int resnet18_tile_block_rows(int tiles, int threads, int multiple, int limit) {
    int share = (tiles + threads - 1) / threads;
    share = (share + multiple - 1) / multiple * multiple;
    return share < limit ? share : limit;
}

typedef struct {
    void (*block)(const void *context, int thread, int first, int count);
    const void *context;
    int tiles, rows;
    int next_block;   // blocks handed out so far (atomic)
} schedule;

static void work(void *data) {
    schedule *s = data;
    const int thread = omp_get_thread_num();
    for (int first; (first = __atomic_fetch_add(&s->next_block, 1, __ATOMIC_RELAXED) * s->rows) < s->tiles;)
        s->block(s->context, thread, first, first + s->rows <= s->tiles ? s->rows : s->tiles - first);
}

void resnet18_run_tile_blocks(int tiles, int rows, unsigned threads,
                              void (*block)(const void *context, int thread, int first, int count), const void *context) {
    schedule s = { .block = block, .context = context, .tiles = tiles, .rows = rows };
    GOMP_parallel(work, &s, threads, 0);
}
