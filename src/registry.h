/* Interpreter registry: owner id -> name, state and per-interpreter flags. */
#ifndef XS_REGISTRY_H
#define XS_REGISTRY_H

#include "fork.h"

typedef enum xs_interp_state {
    XS_INTERP_UNKNOWN = 0,
    XS_INTERP_ALIVE,
    XS_INTERP_ENDED,
} xs_interp_state_t;

XS_INTERNAL uint32_t xs_interp_register(int64_t external_id, const char *name);
XS_INTERNAL void xs_interp_end(uint32_t owner);
XS_INTERNAL xs_interp_state_t xs_interp_state(uint32_t owner);
/* The interpreter has begun to end; xs_interp_ending() stays true from
 * then on, and from xs_interp_end() on.  Inline: the allocator hooks ask
 * at every free and object death. */
XS_INTERNAL void xs_interp_mark_ending(uint32_t owner);
#define XS_ENDING_BITS (1 << 16)
XS_INTERNAL extern _Atomic uint64_t xs_interp_ending_bits[XS_ENDING_BITS / 64];
static inline bool xs_interp_ending(uint32_t owner)
{
    return owner < XS_ENDING_BITS &&
           (atomic_load_explicit(&xs_interp_ending_bits[owner / 64], memory_order_relaxed) &
            (1ull << (owner % 64)));
}
/* xs_interp_state(owner) == XS_INTERP_ENDED, without a lock. */
XS_INTERNAL bool xs_interp_ended(uint32_t owner);
/* How an interpreter relates to the others, as its adapter tells: one word
 * for reports ("main", "isolated", "legacy"; NULL: not known), and whether
 * it shares one heap and lock with other interpreters by the runtime's
 * design (CPython's main and legacy interpreters), readable without a lock. */
XS_INTERNAL void xs_interp_set_config(uint32_t owner, const char *config, bool shares_heap);
XS_INTERNAL const char *xs_interp_config(uint32_t owner);
XS_INTERNAL extern _Atomic uint64_t xs_interp_shared_bits[XS_ENDING_BITS / 64];
static inline bool xs_interp_shares_heap(uint32_t owner)
{
    return owner < XS_ENDING_BITS &&
           (atomic_load_explicit(&xs_interp_shared_bits[owner / 64], memory_order_acquire) &
            (1ull << (owner % 64)));
}
/* Copies the interpreter's name (or "interpreter N") into buf. */
XS_INTERNAL void xs_interp_name(uint32_t owner, char *buf, size_t len);
/* Set-once per-interpreter flag used by adapters (e.g. "checks on");
 * returns true for the one caller that set it. */
XS_INTERNAL bool xs_interp_claim_flag(uint32_t owner, unsigned flag);
XS_INTERNAL void xs_interp_release_flag(uint32_t owner, unsigned flag);
/* Bumped every time an interpreter ends; thread caches compare it. */
XS_INTERNAL extern _Atomic uint32_t xs_interp_generation;
/* The owner ids of ended interpreters, up to max; returns how many there
 * are. */
XS_INTERNAL size_t xs_interp_list_ended(uint32_t *out, size_t max);
XS_INTERNAL bool xs_registry_fork(xs_fork_phase_t phase);

#endif
