// The schedule the integer Winograd kernels (winograd_int8.c, winograd_s16.c) share: the batch's tiles are cut into
// blocks of `rows` tiles, and each thread of libgomp's team takes the next block when it is free, transforms it,
// multiplies it and transforms it back while it is in L2. Whichever thread is free takes the next block, so one
// vCPU losing time to its neighbours delays the others less than a fixed split would.
#ifndef RESNET18_TILE_BLOCKS_H
#define RESNET18_TILE_BLOCKS_H

#include <stddef.h>

static inline size_t resnet18_round_up_64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/// Tiles a block: a thread's share of `tiles`, rounded up to a multiple of `multiple` (the rows the matrix product
/// takes at a time), when that is below `limit` (small batches), else `limit`.
int resnet18_tile_block_rows(int tiles, int threads, int multiple, int limit);

/// Calls `block(context, thread, first, count)` for the blocks [first, first + count) of `rows` tiles that cover
/// [0, tiles), on a team of `threads` threads; `thread` is the caller's index in the team (for its part of the
/// scratchpad). Returns when every block is done.
void resnet18_run_tile_blocks(int tiles, int rows, unsigned threads,
                              void (*block)(const void *context, int thread, int first, int count), const void *context);

#endif
