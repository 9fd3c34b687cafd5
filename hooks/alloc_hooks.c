/* Allocator hooks for PYMEM_DOMAIN_OBJ and PYMEM_DOMAIN_MEM.  Every block
 * gets a tag naming the interpreter whose thread allocated it.  Over
 * pymalloc, blocks of up to 512 bytes come from xisan's own pools, one heap
 * per interpreter, their tags in the pools (pool_heaps.h).  Other blocks
 * come from the allocator beneath, chained: a header (16 bytes, or 8 where
 * that saves a size class), or for blocks of 25 to 48 bytes that any
 * header would move up a size class, a slot in the table beside the heap
 * (src/tag.h).  Frees and reallocs check the tag.  In continue mode a
 * block whose free is reported is quarantined: never handed to an
 * allocator that does not own it. */
#include "alloc_hooks.h"

#include "bench_layers.h"
#include "check.h"
#include "collect.h"
#include "debug_layer.h"
#include "describe_block.h"
#include "object_check.h"
#include "pool_heaps.h"
#include "quarantine.h"
#include "released_memory.h"
#include "runtime.h"
#include "runtime_code.h"
#include "short_headers.h"
#include "site_cache.h"
#include "tag.h"
#include "thread.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct chain {
    PyMemAllocatorEx next; /* the allocator beneath the hooks */
    PyMemAllocatorDomain domain;
    /* Beneath CPython's debug hooks: their slot naming the allocator
     * beneath them (now the hooks), and their context; NULL: on top. */
    PyMemAllocatorEx *beneath;
    void *debug_ctx;
    /* On top: the domain's slot in _PyRuntime (find_slot), or NULL. */
    PyMemAllocatorEx *top_slot;
    /* Objects get their site when they are created (reftrace.c), which
     * also covers free-list reuse; only raw memory blocks take it here. */
    bool capture_sites;
    /* The allocator beneath is pymalloc, with its 16-byte size classes:
     * blocks may take the slot form (xs_tag_slot_fits). */
    bool slots;
} chain_t;

static chain_t chain_obj = {.domain = PYMEM_DOMAIN_OBJ, .capture_sites = false};
static chain_t chain_mem = {.domain = PYMEM_DOMAIN_MEM, .capture_sites = true};
/* Set by the first block the hooks allocate; from then on the chain must
 * never change under those blocks. */
static _Atomic bool hooks_used;

/* The site of a raw memory block (objects take theirs when created). */
static inline uint32_t raw_site(const chain_t *c, PyThreadState *ts, size_t size, uintptr_t caller)
{
    if (!c->capture_sites || xs_in_runtime)
        return 0;
    /* size classes, so var-sized objects do not each make a site */
    uintptr_t size_class = size < 512 ? (size + 15) >> 4 : 64 + (uintptr_t)__builtin_clzl(size);
    return xh_alloc_site(ts, caller, size_class);
}

/* What a new block's tag will say, and its header's size (XS_SLOT_FORM:
 * none, the tag in the block's slot): the form depends on what the block
 * holds (short_headers.h), its size, the owner ids (the block's, and the
 * calling thread's, which a later object creation may give it) and the
 * site. */
typedef struct plan {
    uint32_t owner, site;
    size_t header;
} plan_t;

static inline __attribute__((always_inline)) plan_t
plan_for(const chain_t *c, size_t size, uintptr_t caller, uint32_t current, uint32_t site)
{
    if (XS_UNLIKELY(!atomic_load_explicit(&hooks_used, memory_order_relaxed)))
        atomic_store(&hooks_used, true);
    plan_t p = {.owner = xh_block_owner(current), .site = site, .header = XISAN_LONG_HEADER};
    uint32_t owners = p.owner > current ? p.owner : current;
    if (c->domain == PYMEM_DOMAIN_OBJ) {
        const PyTypeObject *tp = xh_take_alloc_type();
        if (xs_tag_header_for(size, owners, p.site) == XISAN_SHORT_HEADER &&
            xh_short_fits(tp, caller))
            p.header = XISAN_SHORT_HEADER;
    }
    if (p.header == XISAN_LONG_HEADER && c->slots && xs_tag_slot_fits(size, owners, p.site))
        p.header = XS_SLOT_FORM;
    return p;
}

/* A raw memory block's plan, with its site (objects take theirs when
 * created, reftrace.c): out of line, as a site cache miss captures a
 * stack. */
static __attribute__((noinline)) plan_t plan_raw(const chain_t *c, size_t size, uintptr_t caller)
{
    PyThreadState *ts = xh_tstate();
    uint32_t current = xh_owner_of(ts);
    return plan_for(c, size, caller, current, raw_site(c, ts, size, caller));
}

/* The plan of a block: an object's inline, no call on its common path. */
static inline plan_t plan_block(const chain_t *c, size_t size, uintptr_t caller)
{
    if (c->capture_sites)
        return plan_raw(c, size, caller);
    PyThreadState *ts;
    uint32_t current = xh_owner_cached(&ts);
    if (XS_UNLIKELY(current == XH_OWNER_ASK))
        current = xh_current();
    return plan_for(c, size, caller, current, 0);
}

/* A slot-form block whose slot cannot be (no room for another leaf of
 * the table): its contents move to a block with the long header. */
static __attribute__((noinline)) void *retag_long(chain_t *c, void *raw, size_t size, plan_t p)
{
    void *moved = c->next.malloc(c->next.ctx, size + XISAN_LONG_HEADER);
    void *user = moved ? xs_tag_block(moved, XISAN_LONG_HEADER, size, p.owner, p.site) : NULL;
    if (user)
        memcpy(user, raw, size);
    c->next.free(c->next.ctx, raw);
    return user;
}

/* Tags a new block as planned; `raw` is what the allocator beneath gave. */
static inline __attribute__((always_inline)) void *tag_new(chain_t *c, void *raw, size_t size,
                                                          plan_t p)
{
    if (raw == NULL)
        return NULL;
    if (p.header != XS_SLOT_FORM)
        return xs_tag_block(raw, p.header, size, p.owner, p.site);
    xs_header_t *slot = xs_tag_slot_make(raw);
    if (XS_UNLIKELY(slot == NULL))
        return retag_long(c, raw, size, p);
    return xs_tag_slot_block(slot, raw, size, p.owner, p.site);
}

/* A raw memory block from the pools, its site captured (out of line: a
 * site cache miss captures a stack); NULL: the chain's instead. */
static __attribute__((noinline)) void *pool_raw(const chain_t *c, xh_pool_memo_t *m,
                                                PyThreadState *ts, size_t size, uintptr_t caller)
{
    uint32_t site = raw_site(c, ts, size, caller);
    if (site >= XISAN_SHORT_SITE_LIMIT)
        return NULL;
    return xs_pool_alloc(m->heap, size, xs_pool_word_for(size, m->block_owner, site));
}

/* Do the pools serve a block of `size` bytes (1 to 512, pools on)? */
static inline bool pools_serve(size_t size)
{
    return atomic_load_explicit(&xs_tag_pool_on, memory_order_relaxed) &&
           size - 1 < XS_POOL_MAX_BLOCK;
}

/* A block of up to 512 bytes from the calling thread's heap, or NULL (a
 * larger one, a thread without a heap, no pools): the chain's instead.
 * An object's site is stamped when it is created (reftrace.c). */
static inline __attribute__((always_inline)) void *pool_alloc(const chain_t *c, size_t size,
                                                              uintptr_t caller)
{
    if (!pools_serve(size))
        return NULL;
    PyThreadState *ts;
    xh_pool_memo_t *m = xh_pool_memo_get(&ts);
    if (XS_UNLIKELY(m->heap == NULL))
        return NULL;
    if (c->capture_sites)
        return pool_raw(c, m, ts, size, caller);
    (void)xh_take_alloc_type(); /* this block's, which needs no header */
    return xs_pool_alloc(m->heap, size, xs_pool_word_for(size, m->block_owner, 0));
}

/* Every malloc but the common one below, from the top. */
static __attribute__((noinline)) void *malloc_slow(chain_t *c, size_t size, uintptr_t caller)
{
    void *block = pool_alloc(c, size, caller);
    if (XS_LIKELY(block != NULL))
        return block;
    if (size > (size_t)PY_SSIZE_T_MAX - XISAN_LONG_HEADER)
        return NULL;
    plan_t p = plan_block(c, size, caller);
    return tag_new(c, c->next.malloc(c->next.ctx, size + p.header), size, p);
}

/* The common malloc: an object-domain block of up to 512 bytes from the
 * calling thread's heap, whose memo is filled, from a pool with a free
 * block.  Every call in it is a tail call, so it saves no registers;
 * anything else is malloc_slow's (which tries the pools again). */
static void *hook_malloc(void *ctx, size_t size)
{
    chain_t *c = ctx;
    if (xh_bench_layer == XH_LAYER_PASSTHROUGH)
        return c->next.malloc(c->next.ctx, size);
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    xh_pool_memo_t *m = &xh_pool_memo;
    if (XS_UNLIKELY(c->capture_sites || !pools_serve(size) ||
                    !xh_pool_memo_holds(m, xh_tstate_direct()) || m->heap == NULL))
        return malloc_slow(c, size, caller);
    xs_pool_t *pool = m->heap->avail[(size - 1) >> 4];
    void *block = pool->free;
    if (XS_UNLIKELY(block == NULL))
        return malloc_slow(c, size, caller);
    (void)xh_take_alloc_type(); /* this block's, which needs no header */
    return xs_pool_take(pool, block, xs_pool_word_for(size, m->block_owner, 0));
}

static void *hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
    chain_t *c = ctx;
    if (xh_bench_layer == XH_LAYER_PASSTHROUGH)
        return c->next.calloc(c->next.ctx, nelem, elsize);
    if (elsize != 0 && nelem > ((size_t)PY_SSIZE_T_MAX - XISAN_LONG_HEADER) / elsize)
        return NULL;
    size_t size = nelem * elsize;
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    void *block = pool_alloc(c, size, caller);
    if (block)
        return memset(block, 0, size);
    plan_t p = plan_block(c, size, caller);
    return tag_new(c, c->next.calloc(c->next.ctx, 1, size + p.header), size, p);
}

typedef enum verdict { FREE_OK, FREE_REPORT, FREE_QUARANTINE } verdict_t;

/* May the calling thread hand this block back to its allocator?  Blocks
 * whose misdirected end was reported already (at dealloc) are quarantined
 * without a second report. */
static inline verdict_t free_verdict(const xs_header_t *h, uint32_t *current)
{
    uint32_t word = h->word;
    if (XS_UNLIKELY(word & XISAN_OWNER_QUARANTINE))
        return FREE_QUARANTINE;
    if (xs_in_runtime)
        return FREE_OK;
    *current = xh_owner_of(xh_tstate());
    if (XS_LIKELY(xs_owner_allows(word, *current)))
        return FREE_OK;
    /* interpreters sharing one allocator free each other's blocks into it */
    return xh_heap_shared(xisan_word_owner(word), *current) ? FREE_OK : FREE_REPORT;
}

static void report_block(void *user, uint32_t current, xisan_access_t access, const char *note)
{
    xs_header_t *h = xs_tagged_header(user);
    char type[96];
    uintptr_t address = (uintptr_t)user;
    bool never_freed;
    xs_in_runtime++;
    xh_guess_object(user, xs_tag_size(h), NULL, 0, false, type, sizeof(type), &address,
                    &never_freed);
    xs_in_runtime--;
    xs_touch_t t = {
        .kind = xs_classify(xs_tag_owner(h), access),
        .access = access,
        .user = user,
        .object_address = address,
        .object_type = type,
        .owner = xs_tag_owner(h),
        .current = current,
        .note = note,
    };
    xs_report_touch(&t);
}

/* A free the checks did not allow: reported (FREE_REPORT) and the block
 * quarantined, or already quarantined; either way it stays allocated. */
static void free_refused(void *p, xs_header_t *h, verdict_t v, uint32_t current)
{
    if (v == FREE_REPORT) {
        report_block(p, current, XISAN_ACCESS_FREE,
                     "the block was quarantined: kept allocated, not freed by the wrong allocator");
        xs_tag_quarantine(h);
    }
    xs_quarantine_add(xs_tag_size(h));
}

/* Every free that is not the common case below: a block that is not
 * ours, a thread whose owner the cache does not hold, another owner's
 * block, a quarantined one, an ending interpreter's. */
static __attribute__((noinline)) void free_slow(chain_t *c, void *p)
{
    xs_header_t *h = xs_chain_header(p);
    if (h == NULL) { /* not ours: allocated before the hooks were in place */
        c->next.free(c->next.ctx, p);
        return;
    }
    uint32_t current = XISAN_UNOWNED;
    verdict_t v = free_verdict(h, &current);
    if (XS_LIKELY(v == FREE_OK)) {
        /* small blocks sit in arenas, recorded when released */
        if (xh_records_releases(xs_tag_owner(h)) && xs_tag_size(h) > 512)
            xh_released_raw(p, h);
        h->magic = 0;
        c->next.free(c->next.ctx, xs_tag_raw(h, p));
        return;
    }
    free_refused(p, h, v, current);
}

/* Records a raw memory block of an ending interpreter freed from the
 * pools, which are never given back as pymalloc's arenas are (an object's
 * block was recorded, with its type, when the object was deallocated). */
static inline void pool_released(const chain_t *c, void *p, const xs_header_t *h)
{
    if (c->capture_sites && xh_records_releases(xs_tag_owner(h)))
        xh_released_raw(p, h);
}

/* A pool block's free that is not the common case below: another
 * owner's block, a quarantined one, an ending interpreter's, a thread
 * without a heap or whose memo does not hold (filled here). */
static __attribute__((noinline)) void pool_free_slow(const chain_t *c, xs_pool_t *pool, void *p,
                                                     uint32_t i)
{
    xs_header_t *h = xs_pool_word_header(&pool->words[i]);
    uint32_t current = XISAN_UNOWNED;
    verdict_t v = free_verdict(h, &current);
    if (XS_LIKELY(v == FREE_OK)) {
        pool_released(c, p, h);
        PyThreadState *ts;
        xh_pool_heaps_free(xh_pool_memo_get(&ts), pool, p, i);
        return;
    }
    free_refused(p, h, v, current);
}

/* A pool block's free; an address in a pool that is no block handed out
 * (freed twice, say) is left as it is. */
static inline __attribute__((always_inline)) void pool_free(const chain_t *c, xs_pool_t *pool,
                                                            void *p)
{
    uint32_t i = xs_pool_find(pool, p);
    if (XS_UNLIKELY(i == UINT32_MAX))
        return;
    uint32_t word = pool->words[i];
    uint32_t owner = xisan_word_owner(word);
    xh_pool_memo_t *m = &xh_pool_memo; /* not filled here: that takes a call */
    if (XS_UNLIKELY((word & XISAN_OWNER_QUARANTINE) || !xh_pool_memo_holds(m, xh_tstate_direct()) ||
                    m->heap == NULL ||
                    (!xh_only_main() && (owner != m->owner || xs_interp_ending(owner)))))
        return pool_free_slow(c, pool, p, i);
    xs_pool_free_at(m->heap, pool, p, i);
}

/* The common free: a block of the calling thread's interpreter, which is
 * not ending, freed by that thread (any block, while the main interpreter
 * is the only one there has been: xh_only_main).  Every call in it is a
 * tail call, so it needs no frame; anything else is free_slow's. */
static void hook_free(void *ctx, void *p)
{
    chain_t *c = ctx;
    if (xh_bench_layer == XH_LAYER_PASSTHROUGH)
        return c->next.free(c->next.ctx, p);
    if (p == NULL)
        return;
    xs_pool_t *pool = xs_pool_of(p);
    if (pool)
        return pool_free(c, pool, p);
    xs_header_t *h = xs_chain_header(p);
    if (XS_UNLIKELY(h == NULL))
        return free_slow(c, p);
    uint32_t word = h->word;
    uint32_t owner = xisan_word_owner(word);
    PyThreadState *ts;
    if (XS_UNLIKELY((word & XISAN_OWNER_QUARANTINE) ||
                    (!xh_only_main() &&
                     (owner != xh_owner_cached(&ts) || xs_interp_ending(owner)))))
        return free_slow(c, p);
    h->magic = 0;
    c->next.free(c->next.ctx, xs_tag_raw(h, p));
}

/* The chain's plan for a realloc's block of `size` bytes, its tag saying
 * `saved`'s owner word (flags and owner id) and site; `form_of` is the old
 * block's tag.  The contents stay what they were: a block known to fit the
 * short form still does, any other keeps the long one; the slot form fits
 * any contents. */
static plan_t realloc_plan(const chain_t *c, size_t size, xs_block_t saved,
                           const xs_header_t *form_of, uint32_t owners)
{
    plan_t plan = {.owner = saved.owner & ~XISAN_WORD_LONG, .site = saved.site,
                   .header = XISAN_LONG_HEADER};
    if (!xs_tag_is_slot(form_of) && !xs_tag_is_long(form_of) && !xs_tag_is_pool(form_of))
        plan.header = xs_tag_header_for(size, owners, saved.site);
    if (plan.header == XISAN_LONG_HEADER && c->slots && xs_tag_slot_fits(size, owners, saved.site))
        plan.header = XS_SLOT_FORM;
    return plan;
}

/* A new block for a realloc (realloc_plan's arguments): from the pools
 * where the block fits them, else the chain's as planned. */
static void *realloc_fresh(chain_t *c, size_t size, xs_block_t saved, const xs_header_t *form_of,
                           uint32_t owners)
{
    plan_t plan = realloc_plan(c, size, saved, form_of, owners);
    if (size - 1 < XS_POOL_MAX_BLOCK && owners <= XISAN_SHORT_OWNER_MASK &&
        saved.site < XISAN_SHORT_SITE_LIMIT &&
        atomic_load_explicit(&xs_tag_pool_on, memory_order_relaxed)) {
        PyThreadState *ts;
        xh_pool_memo_t *m = xh_pool_memo_get(&ts);
        void *block =
            m->heap ? xs_pool_alloc(m->heap, size, xs_pool_word_for(size, plan.owner, plan.site))
                    : NULL;
        if (block)
            return block;
    }
    return tag_new(c, c->next.malloc(c->next.ctx, size + plan.header), size, plan);
}

/* A realloc the checks of block `p` (tag `h`, in `pool` or none) allow: in
 * place where its size class stays (a pool block) or the allocator
 * beneath can (a header of the form it keeps), else a new block, the old
 * one freed. */
static void *realloc_allowed(chain_t *c, xs_pool_t *pool, void *p, xs_header_t *h, size_t size,
                             uint32_t current)
{
    xs_block_t saved = xs_tag_read(h);
    uint32_t owner = xisan_word_owner(saved.owner);
    uint32_t owners = owner > current ? owner : current;
    if (pool && size - 1 < pool->block_size && size + 15 >= pool->block_size) {
        h->word = xs_pool_word_for(size, h->word, saved.site) | XS_POOL_LIVE;
        return p;
    }
    if (pool == NULL) {
        plan_t plan = realloc_plan(c, size, saved, h, owners);
        if (plan.header != XS_SLOT_FORM && plan.header == xs_tag_header_size(h)) {
            uint32_t magic = h->magic;
            h->magic = 0;
            void *raw = c->next.realloc(c->next.ctx, xs_tag_raw(h, p), size + plan.header);
            if (raw == NULL) {
                h->magic = magic; /* the old block is still valid */
                return NULL;
            }
            return xs_tag_block(raw, plan.header, size, plan.owner, plan.site);
        }
    }
    /* another form, a slot for the new address, a pool: a new block */
    void *user = realloc_fresh(c, size, saved, h, owners);
    if (user == NULL)
        return NULL;
    memcpy(user, p, saved.size < size ? saved.size : size);
    if (pool) {
        pool_released(c, p, h);
        PyThreadState *ts;
        xh_pool_heaps_free(xh_pool_memo_get(&ts), pool, p, xs_pool_find(pool, p));
    } else {
        h->magic = 0;
        c->next.free(c->next.ctx, xs_tag_raw(h, p));
    }
    return user;
}

static void *hook_realloc(void *ctx, void *p, size_t size)
{
    chain_t *c = ctx;
    if (xh_bench_layer == XH_LAYER_PASSTHROUGH)
        return c->next.realloc(c->next.ctx, p, size);
    if (p == NULL)
        return hook_malloc(ctx, size);
    if (size > (size_t)PY_SSIZE_T_MAX - XISAN_LONG_HEADER)
        return NULL;
    xs_pool_t *pool = xs_pool_of(p);
    xs_header_t *h = pool ? xs_pool_header(pool, p) : xs_chain_header(p);
    if (h == NULL) /* no pool block handed out, or not ours (allocated before the hooks) */
        return pool ? NULL : c->next.realloc(c->next.ctx, p, size);
    uint32_t current = XISAN_UNOWNED;
    verdict_t v = free_verdict(h, &current);
    if (XS_LIKELY(v == FREE_OK))
        return realloc_allowed(c, pool, p, h, size, current);
    size_t old = xs_tag_size(h);
    if (v == FREE_REPORT) {
        report_block(p, current, XISAN_ACCESS_REALLOC,
                     "the old block was quarantined and its contents copied to a new block of "
                     "the current interpreter");
        xs_tag_quarantine(h);
    }
    void *fresh = hook_malloc(ctx, size);
    if (fresh == NULL)
        return NULL;
    memcpy(fresh, p, old < size ? old : size);
    xs_quarantine_add(old);
    return fresh;
}

static PyMemAllocatorEx hooks_of(chain_t *c)
{
    return (PyMemAllocatorEx){c, hook_malloc, hook_calloc, hook_realloc, hook_free};
}

static bool is_ours(const PyMemAllocatorEx *a, const chain_t *c)
{
    return a->malloc == hook_malloc && a->ctx == c;
}

/* On top of the domain, or beneath the debug hooks that are on top of it. */
static bool installed_in(chain_t *c)
{
    PyMemAllocatorEx now;
    PyMem_GetAllocator(c->domain, &now);
    if (is_ours(&now, c))
        return true;
    return c->beneath != NULL && now.ctx == c->debug_ctx && is_ours(c->beneath, c);
}

bool xh_alloc_hooks_installed(void)
{
    return installed_in(&chain_obj) && installed_in(&chain_mem);
}

/* The domain's slot in CPython's runtime state, when the hooks are on
 * top: found by its contents (the hooks' allocator) in _PyRuntime, so that
 * the hooks can step aside (below) with plain stores, without
 * PyMem_SetAllocator, whose lock may park the thread and let others run
 * (3.13).  NULL: not found. */
static PyMemAllocatorEx *find_slot(const PyMemAllocatorEx *a)
{
    void *runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
    size_t size = xh_symbol_size(runtime);
    for (size_t off = 0; off + sizeof(*a) <= size; off += sizeof(void *)) {
        PyMemAllocatorEx *at = (PyMemAllocatorEx *)((char *)runtime + off);
        if (memcmp(at, a, sizeof(*a)) == 0)
            return at;
    }
    return NULL;
}

static void install_on_top(chain_t *c)
{
    PyMem_GetAllocator(c->domain, &c->next);
    PyMemAllocatorEx mine = hooks_of(c);
    PyMem_SetAllocator(c->domain, &mine);
    c->beneath = NULL;
    c->top_slot = find_slot(&mine);
}

/* Beneath CPython's debug hooks, which then see exactly the sizes the
 * program asked for, and check and report as they do without the checker;
 * every block of theirs sits XH_DEBUG_HEADER bytes into one of ours. */
static void install_beneath(chain_t *c, PyMemAllocatorEx *inner)
{
    PyMemAllocatorEx top;
    PyMem_GetAllocator(c->domain, &top);
    c->next = *inner;
    *inner = hooks_of(c);
    c->beneath = inner;
    c->debug_ctx = top.ctx;
}

/* The slot the hooks hold now (the domain's, or the debug hooks' inner
 * one), or NULL: not in place, or not found. */
static PyMemAllocatorEx *held_slot(chain_t *c)
{
    PyMemAllocatorEx mine = hooks_of(c);
    if (c->beneath == NULL)
        return c->top_slot && memcmp(c->top_slot, &mine, sizeof(mine)) == 0 ? c->top_slot : NULL;
    return installed_in(c) ? c->beneath : NULL;
}

/* CPython's pymalloc statistics (_PyObject_DebugMallocStats) and its name
 * for the allocators (_PyMem_GetCurrentAllocatorName, 3.12) look for the
 * allocator sets CPython knows in the domains' slots, and the hooks are
 * none of them: so the hooks step out of their slots for such a call, by
 * plain stores.  Only with a single interpreter, whose GIL the caller
 * holds: nothing else can allocate or free an object-domain block
 * meanwhile (an interpreter with a GIL of its own could, and would free a
 * tagged block into pymalloc untagged).  Returns false (nothing changed)
 * when that cannot be done. */
static bool step_aside(void)
{
    PyInterpreterState *head = PyInterpreterState_Head();
    if (head == NULL || PyInterpreterState_Next(head) != NULL)
        return false;
    /* both found before either is stored to (finding may take CPython's
     * allocator lock, which on 3.13 may let other threads run) */
    PyMemAllocatorEx *obj = held_slot(&chain_obj), *mem = held_slot(&chain_mem);
    if (obj == NULL || mem == NULL)
        return false;
    *obj = chain_obj.next;
    *mem = chain_mem.next;
    return true;
}

static void step_back(void)
{
    chain_t *chains[] = {&chain_obj, &chain_mem};
    for (size_t i = 0; i < XS_ARRAY_LEN(chains); i++)
        *(chains[i]->beneath ? chains[i]->beneath : chains[i]->top_slot) = hooks_of(chains[i]);
}

int xh_alloc_hooks_malloc_stats(int (*real)(void *out), void *out)
{
    if (!step_aside())
        return real(out); /* what CPython prints under any other hook */
    int result = real(out);
    step_back();
    return result;
}

#if PY_VERSION_HEX >= 0x030D0000
/* 3.13's lock there may park the thread and let others run: the name is
 * CPython's for the allocators the hooks were put on, read just before. */
static const char *installed_name;

const char *xh_alloc_hooks_allocator_name(const char *(*real)(void))
{
    return xh_alloc_hooks_installed() ? installed_name : real();
}
#else
/* 3.12's lock is a plain one: the thread keeps the GIL while it waits
 * (and before CPython initializes there is none to read the name under). */
const char *xh_alloc_hooks_allocator_name(const char *(*real)(void))
{
    static const char *known; /* the first answer, for when a second interpreter is alive */
    if (!xh_alloc_hooks_installed())
        return real();
    if (!step_aside())
        return known ? known : real();
    known = real();
    step_back();
    return known;
}
#endif

void xh_alloc_hooks_mark_used(void)
{
    if (!atomic_load_explicit(&hooks_used, memory_order_relaxed))
        atomic_store(&hooks_used, true);
}

static void pools_enable(void)
{
    static bool atfork;
    if (!atfork) {
        pthread_atfork(xh_pool_heaps_fork_prepare, xh_pool_heaps_fork_parent,
                       xh_pool_heaps_fork_child);
        atfork = true;
    }
    xisan_python_state.pool_arenas = xs_pool_arenas;
    atomic_store(&xs_tag_pool_on, true);
}

/* Called when the adapter starts, before CPython initializes (the
 * allocators are final then: PYTHONMALLOC and -X dev applied, no object
 * exists) and at the first audit event of each interpreter.  Once a block
 * went through the hooks the chain never changes under it: another hook
 * that wraps ours later (tracemalloc, say) stays on top. */
int xh_alloc_hooks_install(void)
{
    /* pymalloc's malloc: the object domain's when the adapter starts
     * (PYTHONMALLOC applies later), unless it is the raw domain's (a
     * build without pymalloc) */
    static void *(*pymalloc)(void *, size_t);
    static bool pymalloc_looked;
    if (!pymalloc_looked) {
        xh_bench_layer_init();
        PyMemAllocatorEx obj, raw;
        PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &obj);
        PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &raw);
        pymalloc = obj.malloc != raw.malloc ? obj.malloc : NULL;
        pymalloc_looked = true;
    }
    if (xh_alloc_hooks_installed() || atomic_load(&hooks_used))
        return 0;
#if PY_VERSION_HEX >= 0x030D0000
    /* the preload library's definition, which asks CPython's until the
     * hooks are in place */
    const char *(*name)(void) =
        (const char *(*)(void))dlsym(RTLD_DEFAULT, "_PyMem_GetCurrentAllocatorName");
    installed_name = name ? name() : NULL;
#endif
    PyMemAllocatorEx *obj = xh_debug_layer_inner(PYMEM_DOMAIN_OBJ);
    PyMemAllocatorEx *mem = xh_debug_layer_inner(PYMEM_DOMAIN_MEM);
    /* no pool block was handed out yet (xh_alloc_hooks_mark_used): an
     * earlier install's pools may go */
    atomic_store(&xs_tag_pool_on, false);
    xisan_python_state.pool_arenas = NULL;
    if (obj && mem) {
        install_beneath(&chain_obj, obj);
        install_beneath(&chain_mem, mem);
        xisan_python_state.block_offset = XH_DEBUG_HEADER;
        xh_short_headers_init(false);
    } else {
        install_on_top(&chain_obj);
        install_on_top(&chain_mem);
        xisan_python_state.block_offset = 0;
        xh_short_headers_init(pymalloc != NULL && chain_obj.next.malloc == pymalloc);
        chain_obj.slots = pymalloc != NULL && chain_obj.next.malloc == pymalloc;
        chain_mem.slots = pymalloc != NULL && chain_mem.next.malloc == pymalloc;
        if ((chain_obj.slots || chain_mem.slots) && xs_opt.slot_tags) {
            xs_tag_slots_enable();
            xisan_python_state.tag_slots = xs_tag_slots;
        }
        /* the pools replace pymalloc beneath both domains, never CPython's
         * debug hooks or another allocator: PYTHONMALLOC=malloc asks for
         * the C library's blocks */
        if (chain_obj.slots && chain_mem.slots && xs_opt.pool_tags)
            pools_enable();
    }
    return 0;
}
