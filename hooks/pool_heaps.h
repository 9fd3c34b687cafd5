/* The CPython side of xisan's pools (src/pool.h): one heap per block owner
 * (xh_block_owner: a legacy interpreter's blocks are the main
 * interpreter's heap's), and a per-thread memo of the calling thread's
 * owner and heap, valid while its thread state's interpreter and the
 * interpreters' generation are the ones it was filled for.  A heap is used
 * under its interpreter's GIL.
 *
 * Used by the benchmark build's pools layers (bench_layers.h) only so
 * far: a prototype of the design that would replace the chain over
 * pymalloc, tight enough that what it costs can be measured. */
#ifndef XH_POOL_HEAPS_H
#define XH_POOL_HEAPS_H

#include "pool.h"
#include "tag.h"
#include "thread.h"

typedef struct xh_pool_memo {
    void *interp; /* NULL: empty */
    uint32_t generation;
    uint32_t owner;       /* the thread's owner id */
    xs_pool_heap_t *heap; /* its block owner's heap; NULL: none (owner ids past the short word) */
    uint32_t word;        /* a new block's word: the short form, its site 0 */
} xh_pool_memo_t;

extern XS_TLS xh_pool_memo_t xh_pool_memo;
/* Fills the memo for thread state `ts` (may be NULL: no interpreter). */
xh_pool_memo_t *xh_pool_memo_fill(PyThreadState *ts);

/* The calling thread's memo, filled if need be. */
static inline xh_pool_memo_t *xh_pool_memo_get(void)
{
    PyThreadState *ts = xh_tstate();
    xh_pool_memo_t *m = &xh_pool_memo;
    if (XS_LIKELY(ts != NULL && ts->interp == m->interp &&
                  m->generation ==
                      atomic_load_explicit(&xs_interp_generation, memory_order_relaxed)))
        return m;
    return xh_pool_memo_fill(ts);
}

/* A block of `size` bytes from the calling thread's heap, or NULL (a size
 * past the pools', a thread without one): the chain's path instead. */
static inline void *xh_pool_heaps_alloc(size_t size)
{
    xh_pool_memo_t *m = xh_pool_memo_get();
    if (XS_UNLIKELY(m->heap == NULL))
        return NULL;
    return xs_pool_alloc(m->heap, size, m->word);
}

/* Frees pool block `p` of `pool`, its owner checked (the tags layer's free,
 * without a report: another interpreter's block is kept). */
static inline __attribute__((always_inline)) void xh_pool_heaps_free(xs_pool_t *pool, void *p)
{
    uint32_t i = xs_pool_find(pool, p);
    if (XS_UNLIKELY(i == UINT32_MAX))
        return; /* not a block handed out: dropped */
    xh_pool_memo_t *m = xh_pool_memo_get();
    uint32_t owner = xisan_word_owner(pool->words[i]);
    if (XS_UNLIKELY(owner != m->owner && !xh_only_main() &&
                    (m->heap == NULL || owner != m->heap->owner)))
        return;
    xs_pool_free_at(m->heap, pool, p, i);
}

#endif
