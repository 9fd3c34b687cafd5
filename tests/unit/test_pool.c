/* xisan's small-block allocator (src/pool.h): size classes, the exact test
 * of whose an address is, the per-block words, frees through another heap
 * (also from another thread, and after the heap is abandoned), reuse of
 * freed pools, and the walk. */
#include "unit.h"

#include "pool.h"

/* A word the caller may store for block i: XS_POOL_LIVE left clear. */
#define WORD(i) ((uint32_t)(i) << 11)
_Static_assert(XS_POOL_LIVE < (1u << 11), "WORD() leaves XS_POOL_LIVE clear");

#include <pthread.h>
#include <sched.h>

Test(pool, every_size_fits_its_class)
{
    xs_pool_heap_t *heap = xs_pool_heap_new(1);
    cr_assert_not_null(heap);
    char *blocks[XS_POOL_MAX_BLOCK + 1];
    for (size_t size = 1; size <= XS_POOL_MAX_BLOCK; size++) {
        blocks[size] = xs_pool_alloc(heap, size, WORD(size));
        cr_assert_not_null(blocks[size], "size %zu", size);
        cr_assert_eq((uintptr_t)blocks[size] & 15, 0, "size %zu is 16-byte aligned", size);
        xs_pool_t *pool = xs_pool_of(blocks[size]);
        cr_assert_not_null(pool);
        cr_assert_eq(pool->heap, heap);
        cr_assert_geq(pool->block_size, size);
        cr_assert_lt(pool->block_size, size + 16);
        memset(blocks[size], (int)(size & 0xff), size);
    }
    /* no block's contents reached a word or another block */
    for (size_t size = 1; size <= XS_POOL_MAX_BLOCK; size++) {
        uint32_t *word = xs_pool_word(xs_pool_of(blocks[size]), blocks[size]);
        cr_assert_not_null(word);
        cr_assert_eq(*word, WORD(size) | XS_POOL_LIVE, "the caller's word, and the pool's bit");
        for (size_t i = 0; i < size; i++)
            cr_assert_eq((unsigned char)blocks[size][i], size & 0xff);
    }
    cr_assert_null(xs_pool_alloc(heap, 0, 1), "size 0 is not the pools'");
    cr_assert_null(xs_pool_alloc(heap, XS_POOL_MAX_BLOCK + 1, 1));
}

Test(pool, other_memory_is_not_a_pool)
{
    xs_pool_heap_t *heap = xs_pool_heap_new(1);
    char *block = xs_pool_alloc(heap, 48, 7);
    char *c_heap = malloc(48);
    int on_stack;
    static int in_data;
    cr_assert_null(xs_pool_of(c_heap));
    cr_assert_null(xs_pool_of(&on_stack));
    cr_assert_null(xs_pool_of(&in_data));
    cr_assert_null(xs_pool_of(NULL));
    cr_assert_null(xs_pool_of((void *)(block + (1ull << XS_POOL_ADDRESS_BITS))),
                   "an address past the bitmap's reach is no pool's");
    free(c_heap);

    xs_pool_t *pool = xs_pool_of(block);
    cr_assert_null(xs_pool_word(pool, block + 16), "interior pointer");
    cr_assert_null(xs_pool_word(pool, pool), "the pool's header");
    cr_assert_null(xs_pool_word(pool, pool->words), "the pool's words");
    cr_assert_null(xs_pool_word(pool, xs_pool_block(pool, pool->n_blocks - 1)),
                   "a block never handed out");
    cr_assert_not_null(xs_pool_word(pool, block));
    xs_pool_free(heap, pool, block);
    cr_assert_null(xs_pool_word(pool, block), "a freed block");
}

Test(pool, block_index_is_exact_in_every_class)
{
    for (size_t size = 16; size <= XS_POOL_MAX_BLOCK; size += 16) {
        xs_pool_heap_t *heap = xs_pool_heap_new(1);
        xs_pool_t *pool = xs_pool_of(xs_pool_alloc(heap, size, 1));
        cr_assert_eq(pool->block_size, size);
        cr_assert_leq(pool->first + (size_t)pool->n_blocks * size, XS_POOL_SIZE);
        cr_assert_gt(pool->first + (size_t)(pool->n_blocks + 1) * size + 4, XS_POOL_SIZE,
                     "size %zu: no room left for one block more", size);
        for (uint32_t i = 1; i < pool->n_blocks; i++)
            cr_assert_eq(xs_pool_of(xs_pool_alloc(heap, size, 1)), pool, "a new heap's first pool");
        for (uint32_t i = 0; i < pool->n_blocks; i++) {
            char *b = xs_pool_block(pool, i);
            cr_assert_eq(xs_pool_index(pool, b), i);
            cr_assert_eq(xs_pool_index(pool, b + size - 1), i);
            cr_assert_eq(xs_pool_find(pool, b), i, "size %zu, block %u", size, i);
            for (size_t off = 1; off < size; off++)
                cr_assert_eq(xs_pool_find(pool, b + off), UINT32_MAX, "size %zu, block %u + %zu",
                             size, i, off);
        }
        cr_assert_eq(xs_pool_index(pool, (char *)pool + pool->first - 1), UINT32_MAX);
        for (char *a = (char *)pool; a < (char *)pool + pool->first; a++)
            cr_assert_eq(xs_pool_find(pool, a), UINT32_MAX);
        for (char *a = xs_pool_block(pool, pool->n_blocks); a < (char *)pool + XS_POOL_SIZE; a++)
            cr_assert_eq(xs_pool_find(pool, a), UINT32_MAX, "the pool's tail");
    }
}

Test(pool, freed_blocks_and_pools_are_reused)
{
    enum { N = 200000 };
    static void *blocks[N];
    xs_pool_heap_t *heap = xs_pool_heap_new(1);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            blocks[i] = xs_pool_alloc(heap, 16 + (i % 7) * 40, WORD(i));
            cr_assert_not_null(blocks[i]);
        }
        size_t carved = xs_pool_carved();
        for (int i = 0; i < N; i++) {
            cr_assert_eq(*xs_pool_word(xs_pool_of(blocks[i]), blocks[i]), WORD(i) | XS_POOL_LIVE);
            xs_pool_free(heap, xs_pool_of(blocks[i]), blocks[i]);
        }
        if (round > 0)
            cr_assert_eq(xs_pool_carved(), carved, "round %d carved no more pools", round);
    }
    /* pools emptied in one class serve another */
    size_t carved = xs_pool_carved();
    for (int i = 0; i < N; i++)
        blocks[i] = xs_pool_alloc(heap, 64, 1);
    cr_assert_leq(xs_pool_carved(), carved);
}

typedef struct walked {
    size_t n;
    uint64_t sum;
} walked_t;

static void count_block(xs_pool_t *pool, void *block, uint32_t *word, void *arg)
{
    walked_t *w = arg;
    cr_assert_eq(xs_pool_word(pool, block), word);
    w->n++;
    w->sum += *word & ~XS_POOL_LIVE;
}

Test(pool, walk_visits_the_blocks_handed_out)
{
    enum { N = 5000 };
    static void *blocks[N];
    xs_pool_heap_t *a = xs_pool_heap_new(1), *b = xs_pool_heap_new(2);
    uint64_t sum = 0;
    for (int i = 0; i < N; i++)
        blocks[i] =
            xs_pool_alloc(i & 1 ? a : b, 1 + (size_t)i % XS_POOL_MAX_BLOCK, WORD(i));
    for (int i = 0; i < N; i += 3) {
        xs_pool_free(i & 1 ? a : b, xs_pool_of(blocks[i]), blocks[i]);
        blocks[i] = NULL;
    }
    size_t n = 0;
    for (int i = 0; i < N; i++)
        if (blocks[i]) {
            n++;
            sum += WORD(i);
        }
    walked_t w = {0};
    xs_pool_walk(count_block, &w);
    cr_assert_eq(w.n, n);
    cr_assert_eq(w.sum, sum);
}

Test(pool, free_through_another_heap_returns_the_block_to_its_own)
{
    enum { N = 3000 };
    static void *blocks[N];
    xs_pool_heap_t *a = xs_pool_heap_new(1), *b = xs_pool_heap_new(2);
    for (int i = 0; i < N; i++)
        blocks[i] = xs_pool_alloc(a, 32, 1);
    size_t carved = xs_pool_carved();
    for (int i = 0; i < N; i++) {
        xs_pool_t *pool = xs_pool_of(blocks[i]);
        xs_pool_free(b, pool, blocks[i]);
        cr_assert_null(xs_pool_word(pool, blocks[i]), "freed at once for every reader");
        cr_assert_eq(pool->heap, a);
    }
    /* a takes them back when it runs out of room: its next N blocks are
     * all in the pools it had, none in a new one */
    for (int i = 0; i < N; i++) {
        xs_pool_t *pool = xs_pool_of(xs_pool_alloc(a, 32, 1));
        bool known = false;
        for (int j = 0; j < N && !known; j++)
            known = xs_pool_of(blocks[j]) == pool;
        cr_assert(known, "block %d came from a new pool", i);
    }
    cr_assert_eq(xs_pool_carved(), carved);
}

/* An abandoned heap gives back every pool without a block: those its
 * blocks freed through other heaps empty (some pushed before the abandon,
 * some freed after it), its spares, and the empty last pool of a class. */
Test(pool, abandoned_heap_gives_its_pools_back)
{
    enum { N = 20000, M = 5000 };
    static void *blocks[N], *small[M];
    xs_pool_heap_t *a = xs_pool_heap_new(1), *b = xs_pool_heap_new(2);
    for (int i = 0; i < N; i++)
        blocks[i] = xs_pool_alloc(a, 128, 1);
    for (int i = 0; i < M; i++)
        small[i] = xs_pool_alloc(a, 64, 1);
    size_t carved = xs_pool_carved();
    for (int i = 0; i < M; i++) /* spares, and the class's last pool kept empty */
        xs_pool_free(a, xs_pool_of(small[i]), small[i]);
    for (int i = 0; i < N / 2; i++) /* pushed onto a's remote frees */
        xs_pool_free(b, xs_pool_of(blocks[i]), blocks[i]);
    xs_pool_heap_abandon(a);
    for (int i = N / 2; i < N; i++)
        cr_assert_not_null(xs_pool_word(xs_pool_of(blocks[i]), blocks[i]),
                           "an abandoned heap's blocks stay");
    for (int i = N / 2; i < N; i++)
        xs_pool_free(b, xs_pool_of(blocks[i]), blocks[i]);
    walked_t w = {0};
    xs_pool_walk(count_block, &w);
    cr_assert_eq(w.n, 0);
    xs_pool_heap_t *c = xs_pool_heap_new(3);
    for (int i = 0; i < N; i++)
        cr_assert_not_null(xs_pool_alloc(c, 128, 3));
    for (int i = 0; i < M; i++)
        cr_assert_not_null(xs_pool_alloc(c, 64, 3));
    cr_assert_eq(xs_pool_carved(), carved, "c took a's pools, all of them");
}

/* One thread allocates from its heap and hands the blocks to another, which
 * frees them through its own: the lock-free list of remote frees, under
 * contention. */
enum { HANDED = 1 << 16, RING = 256 };
static void *_Atomic ring[RING];

static _Atomic size_t handed_wrong;

static void *free_handed(void *arg)
{
    xs_pool_heap_t *mine = xs_pool_heap_new(2);
    for (size_t i = 0; i < HANDED; i++) {
        void *block;
        while ((block = atomic_exchange(&ring[i % RING], NULL)) == NULL)
            sched_yield();
        if (*(uint64_t *)block != i)
            handed_wrong++;
        xs_pool_free(mine, xs_pool_of(block), block);
    }
    return NULL;
}

Test(pool, remote_frees_from_another_thread)
{
    xs_pool_heap_t *heap = xs_pool_heap_new(1);
    pthread_t t;
    pthread_create(&t, NULL, free_handed, NULL);
    for (size_t i = 0; i < HANDED; i++) {
        uint64_t *block = xs_pool_alloc(heap, 8 + (i % 5) * 24, 1);
        cr_assert_not_null(block);
        *block = i;
        while (atomic_load(&ring[i % RING]) != NULL)
            sched_yield();
        atomic_store(&ring[i % RING], block);
    }
    pthread_join(t, NULL);
    cr_assert_eq(handed_wrong, 0, "no block was handed out twice");
    /* every block came back: a heap that refills from its remote frees
     * needs a few pools per class, where the blocks handed over would
     * take some 260 */
    cr_assert_leq(xs_pool_carved(), 64);
    walked_t w = {0};
    xs_pool_walk(count_block, &w);
    cr_assert_eq(w.n, 0);
}
