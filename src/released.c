/* The record of released memory (released.h).
 *
 * Blocks sit in a set-associative table keyed by their address: a later
 * block at the same address (the memory reused by another interpreter that
 * then ended) replaces the earlier one, and a full set drops an entry in
 * turn, so the record stays bounded (16,384 blocks of 16 bytes: 256 KiB,
 * touched only once interpreters end).  Blocks larger than a lookup probes
 * and arenas go to a ring of ranges.
 *
 * Writers serialise on a spin lock (frees of two ending interpreters in
 * parallel, rare); the reader, a crashing thread, takes no lock: an entry
 * is published by its start word, written last. */
#include "released.h"

#include "hash.h"

#include <sched.h>
#include <string.h>

enum {
    WAYS = 4,
    SETS = 4096,
    PROBE = 1024,  /* bytes before an address where a block start is looked for */
    RANGES = 4096,
    TYPES = 1024,
    TYPE_LEN = 64,
};

/* One word says where: user addresses fit in 48 bits, and the size of a
 * block kept here in 16. */
typedef struct entry {
    _Atomic uint64_t where; /* start << 16 | size; 0: empty */
    uint32_t site;
    uint16_t owner;
    uint16_t type; /* index into type_names, 0: none */
} entry_t;
_Static_assert(sizeof(entry_t) == 16, "a block's entry is two words");

typedef struct range {
    _Atomic uintptr_t start;
    uintptr_t end;
    uint32_t owner;
    uint32_t site;
    uint16_t type;
    uint8_t what;
    uint32_t order; /* when it was recorded (order) */
} range_t;

static entry_t blocks[SETS][WAYS];
static range_t ranges[RANGES];
static size_t next_range;
static char type_names[TYPES][TYPE_LEN];
static uint16_t type_used;
static atomic_flag writing = ATOMIC_FLAG_INIT;
static unsigned turn; /* which way of a full set goes next */

/* An interpreter that ends frees all its objects at once: a million of
 * them would each replace an entry of a record that holds 16,384, each at
 * a cache miss or two (6% of bench/'s heap_heavy), and only the last
 * 16,384 would stay.  So each ending keeps the first blocks it frees, as
 * many as the record holds; past that, a block it frees is not recorded,
 * and an earlier record at the same address (an interpreter that ended
 * before, whose memory this one reused) is dropped, as the block would
 * have replaced it.  Counts per owner (entries keep 16-bit owners),
 * written under the lock, read without it. */
enum { OWNERS = 1 << 16, BLOCKS_PER_ENDING = SETS * WAYS };
static _Atomic uint16_t ending_blocks[OWNERS];
/* Records are numbered in the order they are made (writers only); an
 * ending's blocks carry the number of its first block (ending_order), a
 * range its own.  A range another interpreter released after an ending
 * began is newer than that ending's blocks at its addresses. */
static uint32_t order;
static _Atomic uint32_t ending_order[OWNERS];

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&writing, memory_order_acquire))
        sched_yield();
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&writing, memory_order_release);
}

static size_t set_of(uintptr_t start)
{
    return (size_t)((xs_mix64(0, start >> 4) >> 17) % SETS);
}

/* The index of a type name, interned (writers only); 0 when the table is
 * full or there is no name. */
static uint16_t intern_type_locked(const char *type)
{
    if (type == NULL || type[0] == '\0')
        return 0;
    size_t h = (size_t)(xs_hash_str(0, type) % (TYPES - 1)) + 1;
    for (size_t i = 0; i < TYPES - 1; i++) {
        size_t slot = (h + i - 1) % (TYPES - 1) + 1;
        if (type_names[slot][0] == '\0') {
            if (type_used >= TYPES * 3 / 4)
                return 0;
            size_t len = strlen(type);
            if (len >= TYPE_LEN)
                len = TYPE_LEN - 1;
            memcpy(type_names[slot], type, len);
            type_names[slot][len] = '\0';
            type_used++;
            return (uint16_t)slot;
        }
        if (strncmp(type_names[slot], type, TYPE_LEN - 1) == 0)
            return (uint16_t)slot;
    }
    return 0;
}

static void put_range_locked(uintptr_t start, uintptr_t end, uint32_t owner, uint32_t site,
                             uint16_t type, xs_released_what_t what)
{
    range_t *r = &ranges[next_range++ % RANGES];
    atomic_store_explicit(&r->start, 0, memory_order_relaxed);
    r->end = end;
    r->owner = owner;
    r->site = site;
    r->type = type;
    r->what = (uint8_t)what;
    r->order = ++order;
    atomic_store_explicit(&r->start, start, memory_order_release);
}

/* A block of an ending past its count: an entry at its start is an earlier
 * interpreter's, stale now; looked for without the lock (one cache line). */
static void drop_record_at(uintptr_t start)
{
    entry_t *set = blocks[set_of(start)];
    size_t i = 0;
    while (i < WAYS && atomic_load_explicit(&set[i].where, memory_order_relaxed) >> 16 != start)
        i++;
    if (i == WAYS)
        return;
    lock();
    for (i = 0; i < WAYS; i++)
        if (atomic_load_explicit(&set[i].where, memory_order_relaxed) >> 16 == start)
            atomic_store_explicit(&set[i].where, 0, memory_order_release);
    unlock();
}

void xs_released_block(const void *user, size_t size, uint32_t owner, uint32_t site,
                       const char *type)
{
    uintptr_t start = (uintptr_t)user;
    if (start == 0 || start >> 48 || owner > UINT16_MAX)
        return;
    if (size <= PROBE &&
        atomic_load_explicit(&ending_blocks[owner], memory_order_relaxed) >= BLOCKS_PER_ENDING) {
        drop_record_at(start);
        return;
    }
    lock();
    if (size <= PROBE) {
        if (atomic_load_explicit(&ending_order[owner], memory_order_relaxed) == 0)
            atomic_store_explicit(&ending_order[owner], ++order, memory_order_release);
        atomic_fetch_add_explicit(&ending_blocks[owner], 1, memory_order_relaxed);
    }
    uint16_t t = intern_type_locked(type);
    if (size > PROBE) {
        /* an object's block is recorded at its destruction, then freed */
        const range_t *last = next_range ? &ranges[(next_range - 1) % RANGES] : NULL;
        if (t == 0 && last && atomic_load_explicit(&last->start, memory_order_relaxed) == start) {
            unlock();
            return;
        }
        put_range_locked(start, start + size, owner, site, t, XS_RELEASED_BLOCK);
        unlock();
        return;
    }
    entry_t *set = blocks[set_of(start)];
    entry_t *victim = &set[turn++ % WAYS];
    for (size_t i = 0; i < WAYS; i++) {
        uint64_t w = atomic_load_explicit(&set[i].where, memory_order_relaxed);
        if (w == 0 || w >> 16 == start) {
            victim = &set[i];
            break;
        }
    }
    atomic_store_explicit(&victim->where, 0, memory_order_relaxed);
    victim->site = site;
    victim->owner = (uint16_t)owner;
    victim->type = t;
    atomic_store_explicit(&victim->where, (uint64_t)start << 16 | size, memory_order_release);
    unlock();
}

void xs_released_range(uintptr_t start, size_t size, uint32_t owner, xs_released_what_t what)
{
    if (start == 0 || size == 0)
        return;
    lock();
    put_range_locked(start, start + size, owner, 0, 0, what);
    unlock();
}

static void fill(xs_released_t *out, uintptr_t start, uintptr_t end, uint32_t owner,
                 uint32_t site, uint16_t type, xs_released_what_t what)
{
    out->start = start;
    out->end = end;
    out->owner = owner;
    out->site = site;
    out->what = what;
    if (type > 0 && type < TYPES)
        memcpy(out->type, type_names[type], TYPE_LEN);
    else
        out->type[0] = '\0';
    out->type[sizeof(out->type) - 1] = '\0';
}

static bool find_block(uintptr_t addr, xs_released_t *out)
{
    /* user pointers are 8-byte aligned (16 with the long header); the
     * first one looked at is the next, whose tag addr may be in */
    uintptr_t first = (addr & ~(uintptr_t)7) + 8;
    for (uintptr_t start = first; start + PROBE > first && start >= 16; start -= 8) {
        entry_t *set = blocks[set_of(start)];
        for (size_t i = 0; i < WAYS; i++) {
            uint64_t w = atomic_load_explicit(&set[i].where, memory_order_acquire);
            if (w >> 16 != start)
                continue;
            uintptr_t end = start + (w & 0xffff);
            /* the header in front of the block belongs to it too (its
             * form is not recorded: the tag, the 8 bytes both header forms
             * have; a slot-form block has none, and the 8 bytes in front,
             * its neighbour's, are named as its when both are records) */
            if (addr >= start - 8 && addr < end) {
                fill(out, start, end, set[i].owner, set[i].site, set[i].type, XS_RELEASED_BLOCK);
                return true;
            }
        }
    }
    return false;
}

bool xs_released_find(uintptr_t addr, xs_released_t *out)
{
    if (addr < 4096)
        return false;
    /* a block's record says more than a range's, unless another
     * interpreter released the range after the block's ending began */
    bool block = find_block(addr, out);
    uint32_t block_order =
        block ? atomic_load_explicit(&ending_order[out->owner], memory_order_acquire) : 0;
    /* newest first: a range released later over the same addresses wins,
     * a big block before the arena it may sit in */
    size_t n = next_range < RANGES ? next_range : RANGES;
    const range_t *arena = NULL;
    for (size_t k = 1; k <= n; k++) {
        const range_t *r = &ranges[(next_range - k) % RANGES];
        uintptr_t start = atomic_load_explicit(&r->start, memory_order_acquire);
        if (start == 0 || addr < start || addr >= r->end)
            continue;
        if (block && (r->owner == out->owner || r->order <= block_order))
            continue;
        if (r->what == XS_RELEASED_BLOCK) {
            fill(out, start, r->end, r->owner, r->site, r->type, XS_RELEASED_BLOCK);
            return true;
        }
        if (arena == NULL)
            arena = r;
    }
    if (arena == NULL)
        return block;
    fill(out, atomic_load(&arena->start), arena->end, arena->owner, 0, 0,
         (xs_released_what_t)arena->what);
    return true;
}

void xs_released_reset(void)
{
    lock();
    memset(blocks, 0, sizeof(blocks));
    memset(ranges, 0, sizeof(ranges));
    memset(type_names, 0, sizeof(type_names));
    next_range = 0;
    type_used = 0;
    memset(ending_blocks, 0, sizeof(ending_blocks));
    memset(ending_order, 0, sizeof(ending_order));
    order = 0;
    unlock();
}
