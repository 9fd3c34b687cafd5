/* Heaps by block owner, and the per-thread memo (pool_heaps.h). */
#include "pool_heaps.h"

#include "alloc_hooks.h"
#include "lifecycle.h"

#include <pthread.h>

XS_TLS xh_pool_memo_t xh_pool_memo;

/* Owner ids past the table, like those past the short word, take the
 * chain's path. */
#define HEAPS_MAX (XISAN_SHORT_OWNER_MASK + 1)
static xs_pool_heap_t *_Atomic heaps[HEAPS_MAX];
static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;

static xs_pool_heap_t *heap_of(uint32_t owner)
{
    if (owner >= HEAPS_MAX || !atomic_load_explicit(&xs_tag_pool_on, memory_order_relaxed))
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
    /* Whose heap a block goes to (xh_block_owner) is known once the
     * interpreter's configuration is: the main interpreter's at once (its
     * own), a sub-interpreter's at its first audit event (before that,
     * CPython may not have set its flags yet).  Until then, its blocks take
     * the chain and the memo is not kept. */
    bool known = owner != XISAN_UNOWNED && (ts->interp == PyInterpreterState_Main() ||
                                            xs_interp_config(owner) != NULL);
    m->interp = NULL;
    m->owner = owner;
    m->block_owner = owner == XISAN_UNOWNED ? XISAN_UNOWNED : xh_block_owner(owner);
    m->heap = known ? heap_of(m->block_owner) : NULL;
    if (m->heap) /* pool blocks never pass plan_for */
        xh_alloc_hooks_mark_used();
    /* Kept while the interpreter ends inside Py_EndInterpreter on this
     * thread too: xh_pool_heaps_end moves the generation on when it
     * returns, before another interpreter can have its address.  An
     * interpreter ended another way (PyInterpreterState_Clear and _Delete)
     * gets no such mark: its memo is never kept once it began to end. */
    if (ts != NULL && known && (!xs_interp_ending(owner) || xh_lifecycle_ending_here(owner))) {
        m->generation = generation;
        m->interp = ts->interp;
    }
    return m;
}

void xh_pool_heaps_end(uint32_t owner)
{
    /* every memo of it goes stale (its thread states are gone; the next
     * interpreter may have its address) */
    atomic_fetch_add_explicit(&xs_interp_generation, 1, memory_order_release);
    xh_pool_memo.interp = NULL;
    /* a legacy interpreter has no heap of its own (its blocks are the
     * main interpreter's), the main one never ends this way */
    if (owner == XISAN_UNOWNED || owner >= HEAPS_MAX ||
        owner == atomic_load_explicit(&xh_heap_owner, memory_order_relaxed))
        return;
    pthread_mutex_lock(&heaps_lock);
    xs_pool_heap_t *heap = atomic_exchange(&heaps[owner], NULL);
    pthread_mutex_unlock(&heaps_lock);
    if (heap)
        xs_pool_heap_abandon(heap);
}

void xh_pool_heaps_fork_prepare(void)
{
    pthread_mutex_lock(&heaps_lock);
}

void xh_pool_heaps_fork_parent(void)
{
    pthread_mutex_unlock(&heaps_lock);
}

void xh_pool_heaps_fork_child(void)
{
    pthread_mutex_init(&heaps_lock, NULL);
}
