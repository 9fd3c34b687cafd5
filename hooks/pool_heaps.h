/* The CPython side of xisan's pools (src/pool.h): one heap per block owner
 * (xh_block_owner: a legacy interpreter's blocks are the main
 * interpreter's heap's), used under that owner's GIL, and a per-thread
 * memo of the calling thread's owner and heap, valid while its thread
 * state's interpreter and the interpreters' generation are the ones it was
 * filled for (xh_pool_heaps_end moves the generation on when an
 * interpreter has ended: CPython may give its address to the next one).  Owner ids past the short word's have no heap: their
 * blocks take the chain's headers.  An isolated interpreter's heap is
 * abandoned when Py_EndInterpreter returns: the blocks it still holds stay
 * (the survivors), the rest of its pools go back for other heaps. */
#ifndef XH_POOL_HEAPS_H
#define XH_POOL_HEAPS_H

#include "pool.h"
#include "tag.h"
#include "thread.h"

typedef struct xh_pool_memo {
    void *interp; /* NULL: empty */
    uint32_t generation;
    uint32_t owner;       /* the thread's owner id */
    uint32_t block_owner; /* xh_block_owner(owner) */
    xs_pool_heap_t *heap; /* the block owner's heap; NULL: none */
} xh_pool_memo_t;

extern XS_TLS xh_pool_memo_t xh_pool_memo;
/* Fills the memo for thread state `ts` (may be NULL: no interpreter). */
xh_pool_memo_t *xh_pool_memo_fill(PyThreadState *ts);

/* Is the calling thread's memo `m` filled for thread state `ts`? */
static inline bool xh_pool_memo_holds(const xh_pool_memo_t *m, const PyThreadState *ts)
{
    return ts != NULL && ts->interp == m->interp &&
           m->generation == atomic_load_explicit(&xs_interp_generation, memory_order_relaxed);
}

/* The calling thread's memo, filled if need be; `*tsp` gets its thread
 * state. */
static inline xh_pool_memo_t *xh_pool_memo_get(PyThreadState **tsp)
{
    PyThreadState *ts = xh_tstate();
    *tsp = ts;
    xh_pool_memo_t *m = &xh_pool_memo;
    if (XS_LIKELY(xh_pool_memo_holds(m, ts)))
        return m;
    return xh_pool_memo_fill(ts);
}

/* Frees pool block `block` (index `i` of `pool`) from the calling thread,
 * whose memo is `m`: to its heap, or back to the block's own. */
static inline void xh_pool_heaps_free(xh_pool_memo_t *m, xs_pool_t *pool, void *block, uint32_t i)
{
    if (m->heap)
        xs_pool_free_at(m->heap, pool, block, i);
    else
        xs_pool_free_foreign(pool, block);
}

/* Py_EndInterpreter of owner `owner` returned (its heap, unless shared). */
void xh_pool_heaps_end(uint32_t owner);
/* Around fork(). */
void xh_pool_heaps_fork_prepare(void);
void xh_pool_heaps_fork_parent(void);
void xh_pool_heaps_fork_child(void);

#endif
