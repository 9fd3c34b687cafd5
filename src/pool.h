/* xisan's small-block allocator: pools of one owner each.
 *
 * The design the time goals of docs/performance.md ("Ninth session") ask
 * for, in place of a chain in front of pymalloc: blocks of up to 512 bytes
 * in 16-byte size classes, carved from 16 KiB pools that belong to one heap
 * each (one heap per owner: an interpreter, or whatever the caller keys
 * them by).  A block carries no header.  Its pool, found by masking its
 * address, names its heap; one 32-bit word per block, in an array at the
 * pool's start, holds what the caller stores there (for the hooks: the
 * owner, flags and site).  Whether an address is a pool's at all is exact:
 * a bitmap of the 1 MiB arenas the pools are carved from, in .bss.
 *
 *   pool (16 KiB, aligned)   [header 64 B][word 0][word 1]...[block 0][block 1]...
 *
 * A heap is used by one thread at a time (the caller's lock: the GIL of
 * its interpreter).  A block freed through another heap is pushed onto its
 * own heap's list of remote frees, lock-free, and taken back at that heap's
 * next refill; once its heap is abandoned (its owner ended), it is freed
 * under the pools' lock.  Nothing here allocates through malloc. */
#ifndef XS_POOL_H
#define XS_POOL_H

#include "base.h"
#include "fork.h"
#include "xisan/abi.h"

/* the layout is <xisan/abi.h>'s: instrumented extensions read the tags */
#define XS_POOL_SHIFT XISAN_POOL_SHIFT
#define XS_POOL_SIZE (1u << XS_POOL_SHIFT)
#define XS_ARENA_SHIFT XISAN_POOL_ARENA_SHIFT
#define XS_ARENA_SIZE (1u << XS_ARENA_SHIFT)
#define XS_POOL_MAX_BLOCK 512u
#define XS_POOL_CLASSES (XS_POOL_MAX_BLOCK >> 4)
/* The address space the arena bitmap covers (2^27 bits, 16 MiB of .bss
 * that take memory only where arenas are). */
#define XS_POOL_ADDRESS_BITS XISAN_POOL_ADDRESS_BITS
#define XS_POOL_ARENA_BITS (1ull << (XS_POOL_ADDRESS_BITS - XS_ARENA_SHIFT))

typedef struct xs_pool_heap xs_pool_heap_t;

typedef struct xs_pool {
    xs_pool_heap_t *heap; /* NULL: the pool is free */
    uint16_t block_size;  /* 16 to 512 */
    uint16_t n_blocks;    /* 0: free */
    uint16_t first;       /* offset of block 0 from the pool's start */
    uint16_t fresh;       /* blocks from `fresh` on were never handed out */
    uint32_t inverse;     /* ceil(2^32 / block_size): a block's index by a multiply */
    uint32_t used;        /* blocks handed out and not freed */
    void *free;           /* freed blocks, linked through their first word */
    struct xs_pool *next, *prev; /* the heap's pools of this class with room */
    uint8_t size_class;
    bool listed; /* on the heap's list of pools with room */
    uint8_t pad[14];
    /* one per block: 0 while it is free, else the caller's word with
     * XS_POOL_LIVE set */
    uint32_t words[];
} xs_pool_t;

#define XS_POOL_LIVE XISAN_POOL_LIVE
_Static_assert(sizeof(xs_pool_t) == XISAN_POOL_WORDS, "pool header size");
_Static_assert(offsetof(xs_pool_t, block_size) == offsetof(struct xisan_pool_head, block_size) &&
                   offsetof(xs_pool_t, n_blocks) == offsetof(struct xisan_pool_head, n_blocks) &&
                   offsetof(xs_pool_t, first) == offsetof(struct xisan_pool_head, first) &&
                   offsetof(xs_pool_t, inverse) == offsetof(struct xisan_pool_head, inverse),
               "the pool header is <xisan/abi.h>'s");

struct xs_pool_heap {
    /* The pool the next block of each class comes from: the head of a
     * circular list of the heap's pools with room, or the empty pool. */
    xs_pool_t *avail[XS_POOL_CLASSES];
    _Atomic(void *) remote; /* blocks freed through other heaps */
    _Atomic bool abandoned;
    uint32_t owner;
    xs_pool_t *empty; /* pools of no class kept for reuse, linked by `next` */
    uint32_t n_empty;
};

XS_INTERNAL extern uint64_t xs_pool_arenas[XS_POOL_ARENA_BITS / 64];

/* A new heap (never freed: an abandoned heap's pools hold its survivors). */
XS_INTERNAL xs_pool_heap_t *xs_pool_heap_new(uint32_t owner);
/* Its owner ended: blocks freed from now on go back under the pools' lock,
 * pools without a block to the free list.  Its blocks stay as they are. */
XS_INTERNAL void xs_pool_heap_abandon(xs_pool_heap_t *heap);
XS_INTERNAL void *xs_pool_alloc_slow(xs_pool_heap_t *heap, size_t size_class, uint32_t word);
XS_INTERNAL void xs_pool_freed_slow(xs_pool_t *pool);
XS_INTERNAL void xs_pool_free_foreign(xs_pool_t *pool, void *block);
XS_INTERNAL bool xs_pool_fork(xs_fork_phase_t phase);
/* Calls visit for every block handed out and not freed, arena by arena;
 * the caller keeps every heap still (the exit scan, with the other
 * threads stopped), or may be told of wrong blocks, never of an address
 * outside a pool. */
typedef void xs_pool_visit_t(xs_pool_t *pool, void *block, uint32_t *word, void *arg);
XS_INTERNAL void xs_pool_walk(xs_pool_visit_t *visit, void *arg);
/* Pools carved from the arenas so far (free ones included). */
XS_INTERNAL size_t xs_pool_carved(void);

/* The pool of an address known to be in one. */
static inline xs_pool_t *xs_pool_holding(const void *address)
{
    return (xs_pool_t *)((uintptr_t)address & ~(uintptr_t)(XS_POOL_SIZE - 1));
}

/* The pool that `address` falls in, or NULL: it is no pool's. */
static inline xs_pool_t *xs_pool_of(const void *address)
{
    if (!xisan_pool_arena(xs_pool_arenas, address))
        return NULL;
    return xs_pool_holding(address);
}

/* The index of the block `address` falls in, which may be n_blocks or more
 * (the pool's tail), or UINT32_MAX (its header and tags). */
static inline uint32_t xs_pool_index(const xs_pool_t *pool, const void *address)
{
    uintptr_t off = (uintptr_t)address - (uintptr_t)pool - pool->first;
    if (off >= XS_POOL_SIZE)
        return UINT32_MAX;
    return (uint32_t)((off * pool->inverse) >> 32);
}

/* The index of a block of the pool (no test: `block` is one). */
static inline uint32_t xs_pool_index_of(const xs_pool_t *pool, const void *block)
{
    uintptr_t off = (uintptr_t)block - (uintptr_t)pool - pool->first;
    return (uint32_t)(((uint64_t)off * pool->inverse) >> 32);
}

static inline void *xs_pool_block(xs_pool_t *pool, uint32_t index)
{
    return (char *)pool + pool->first + (size_t)index * pool->block_size;
}

/* The index of the block handed out that starts at `address`, or
 * UINT32_MAX: none starts there (a free block, an interior pointer, the
 * pool's header or tail, a free pool): xisan_pool_index, and the tag's key. */
static inline uint32_t xs_pool_find(const xs_pool_t *pool, const void *address)
{
    uint32_t i = xisan_pool_index(pool, address);
    if (i == UINT32_MAX || !(pool->words[i] & XS_POOL_LIVE))
        return UINT32_MAX;
    return i;
}

/* The word of the block handed out that starts at `address`, or NULL
 * (xs_pool_find). */
static inline uint32_t *xs_pool_word(xs_pool_t *pool, const void *address)
{
    uint32_t i = xs_pool_find(pool, address);
    return i == UINT32_MAX ? NULL : &pool->words[i];
}

/* Hands out `block`, the head of `pool`'s free list, its word `word`
 * | XS_POOL_LIVE. */
static inline void *xs_pool_take(xs_pool_t *pool, void *block, uint32_t word)
{
    pool->free = *(void **)block;
    pool->used++;
    pool->words[xs_pool_index_of(pool, block)] = word | XS_POOL_LIVE;
    return block;
}

/* A block of `size` bytes (1 to 512) from `heap`, its word set to `word`
 * | XS_POOL_LIVE (a bit of the caller's word it must leave clear), or
 * NULL: the size is out of range, or no memory. */
static inline void *xs_pool_alloc(xs_pool_heap_t *heap, size_t size, uint32_t word)
{
    size_t c = (size - 1) >> 4;
    if (XS_UNLIKELY(c >= XS_POOL_CLASSES))
        return NULL;
    xs_pool_t *pool = heap->avail[c];
    void *block = pool->free;
    if (XS_LIKELY(block != NULL))
        return xs_pool_take(pool, block, word);
    return xs_pool_alloc_slow(heap, c, word);
}

/* Frees block `index` of `pool` (xs_pool_find) from the thread that uses
 * heap `mine`. */
static inline void xs_pool_free_at(xs_pool_heap_t *mine, xs_pool_t *pool, void *block,
                                   uint32_t index)
{
    if (XS_UNLIKELY(pool->heap != mine)) {
        xs_pool_free_foreign(pool, block);
        return;
    }
    pool->words[index] = 0;
    void *next = pool->free;
    *(void **)block = next;
    pool->free = block;
    if (XS_UNLIKELY(--pool->used == 0 || !pool->listed))
        xs_pool_freed_slow(pool);
}

/* Frees a block of `pool` that was handed out. */
static inline void xs_pool_free(xs_pool_heap_t *mine, xs_pool_t *pool, void *block)
{
    xs_pool_free_at(mine, pool, block, xs_pool_index_of(pool, block));
}

#endif
