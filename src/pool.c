/* xisan's small-block allocator (pool.h): arenas of 1 MiB mapped from the
 * kernel and never unmapped, carved into 16 KiB pools; a pool serves one
 * size class of one heap until its last block is freed, then goes back to
 * its heap's few spare pools or to the free list every heap takes from
 * (the last pool of a class stays, empty, for the class's next block,
 * until its heap is abandoned).
 * The pools' lock guards the arenas, the free list, the heaps' metadata and
 * everything of an abandoned heap; a heap in use is its thread's alone. */
#include "pool.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

uint64_t xs_pool_arenas[XS_POOL_ARENA_BITS / 64];

/* Every class of a new heap starts at this pool, which has no room: its
 * first allocation takes the slow path, with no test of its own. */
static xs_pool_t empty_pool;

#define ARENAS_MAX 65536 /* 64 GiB */
#define POOLS_PER_ARENA (XS_ARENA_SIZE / XS_POOL_SIZE)
/* Spare pools a heap keeps before it gives them to the free list. */
#define HEAP_SPARE_POOLS 4

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static char *arenas[ARENAS_MAX];
static _Atomic size_t n_arenas;
static size_t carved; /* pools of the newest arena handed out */
static xs_pool_t *free_pools; /* linked by `next` */
static char *heap_chunk;
static size_t heap_chunk_left;

bool xs_pool_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&pool_lock, phase);
}

size_t xs_pool_carved(void)
{
    pthread_mutex_lock(&pool_lock);
    size_t n = atomic_load(&n_arenas);
    size_t pools = n ? (n - 1) * POOLS_PER_ARENA + carved : 0;
    pthread_mutex_unlock(&pool_lock);
    return pools;
}

static void *map_aligned(size_t size)
{
    size_t len = 2 * size;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)p + size - 1) & ~(uintptr_t)(size - 1);
    if (start > (uintptr_t)p)
        munmap(p, start - (uintptr_t)p);
    munmap((void *)(start + size), (uintptr_t)p + len - (start + size));
    return (void *)start;
}

static xs_pool_t *take_pool_locked(void)
{
    xs_pool_t *pool = free_pools;
    if (pool) {
        free_pools = pool->next;
        return pool;
    }
    size_t n = atomic_load(&n_arenas);
    if (n == 0 || carved == POOLS_PER_ARENA) {
        if (n == ARENAS_MAX)
            return NULL;
        char *arena = map_aligned(XS_ARENA_SIZE);
        if (arena == NULL)
            return NULL;
        uintptr_t bit = (uintptr_t)arena >> XS_ARENA_SHIFT;
        if (bit >= XS_POOL_ARENA_BITS) {
            munmap(arena, XS_ARENA_SIZE);
            return NULL;
        }
        arenas[n] = arena;
        atomic_store(&n_arenas, n + 1);
        __atomic_fetch_or(&xs_pool_arenas[bit >> 6], 1ull << (bit & 63), __ATOMIC_RELEASE);
        carved = 0;
        n++;
    }
    return (xs_pool_t *)(arenas[n - 1] + ((size_t)carved++ << XS_POOL_SHIFT));
}

static void pool_init(xs_pool_t *pool, xs_pool_heap_t *heap, size_t size_class)
{
    size_t size = (size_class + 1) << 4;
    size_t n = (XS_POOL_SIZE - sizeof(xs_pool_t)) / (size + sizeof(uint32_t));
    size_t first;
    for (;; n--) {
        first = (sizeof(xs_pool_t) + n * sizeof(uint32_t) + 15) & ~(size_t)15;
        if (first + n * size <= XS_POOL_SIZE)
            break;
    }
    memset(pool->words, 0, n * sizeof(uint32_t));
    pool->heap = heap;
    pool->block_size = (uint16_t)size;
    pool->first = (uint16_t)first;
    pool->fresh = 0;
    pool->inverse = (uint32_t)(((1ull << 32) + size - 1) / size);
    pool->used = 0;
    pool->free = NULL;
    pool->size_class = (uint8_t)size_class;
    pool->listed = false;
    /* last: the pool holds blocks from here on (xs_pool_word, the walk) */
    __atomic_store_n(&pool->n_blocks, (uint16_t)n, __ATOMIC_RELEASE);
}

/* Puts `pool` on its heap's list of pools with room: at the head when
 * `head` (it is where the next block comes from), else right behind it. */
static void pool_link(xs_pool_heap_t *heap, xs_pool_t *pool, bool head)
{
    xs_pool_t **avail = &heap->avail[pool->size_class];
    if (*avail == &empty_pool) {
        pool->next = pool->prev = pool;
        *avail = pool;
    } else {
        xs_pool_t *at = head ? *avail : (*avail)->next;
        pool->next = at;
        pool->prev = at->prev;
        at->prev->next = pool;
        at->prev = pool;
        if (head)
            *avail = pool;
    }
    pool->listed = true;
}

static void pool_unlink(xs_pool_heap_t *heap, xs_pool_t *pool)
{
    xs_pool_t **avail = &heap->avail[pool->size_class];
    if (pool->next == pool) {
        *avail = &empty_pool;
    } else {
        pool->prev->next = pool->next;
        pool->next->prev = pool->prev;
        if (*avail == pool)
            *avail = pool->next;
    }
    pool->listed = false;
}

static void free_pool_locked(xs_pool_t *pool)
{
    pool->heap = NULL;
    pool->next = free_pools;
    free_pools = pool;
}

/* A pool without a block leaves its class: to its heap's spares, or (an
 * abandoned heap's, whose caller holds the lock, or past the spares) to the
 * free list. */
static void pool_release(xs_pool_heap_t *heap, xs_pool_t *pool)
{
    /* its tags are all free already; this tells the walk to skip it */
    __atomic_store_n(&pool->n_blocks, 0, __ATOMIC_RELAXED);
    if (atomic_load(&heap->abandoned)) {
        free_pool_locked(pool);
    } else if (heap->n_empty < HEAP_SPARE_POOLS) {
        pool->next = heap->empty;
        heap->empty = pool;
        heap->n_empty++;
    } else {
        pthread_mutex_lock(&pool_lock);
        free_pool_locked(pool);
        pthread_mutex_unlock(&pool_lock);
    }
}

void xs_pool_freed_slow(xs_pool_t *pool)
{
    xs_pool_heap_t *heap = pool->heap;
    if (!pool->listed)
        pool_link(heap, pool, false);
    /* the last pool of its class stays, unless no one allocates from it again */
    if (pool->used == 0 && (pool->next != pool || atomic_load(&heap->abandoned))) {
        pool_unlink(heap, pool);
        pool_release(heap, pool);
    }
}

/* Frees a block of a heap the caller may use (its own, or an abandoned one
 * under the lock). */
static void free_here(xs_pool_t *pool, void *block)
{
    pool->words[xs_pool_index_of(pool, block)] = 0;
    void *next = pool->free;
    *(void **)block = next;
    pool->free = block;
    if (--pool->used == 0 || !pool->listed)
        xs_pool_freed_slow(pool);
}

/* Frees the blocks other threads pushed; true: there were some. */
static bool take_remote(xs_pool_heap_t *heap)
{
    void *block = atomic_exchange(&heap->remote, NULL);
    if (block == NULL)
        return false;
    while (block) {
        void *next = *(void **)block;
        free_here(xs_pool_holding(block), block);
        block = next;
    }
    return true;
}

void xs_pool_free_foreign(xs_pool_t *pool, void *block)
{
    xs_pool_heap_t *heap = pool->heap;
    if (!atomic_load(&heap->abandoned)) {
        /* the key first: the block is not handed out once it is on the list */
        __atomic_store_n(&pool->words[xs_pool_index_of(pool, block)], 0, __ATOMIC_RELAXED);
        void *head = atomic_load(&heap->remote);
        do
            *(void **)block = head;
        while (!atomic_compare_exchange_weak(&heap->remote, &head, block));
        /* abandoned meanwhile: its abandon may have taken the list before
         * this push (both are sequentially consistent), so take it here */
        if (!atomic_load(&heap->abandoned))
            return;
        pthread_mutex_lock(&pool_lock);
        take_remote(heap);
        pthread_mutex_unlock(&pool_lock);
        return;
    }
    pthread_mutex_lock(&pool_lock);
    free_here(pool, block);
    pthread_mutex_unlock(&pool_lock);
}

void *xs_pool_alloc_slow(xs_pool_heap_t *heap, size_t size_class, uint32_t word)
{
    for (;;) {
        xs_pool_t *pool = heap->avail[size_class];
        void *block = pool->free;
        if (block) {
            pool->free = *(void **)block;
        } else if (pool->fresh < pool->n_blocks) {
            block = xs_pool_block(pool, pool->fresh++);
        } else if (pool != &empty_pool) {
            pool_unlink(heap, pool); /* full; the next one has room */
            continue;
        } else if (take_remote(heap)) {
            continue;
        } else {
            pool = heap->empty;
            if (pool) {
                heap->empty = pool->next;
                heap->n_empty--;
            } else {
                pthread_mutex_lock(&pool_lock);
                pool = take_pool_locked();
                pthread_mutex_unlock(&pool_lock);
                if (pool == NULL)
                    return NULL;
            }
            pool_init(pool, heap, size_class);
            pool_link(heap, pool, true);
            continue;
        }
        pool->used++;
        pool->words[xs_pool_index_of(pool, block)] = word | XS_POOL_LIVE;
        return block;
    }
}

xs_pool_heap_t *xs_pool_heap_new(uint32_t owner)
{
    const size_t size = (sizeof(xs_pool_heap_t) + 63) & ~(size_t)63;
    pthread_mutex_lock(&pool_lock);
    if (heap_chunk_left < size) {
        const size_t chunk = 64 * 1024;
        void *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            pthread_mutex_unlock(&pool_lock);
            return NULL;
        }
        heap_chunk = p;
        heap_chunk_left = chunk;
    }
    xs_pool_heap_t *heap = (xs_pool_heap_t *)heap_chunk;
    heap_chunk += size;
    heap_chunk_left -= size;
    pthread_mutex_unlock(&pool_lock);
    for (size_t c = 0; c < XS_POOL_CLASSES; c++)
        heap->avail[c] = &empty_pool;
    heap->owner = owner;
    return heap;
}

void xs_pool_heap_abandon(xs_pool_heap_t *heap)
{
    pthread_mutex_lock(&pool_lock);
    atomic_store(&heap->abandoned, true);
    take_remote(heap);
    while (heap->empty) {
        xs_pool_t *pool = heap->empty;
        heap->empty = pool->next;
        free_pool_locked(pool);
    }
    heap->n_empty = 0;
    for (size_t c = 0; c < XS_POOL_CLASSES; c++) {
        xs_pool_t *pool = heap->avail[c];
        if (pool != &empty_pool && pool->used == 0) {
            pool_unlink(heap, pool);
            pool_release(heap, pool);
        }
    }
    pthread_mutex_unlock(&pool_lock);
}

void xs_pool_walk(xs_pool_visit_t *visit, void *arg)
{
    size_t n = atomic_load(&n_arenas);
    for (size_t a = 0; a < n; a++) {
        for (size_t i = 0; i < POOLS_PER_ARENA; i++) {
            xs_pool_t *pool = (xs_pool_t *)(arenas[a] + (i << XS_POOL_SHIFT));
            /* each field read once, and no block past the pool: a pool
             * re-made for another class meanwhile (a caller that did not
             * keep every heap still) yields wrong blocks, never an address
             * outside it */
            uint32_t blocks = __atomic_load_n(&pool->n_blocks, __ATOMIC_ACQUIRE);
            uint32_t fresh = pool->fresh, first = pool->first, size = pool->block_size;
            if (blocks == 0 || size == 0)
                continue;
            if (fresh > blocks)
                fresh = blocks;
            for (uint32_t b = 0; b < fresh && first + (b + 1) * size <= XS_POOL_SIZE; b++)
                if (__atomic_load_n(&pool->words[b], __ATOMIC_RELAXED) & XS_POOL_LIVE)
                    visit(pool, (char *)pool + first + b * size, &pool->words[b], arg);
        }
    }
}
