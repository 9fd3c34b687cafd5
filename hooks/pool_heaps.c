/* Heaps by block owner, and the per-thread memo (pool_heaps.h). */
#include "pool_heaps.h"

#include <pthread.h>

XS_TLS xh_pool_memo_t xh_pool_memo;

/* Owner ids past the table, like those past the short word, take the
 * chain's path. */
#define HEAPS_MAX (XISAN_SHORT_OWNER_MASK + 1)
static xs_pool_heap_t *_Atomic heaps[HEAPS_MAX];
static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;

static xs_pool_heap_t *heap_of(uint32_t owner)
{
    if (owner >= HEAPS_MAX)
        return NULL;
    xs_pool_heap_t *heap = atomic_load(&heaps[owner]);
    if (heap)
        return heap;
    pthread_mutex_lock(&heaps_lock);
    heap = atomic_load(&heaps[owner]);
    if (heap == NULL) {
        heap = xs_pool_heap_new(owner);
        atomic_store(&heaps[owner], heap);
    }
    pthread_mutex_unlock(&heaps_lock);
    return heap;
}

xh_pool_memo_t *xh_pool_memo_fill(PyThreadState *ts)
{
    xh_pool_memo_t *m = &xh_pool_memo;
    /* the generation first: an interpreter that ends after this read
     * leaves the memo stale, never wrong */
    uint32_t generation = atomic_load(&xs_interp_generation);
    uint32_t owner = xh_owner_of(ts);
    m->interp = NULL;
    m->owner = owner;
    m->heap = owner == XISAN_UNOWNED ? NULL : heap_of(xh_block_owner(owner));
    m->word = m->heap ? m->heap->owner | 255u << XISAN_SHORT_SIZE_SHIFT : 0;
    if (ts != NULL) {
        m->generation = generation;
        m->interp = ts->interp;
    }
    return m;
}
