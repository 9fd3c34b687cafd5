/* Allocation sites of the calling thread, cached: a site is captured once
 * per place in the code and reused (capturing a native stack costs far more
 * than an allocation). */
#include "site_cache.h"

#include "cfi.h"
#include "depot.h"
#include "hash.h"
#include "options.h"
#include "output.h"
#include "pystack.h"
#include "runtime.h"
#include "runtime_code.h"
#include "site.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

/* A new interpreter runs the same module code as the ones before it, in
 * code objects of its own, and a new thread starts with an empty cache: so
 * a per-thread miss looks next in one process-wide table, keyed by what is
 * the same in every interpreter (the code's file, qualified name, first
 * line and line table, the offset in it: instruction_key) with the rest of
 * the thread's key (the native depth, the caller and the kind), and then,
 * if need be, with the native stack walked (capture_site):
 * xs_id_cache slots of sites, eight ways a set, a set one cache line (the
 * set index is 11 or 12 more bits of the key's hash).  An interpreter's start
 * looks up some ten thousand keys; in one slot a key, a third of them
 * evicted each other and were captured again by every new interpreter.
 * Eight ways in 256 KiB evict as few as four ways did in 512 KiB
 * (docs/performance.md).  Made at start-up: it also takes the sites that
 * a thread's own cache evicted, and the second key's (code run in nested
 * evaluation loops) are most of a start's.  Until a second interpreter
 * appears only its first half is used (a program of one interpreter keeps
 * 128 KiB of it resident, not 256); then all of it, where the entries of
 * the first half whose key now maps to the second are no longer found.
 *
 * A process of many interpreters (a test suite) has more keys than that:
 * in CPython's interpreter suites more than half of the captures were of
 * keys the table had held and evicted.  So once there are two interpreters,
 * the table notes what it evicts (two bits of a Bloom filter for the set
 * and the 32 bits it keeps of the key), and after a miss of as many such
 * keys as an eighth of its room it is replaced by one twice its size, up to
 * 2 MiB: a workload whose misses are new keys keeps its table (the filter
 * is never cleared, so after some 70,000 evictions its false matches alone
 * could replace it).  A miss in the new table looks in the one it replaced
 * and copies what it finds there, so that one stays (up to 3 MiB with
 * both).  A table replaced twice over is never unmapped (a thread may
 * still be reading it), but its slots' memory is given back: they read as
 * empty; its header, on its first page, stays as it was. */
enum { SHARED_WAYS = 8, SHARED_SITES = 32768, SHARED_MAX_SITES = 262144 };
enum { VICTIM_BITS = 1 << 18 }; /* 32 KiB: after 10k victims, 0.5% of keys seem one */

typedef struct shared_table shared_table_t;
struct shared_table {
    _Atomic uint32_t sets;           /* sets in use: a power of 2 */
    uint32_t room;                   /* sets mapped */
    _Atomic(shared_table_t *) older; /* the table this one replaced, or NULL */
    _Atomic uint64_t *victims;       /* VICTIM_BITS bits, after the slots */
    size_t bytes;
    /* written by every thread's misses: not on the line every probe reads */
    _Alignas(64) _Atomic uint32_t misses_of_victims;
    _Alignas(64) _Atomic uint64_t slots[]; /* a set one cache line */
};

static _Atomic(shared_table_t *) shared_sites;
static atomic_bool shared_wide; /* a second interpreter has appeared */

static shared_table_t *map_shared_table(uint32_t room, uint32_t sets)
{
    size_t slots = offsetof(shared_table_t, slots) + (size_t)room * SHARED_WAYS * sizeof(uint64_t);
    size_t bytes = slots + VICTIM_BITS / 8;
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    shared_table_t *t = map;
    t->victims = (_Atomic uint64_t *)((char *)map + slots);
    t->room = room;
    t->sets = sets;
    t->bytes = bytes;
    return t;
}

void xh_alloc_sites_widen(void)
{
    atomic_store(&shared_wide, true);
    shared_table_t *t = atomic_load_explicit(&shared_sites, memory_order_acquire);
    if (t != NULL)
        atomic_store_explicit(&t->sets, t->room, memory_order_relaxed);
}

static void make_shared_sites(void)
{
    shared_table_t *t =
        map_shared_table(SHARED_SITES / SHARED_WAYS, SHARED_SITES / SHARED_WAYS / 2);
    shared_table_t *none = NULL;
    if (t != NULL && !atomic_compare_exchange_strong(&shared_sites, &none, t))
        munmap(t, t->bytes);
}

static atomic_bool shared_grow_failed; /* no memory for a larger table: not tried again */

/* Replaces `t` by a table twice its size, unless another thread did. */
static void grow_shared_sites(shared_table_t *t)
{
    shared_table_t *bigger = map_shared_table(t->room * 2, t->room * 2);
    if (bigger == NULL) {
        atomic_store(&shared_grow_failed, true);
        return;
    }
    bigger->older = t;
    shared_table_t *expected = t;
    if (!atomic_compare_exchange_strong(&shared_sites, &expected, bigger)) {
        munmap(bigger, bigger->bytes);
        return;
    }
    shared_table_t *oldest = atomic_exchange(&t->older, NULL);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (oldest != NULL && oldest->bytes > page) /* all but the header's page read as empty */
        madvise((char *)oldest + page, oldest->bytes - page, MADV_DONTNEED);
    if (xs_opt.verbosity >= 2)
        xs_message("info", "allocation site table: %u entries, after %u misses of keys it evicted",
                   bigger->room * SHARED_WAYS, (unsigned)atomic_load(&t->misses_of_victims));
}

void xh_alloc_sites_init(void)
{
    /* The evaluation loop is exported (the JIT and debuggers call it); its
     * symbol's size bounds it.  Not found: native stacks are whole. */
    void *eval = dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
    size_t size = xh_symbol_size(eval);
    if (size)
        xs_unwind_set_root((uintptr_t)eval, (uintptr_t)eval + size);
    if (atomic_load(&shared_sites) == NULL)
        make_shared_sites();
}

/* A kind's identity across interpreters: a size, or a type.  Each
 * interpreter makes heap types of its own (its modules' classes, the types
 * of multi-phase extension modules), so a heap type counts by its name and
 * size; static types are one object for all interpreters. */
static uint64_t kind_identity(uintptr_t kind)
{
    if (kind < XH_SITE_KIND_TYPES)
        return kind;
    const PyTypeObject *type = (const PyTypeObject *)kind;
    if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || type->tp_name == NULL)
        return kind;
    uint64_t h = xs_hash64(0x452821e638d01377ull, type->tp_name, strlen(type->tp_name));
    return xs_mix64(xs_mix64(h, (uint64_t)type->tp_basicsize), (uint64_t)type->tp_itemsize);
}

/* The code's identity and the offset in it of frame `f`'s instruction
 * (0: no code). */
static uint64_t instruction_key(const xh_iframe_t *f)
{
    if (f == NULL || f->code == NULL || !PyCode_Check(f->code))
        return 0;
    PyCodeObject *code = (PyCodeObject *)f->code;
    return xs_mix64(xh_code_identity(code),
                    (uint64_t)((char *)f->instr - (char *)code->co_code_adaptive));
}

static uint64_t shared_key(uint64_t instruction, uintptr_t depth, uintptr_t caller,
                           uintptr_t kind)
{
    return xs_mix64(xs_mix64(xs_mix64(xs_mix64(0, depth), caller), kind_identity(kind)),
                    instruction);
}

/* The second key: an instruction and the native stack walked there. */
static uint64_t native_key(uint64_t instruction, uint32_t native)
{
    return xs_mix64(xs_mix64(0x243f6a8885a308d3ull, native), instruction);
}

static uint64_t shared_set_index(shared_table_t *t, uint64_t key)
{
    return key & (atomic_load_explicit(&t->sets, memory_order_relaxed) - 1); /* a power of 2 */
}

static _Atomic uint64_t *shared_set(shared_table_t *t, uint64_t key)
{
    return &t->slots[shared_set_index(t, key) * SHARED_WAYS];
}

/* A victim's two bits (a Bloom filter's): of a key, by the 32 bits of it a
 * slot keeps, in set `index`. */
typedef struct victim_bits {
    uint32_t word[2];
    uint64_t bit[2];
} victim_bits_t;

static victim_bits_t victim_bits(uint64_t index, uint64_t key)
{
    uint64_t h = xs_mix64(index, key >> 32);
    victim_bits_t v;
    for (int i = 0; i < 2; i++, h >>= 32) {
        v.word[i] = (uint32_t)((h & (VICTIM_BITS - 1)) >> 6);
        v.bit[i] = 1ull << (h & 63);
    }
    return v;
}

static inline uint32_t shared_probe(shared_table_t *t, uint64_t key)
{
    _Atomic uint64_t *set = shared_set(t, key);
    uint32_t site = 0;
    for (int w = 0; w < SHARED_WAYS && site == 0; w++)
        site = xs_id_cache_get(&set[w], key);
    return site;
}

static void shared_put(shared_table_t *t, uint64_t key, uint32_t site)
{
    uint64_t index = shared_set_index(t, key);
    _Atomic uint64_t *set = &t->slots[index * SHARED_WAYS];
    int w = 0; /* an empty way, else one bits 32-34 of the key pick */
    while (w < SHARED_WAYS && atomic_load_explicit(&set[w], memory_order_relaxed))
        w++;
    if (w == SHARED_WAYS) {
        w = (int)((key >> 32) % SHARED_WAYS);
        if (atomic_load_explicit(&shared_wide, memory_order_relaxed)) {
            uint64_t evicted = atomic_load_explicit(&set[w], memory_order_relaxed);
            victim_bits_t v = victim_bits(index, evicted);
            for (int i = 0; i < 2; i++) {
                _Atomic uint64_t *word = &t->victims[v.word[i]];
                if (!(atomic_load_explicit(word, memory_order_relaxed) & v.bit[i]))
                    atomic_fetch_or_explicit(word, v.bit[i], memory_order_relaxed);
            }
        }
    }
    xs_id_cache_put(&set[w], key, site);
}

/* A key not in `t`: if `t` evicted it before, count the miss, and replace
 * `t` when they are many. */
static void shared_missed(shared_table_t *t, uint64_t key)
{
    if (t->room * SHARED_WAYS >= SHARED_MAX_SITES || atomic_load(&shared_grow_failed))
        return;
    victim_bits_t v = victim_bits(shared_set_index(t, key), key);
    if ((atomic_load_explicit(&t->victims[v.word[0]], memory_order_relaxed) & v.bit[0]) &&
        (atomic_load_explicit(&t->victims[v.word[1]], memory_order_relaxed) & v.bit[1]) &&
        atomic_fetch_add_explicit(&t->misses_of_victims, 1, memory_order_relaxed) + 1 >=
            t->room * SHARED_WAYS / 8 &&
        atomic_load(&shared_sites) == t)
        grow_shared_sites(t);
}

/* A key `t` does not hold, once there are two interpreters: from the table
 * `t` replaced (then copied into `t`), or 0. */
static __attribute__((noinline)) uint32_t shared_get_older(shared_table_t *t, uint64_t key)
{
    shared_table_t *older = atomic_load_explicit(&t->older, memory_order_acquire);
    uint32_t site = older ? shared_probe(older, key) : 0;
    if (site != 0)
        shared_put(t, key, site);
    else
        shared_missed(t, key);
    return site;
}

/* The site under `key`; 0: none. */
static inline uint32_t shared_get(shared_table_t *t, uint64_t key)
{
    uint32_t site = shared_probe(t, key);
    if (site != 0 || !atomic_load_explicit(&shared_wide, memory_order_relaxed))
        return site; /* one interpreter: no table replaced, no miss counted */
    return shared_get_older(t, key);
}

/* A capture.  The native stack is walked first: a site with the same one
 * under the same instruction (another caller or depth that walks the same
 * frames: code run again in a more deeply nested evaluation loop, each
 * level of imports nests one; a C recursion deeper than the frames kept)
 * is in the shared table under those two, and its Python stack need not
 * be read again.  The site found there is checked to hold that native
 * stack (the table keeps 32 bits of a key), and a capture without one
 * (alloc_stack_depth=0, the depot full) is not looked up by it. */
static __attribute__((noinline)) uint32_t capture_site(PyThreadState *ts, xh_iframe_t *f,
                                                       uint64_t instruction,
                                                       shared_table_t *table)
{
    size_t depth = (size_t)xs_opt.python_stack_depth;
    bool python = ts && depth && xh_python_frame(f) != NULL;
    xs_in_runtime++;
    uint32_t native = xs_capture_native(python);
    uint64_t key = native_key(instruction, native);
    table = native ? table : NULL;
    uint32_t site = table ? shared_get(table, key) : 0, found_native = 0, found_python;
    if (site != 0)
        xs_site_get(site, &found_native, &found_python);
    if (found_native != native) {
        site = xs_site_put(native, python ? xh_python_stack_id(ts, depth) : 0);
        if (table)
            shared_put(table, key, site);
    }
    xs_in_runtime--;
    return site;
}

uint32_t xh_alloc_site_miss(PyThreadState *ts, xh_site_slot_t *set, uintptr_t instr,
                            uintptr_t depth, uintptr_t caller, uintptr_t kind)
{
    if (xs_opt.alloc_stack_depth == 0 && xs_opt.python_stack_depth == 0)
        return 0;
    xh_iframe_t *f = ts ? xh_top_frame(ts) : NULL;
    shared_table_t *table = atomic_load_explicit(&shared_sites, memory_order_acquire);
    uint64_t instruction = instruction_key(f);
    if (set == NULL) { /* the thread's first: its stack's top, its table, then a capture */
        uintptr_t lo, hi;
        xh_thread.stack_hi = xs_thread_stack(&lo, &hi) ? hi : (uintptr_t)__builtin_frame_address(0);
        xh_thread.sites = xh_thread_table(XH_SITE_SETS * XH_SITE_WAYS, sizeof(xh_site_slot_t));
        return capture_site(ts, f, instruction, table);
    }
    uint64_t key = shared_key(instruction, depth, caller, kind);
    uint32_t site = table ? shared_get(table, key) : 0;
    if (site == 0) {
        site = capture_site(ts, f, instruction, table);
        if (table)
            shared_put(table, key, site);
    }
    memmove(&set[1], &set[0], (XH_SITE_WAYS - 1) * sizeof(set[0]));
    set[0] = (xh_site_slot_t){instr, xh_site_caller_key(f, caller), kind,
                              (uint32_t)depth | XH_SITE_FILLED, site};
    return site;
}
