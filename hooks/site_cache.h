/* Allocation sites of the calling thread (site_cache.c). */
#ifndef XH_SITE_CACHE_H
#define XH_SITE_CACHE_H

#include "thread.h"

/* Capturing a native stack costs microseconds, far more than an allocation.
 * So a site is captured once per (Python instruction, code object, native
 * stack depth, native caller, object type or block size) in a per-thread
 * cache and reused (the instruction's address names the code object, and
 * the code's version one made again at a freed one's address);
 * alloc_stack_depth=0 and python_stack_depth=0 turn capture off.  The
 * cache is 4-way set associative, most recently used first: with one slot
 * per set, two hot keys of a loop that happened to share a slot (a matter
 * of address layout) evicted each other at every iteration, and every
 * allocation of that loop captured a stack.  The hit is inline (it runs at
 * every object creation); a miss goes to site_cache.c. */
typedef struct xh_site_slot {
    uintptr_t instr, caller, kind; /* caller: xh_site_caller_key's */
    uint32_t depth; /* | XH_SITE_FILLED: an empty slot matches no key */
    uint32_t site;  /* 0 is cached too (no stack, or the depot full) */
} xh_site_slot_t;

#define XH_SITE_FILLED 0x80000000u
enum { XH_SITE_WAYS = 4, XH_SITE_SETS = 256 };

/* The miss: the set the key maps to (NULL: the thread has no table yet,
 * and `depth` is not known). */
uint32_t xh_alloc_site_miss(PyThreadState *ts, xh_site_slot_t *set, uintptr_t instr,
                            uintptr_t depth, uintptr_t caller, uintptr_t kind);

/* Kinds below this are sizes (size classes of raw blocks); from it on,
 * types (the object's type at its creation). */
#define XH_SITE_KIND_TYPES 4096

/* A site cache key and the set it maps to (NULL: the thread has no table
 * yet), as xh_site_probe leaves them for xh_alloc_site_miss. */
typedef struct xh_site_key {
    xh_site_slot_t *set;
    uintptr_t instr, depth;
} xh_site_key_t;

#define XH_SITE_MISSED UINT32_MAX

/* The caller as a per-thread slot holds it, with the version of the code
 * the frame runs in its upper half (a return address fits in 48 bits). */
static inline uintptr_t xh_site_caller_key(const xh_iframe_t *f, uintptr_t caller)
{
    return caller ^ (f ? (uintptr_t)xh_code_version(f) << 32 : 0);
}

/* The stack pointer, at a fixed distance from the one at the entry of the
 * function this is inlined into (which therefore needs no frame pointer
 * of its own, as __builtin_frame_address would give it). */
static inline __attribute__((always_inline)) uintptr_t xh_stack_pointer(void)
{
#if defined(__x86_64__)
    uintptr_t sp;
    __asm__("mov %%rsp, %0" : "=r"(sp));
    return sp;
#else
    return (uintptr_t)__builtin_frame_address(0);
#endif
}
/* The allocation site of the calling thread if its cache holds it, else
 * XH_SITE_MISSED and `key` filled for the miss; `caller` and `kind` (a type
 * or a size) tell apart allocations made at the same Python instruction.
 * Always inline: the native stack depth in the key is the depth of the
 * function it is inlined into, the same at every call from one place. */
static inline __attribute__((always_inline)) uint32_t
xh_site_probe(PyThreadState *ts, uintptr_t caller, uintptr_t kind, xh_site_key_t *key)
{
    /* The top frame's instruction pointer names the code object and the
     * offset in it (for a C-stack shim frame, the shim: depth and caller
     * then tell the sites apart). */
    xh_iframe_t *f = ts ? xh_top_frame(ts) : NULL;
    uintptr_t instr = f ? (uintptr_t)f->instr : 0;
    /* the thread's table and its stack's top are set up together, by its
     * first miss: the hit needs no call, so no frame */
    xh_site_slot_t *slots = xh_thread.sites;
    uintptr_t depth = xh_thread.stack_hi - xh_stack_pointer();
    *key = (xh_site_key_t){NULL, instr, depth};
    if (XS_UNLIKELY(slots == NULL))
        return XH_SITE_MISSED;
    caller = xh_site_caller_key(f, caller);
    uint64_t h = (instr ^ (depth << 20) ^ (caller << 7) ^ (kind << 3)) * 0x9e3779b97f4a7c15ull;
    xh_site_slot_t *set = &slots[(h >> 56) * XH_SITE_WAYS];
    key->set = set;
    uint32_t filled_depth = (uint32_t)depth | XH_SITE_FILLED;
    for (int w = 0; w < XH_SITE_WAYS; w++) {
        xh_site_slot_t *s = &set[w];
        if (XS_LIKELY(s->instr == instr && s->depth == filled_depth && s->caller == caller &&
                      s->kind == kind)) {
            uint32_t site = s->site;
            if (w > 0) { /* one step towards the front */
                xh_site_slot_t hit = *s;
                *s = set[w - 1];
                set[w - 1] = hit;
            }
            return site;
        }
    }
    return XH_SITE_MISSED;
}

/* The allocation site of the calling thread: the probe, then the miss. */
static inline __attribute__((always_inline)) uint32_t xh_alloc_site(PyThreadState *ts,
                                                                    uintptr_t caller,
                                                                    uintptr_t kind)
{
    xh_site_key_t key;
    uint32_t site = xh_site_probe(ts, caller, kind, &key);
    if (XS_LIKELY(site != XH_SITE_MISSED))
        return site;
    return xh_alloc_site_miss(ts, key.set, key.instr, key.depth, caller, kind);
}
/* Native stacks of sites with a Python stack end at the evaluation loop
 * (xs_capture_native): find it; and make the process-wide table of sites. */
void xh_alloc_sites_init(void);
/* A second interpreter exists: the process-wide table uses all its room. */
void xh_alloc_sites_widen(void);

#endif
