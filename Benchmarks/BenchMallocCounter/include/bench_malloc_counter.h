/*
 * bench_malloc_counter.h — counts calls to the C allocator in the benchmark
 * process (lwm2m-bench only; never linked into the hook).
 *
 * malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign are
 * defined by the benchmark executable and forward to glibc's __libc_*
 * entry points; a symbol the executable defines interposes on glibc's for
 * every library of the process, the Swift runtime included.
 */
#ifndef BENCH_MALLOC_COUNTER_H
#define BENCH_MALLOC_COUNTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Starts (1) or stops (0) counting; counting is off at start. */
void bench_malloc_counting(int on);

/** Allocating calls (malloc, calloc, realloc, *align*) counted so far. */
uint64_t bench_malloc_count(void);

/** free calls of a non-NULL pointer counted so far. */
uint64_t bench_free_count(void);

/** Bytes of heap in use (glibc mallinfo2().uordblks, main arena). */
uint64_t bench_heap_in_use(void);

/** Returns free heap memory to the kernel (glibc malloc_trim(0)). */
void bench_malloc_trim(void);

#ifdef __cplusplus
}
#endif

#endif
