/* Deduplication: one lock-free set of 64-bit keys, and the key of a touch
 * by its kind's dedup rule (kinds.inc).  Lock-free because a lock would
 * serialise the threads of a hot loop and hide the very races being looked
 * at.  A collision of two keys would merge two sites. */
#include "dedup.h"

#include "hash.h"
#include "tag.h"

/* A site seen, and how many times it came back. */
typedef struct sighting {
    _Atomic uint64_t key; /* 0: empty */
    _Atomic unsigned long repeats;
} sighting_t;

enum { SIGHTINGS = 16384 }; /* 256 KiB of zero pages until sites are seen */
static sighting_t sightings[SIGHTINGS];

static uint64_t stored(uint64_t key)
{
    return (key ^ (key >> 29)) | 1; /* 0 marks an empty slot */
}

bool xs_dedup_first(uint64_t key)
{
    key = stored(key);
    for (size_t i = 0, k = key >> 50; i < SIGHTINGS; i++, k = (k + 1) % SIGHTINGS) {
        uint64_t now = atomic_load_explicit(&sightings[k].key, memory_order_acquire);
        if (now == 0) {
            uint64_t empty = 0;
            if (atomic_compare_exchange_strong(&sightings[k].key, &empty, key))
                return true;
            now = empty;
        }
        if (now == key) {
            atomic_fetch_add_explicit(&sightings[k].repeats, 1, memory_order_relaxed);
            return false;
        }
    }
    return true; /* full: report */
}

uint64_t xs_dedup_site_id(uint64_t key)
{
    return stored(key);
}

void xs_dedup_foreach_repeated(void (*fn)(uint64_t site_id, unsigned long repeats, void *arg),
                               void *arg)
{
    for (size_t k = 0; k < SIGHTINGS; k++) {
        uint64_t key = atomic_load_explicit(&sightings[k].key, memory_order_acquire);
        unsigned long n = atomic_load_explicit(&sightings[k].repeats, memory_order_relaxed);
        if (key && n)
            fn(key, n, arg);
    }
}

/* The sum of the sites' counts (read at exit: a repeat in a hot loop adds
 * to its own slot only). */
unsigned long xs_dedup_repeats(void)
{
    unsigned long total = 0;
    for (size_t k = 0; k < SIGHTINGS; k++)
        total += atomic_load_explicit(&sightings[k].repeats, memory_order_relaxed);
    return total;
}

/* What tells two objects touched at one place apart: their type, owner
 * and allocation site. */
static uint64_t object_key(uint64_t h, const xs_touch_t *t)
{
    const xs_header_t *header = t->user ? xs_tagged_header(t->user) : NULL;
    h = xs_mix64(xs_mix64(h, t->object_class), t->owner);
    return xs_mix64(h, header ? xs_tag_site(header) : 0);
}

uint64_t xs_dedup_key_early(const xs_touch_t *t)
{
    uint64_t h = xs_mix64(xs_mix64(0x243f6a8885a308d3ull, t->kind), t->access);
    switch (xs_kind(t->kind)->dedup) {
    case XS_DEDUP_SITE:
        /* a check in instrumented code: its call site, before any stack
         * is captured, so a hot loop on a shared object costs a probe */
        if (t->src_file == NULL)
            return 0;
        h = xs_mix64(xs_mix64(h, (uintptr_t)t->src_file), (uint64_t)t->src_line);
        return object_key(h, t) | 1;
    case XS_DEDUP_HOLDER: {
        const xs_header_t *header = t->user ? xs_tagged_header(t->user) : NULL;
        h = xs_mix64(xs_mix64(h, t->container_class), t->object_class);
        return xs_mix64(h, header ? xs_tag_site(header) : 0) | 1;
    }
    case XS_DEDUP_TYPE:
        return xs_mix64(h, t->object_address) | 1;
    }
    return 0;
}

uint64_t xs_dedup_key_stack(const xs_touch_t *t, const xs_report_t *r, const uintptr_t *pcs,
                            size_t n)
{
    uint64_t h = object_key(xs_mix64(xs_mix64(0, r->kind), r->access), t);
    if (r->n_python > 0) {
        h = xs_hash_str(h, r->python[0].file);
        h = xs_hash_str(h, r->python[0].function);
        h = xs_mix64(h, (uint64_t)r->python[0].line);
    }
    for (size_t i = 0; i < n && i < 8; i++)
        h = xs_mix64(h, pcs[i]);
    return h;
}
