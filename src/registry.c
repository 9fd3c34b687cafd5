/* Interpreter registry: owner id -> name and state.  The hot paths never
 * look here (they compare owner ids); only reports and lifecycle events do,
 * under one mutex. */
#include "registry.h"

#include "hash.h"
#include "xisan/abi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct interp_entry {
    uint32_t owner;
    xs_interp_state_t state;
    unsigned flags;
    const char *config; /* a string literal of the adapter's */
    char name[64];
    UT_hash_handle hh;
} interp_entry_t;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static interp_entry_t *registry;
_Atomic uint32_t xs_interp_generation;

static XS_TLS xisan_owner_t thread_current;

/* Ended owners below 2^16 also as bits, so the question every report asks
 * first (has the owner ended?) takes no lock. */
enum { ENDED_BITS = 1 << 16 };
static _Atomic uint64_t ended_bits[ENDED_BITS / 64];
_Atomic uint64_t xs_interp_ending_bits[XS_ENDING_BITS / 64];
_Static_assert(XS_ENDING_BITS == ENDED_BITS, "one bound for the owner bit sets");
/* The same for owners that share one heap with others (checks ask it on
 * every touch between two such owners). */
_Atomic uint64_t xs_interp_shared_bits[ENDED_BITS / 64];

static interp_entry_t *find_unlocked(uint32_t owner)
{
    interp_entry_t *e = NULL;
    HASH_FIND(hh, registry, &owner, sizeof(owner), e);
    return e;
}

static interp_entry_t *find_or_add_unlocked(uint32_t owner)
{
    interp_entry_t *e = find_unlocked(owner);
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL)
            return NULL;
        e->owner = owner;
        e->state = XS_INTERP_ALIVE;
        HASH_ADD(hh, registry, owner, sizeof(e->owner), e);
    }
    return e;
}

uint32_t xs_interp_register(int64_t external_id, const char *name)
{
    if (external_id < 0 || external_id >= (int64_t)XISAN_OWNER_MASK)
        return XISAN_UNOWNED;
    uint32_t owner = (uint32_t)external_id + 1;
    pthread_mutex_lock(&registry_lock);
    interp_entry_t *e = find_or_add_unlocked(owner);
    if (e && name && name[0])
        snprintf(e->name, sizeof(e->name), "%s", name);
    pthread_mutex_unlock(&registry_lock);
    return owner;
}

void xs_interp_end(uint32_t owner)
{
    if (owner == XISAN_UNOWNED)
        return;
    pthread_mutex_lock(&registry_lock);
    interp_entry_t *e = find_or_add_unlocked(owner);
    if (e)
        e->state = XS_INTERP_ENDED;
    pthread_mutex_unlock(&registry_lock);
    if (owner < ENDED_BITS) {
        atomic_fetch_or(&xs_interp_ending_bits[owner / 64], 1ull << (owner % 64));
        atomic_fetch_or(&ended_bits[owner / 64], 1ull << (owner % 64));
    }
    atomic_fetch_add_explicit(&xs_interp_generation, 1, memory_order_release);
}

void xs_interp_mark_ending(uint32_t owner)
{
    if (owner != XISAN_UNOWNED && owner < ENDED_BITS)
        atomic_fetch_or(&xs_interp_ending_bits[owner / 64], 1ull << (owner % 64));
}

xs_interp_state_t xs_interp_state(uint32_t owner)
{
    pthread_mutex_lock(&registry_lock);
    interp_entry_t *e = find_unlocked(owner);
    xs_interp_state_t s = e ? e->state : XS_INTERP_UNKNOWN;
    pthread_mutex_unlock(&registry_lock);
    return s;
}

bool xs_interp_ended(uint32_t owner)
{
    if (owner < ENDED_BITS)
        return atomic_load_explicit(&ended_bits[owner / 64], memory_order_acquire) &
               (1ull << (owner % 64));
    return xs_interp_state(owner) == XS_INTERP_ENDED;
}

void xs_interp_set_config(uint32_t owner, const char *config, bool shares_heap)
{
    if (owner == XISAN_UNOWNED)
        return;
    pthread_mutex_lock(&registry_lock);
    interp_entry_t *e = find_or_add_unlocked(owner);
    if (e)
        e->config = config;
    pthread_mutex_unlock(&registry_lock);
    if (shares_heap && owner < ENDED_BITS)
        atomic_fetch_or(&xs_interp_shared_bits[owner / 64], 1ull << (owner % 64));
}

const char *xs_interp_config(uint32_t owner)
{
    pthread_mutex_lock(&registry_lock);
    interp_entry_t *e = find_unlocked(owner);
    const char *config = e ? e->config : NULL;
    pthread_mutex_unlock(&registry_lock);
    return config;
}

size_t xs_interp_list_ended(uint32_t *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&registry_lock);
    for (interp_entry_t *e = registry; e != NULL; e = e->hh.next) {
        if (e->state != XS_INTERP_ENDED)
            continue;
        if (n < max)
            out[n] = e->owner;
        n++;
    }
    pthread_mutex_unlock(&registry_lock);
    return n;
}

void xs_interp_name(uint32_t owner, char *buf, size_t len)
{
    pthread_mutex_lock(&registry_lock);
    interp_entry_t *e = find_unlocked(owner);
    if (owner == XISAN_UNOWNED)
        snprintf(buf, len, "none");
    else if (e && e->name[0])
        snprintf(buf, len, "%s", e->name);
    else
        snprintf(buf, len, "interpreter %u", owner - 1);
    pthread_mutex_unlock(&registry_lock);
}

bool xs_interp_claim_flag(uint32_t owner, unsigned flag)
{
    bool claimed = false;
    pthread_mutex_lock(&registry_lock);
    interp_entry_t *e = find_or_add_unlocked(owner);
    if (e && !(e->flags & flag)) {
        e->flags |= flag;
        claimed = true;
    }
    pthread_mutex_unlock(&registry_lock);
    return claimed;
}

void xs_interp_release_flag(uint32_t owner, unsigned flag)
{
    pthread_mutex_lock(&registry_lock);
    interp_entry_t *e = find_unlocked(owner);
    if (e)
        e->flags &= ~flag;
    pthread_mutex_unlock(&registry_lock);
}

xisan_owner_t xisan_interp_created(int64_t external_id, const char *name)
{
    return xs_interp_register(external_id, name);
}

void xisan_interp_ended(xisan_owner_t owner)
{
    xs_interp_end(owner);
}

bool xisan_interp_alive(xisan_owner_t owner)
{
    return xs_interp_state(owner) == XS_INTERP_ALIVE;
}

void xisan_set_current(xisan_owner_t owner)
{
    thread_current = owner;
}

xisan_owner_t xisan_current(void)
{
    return thread_current;
}

bool xs_registry_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&registry_lock, phase);
}
