/* Allocation sites of the calling thread, cached: a site is captured once
 * per place in the code and reused (capturing a native stack costs far more
 * than an allocation). */
#include "site_cache.h"

#include "cfi.h"
#include "depot.h"
#include "hash.h"
#include "options.h"
#include "pystack.h"
#include "runtime.h"
#include "runtime_code.h"
#include "site.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

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
 * the first half whose key now maps to the second are no longer found. */
enum { SHARED_WAYS = 8, SHARED_SITES = 32768, SHARED_SETS = SHARED_SITES / SHARED_WAYS };
static _Atomic(_Atomic uint64_t *) shared_sites;
static _Atomic uint32_t shared_sets = SHARED_SETS / 2;

void xh_alloc_sites_widen(void)
{
    atomic_store_explicit(&shared_sets, SHARED_SETS, memory_order_relaxed);
}

static void make_shared_sites(void)
{
    /* page-aligned, so a set is one cache line */
    size_t bytes = SHARED_SITES * sizeof(uint64_t);
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return;
    _Atomic uint64_t *table = map, *none = NULL;
    if (!atomic_compare_exchange_strong(&shared_sites, &none, table))
        munmap(map, bytes);
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

static _Atomic uint64_t *shared_set(_Atomic uint64_t *table, uint64_t key)
{
    uint64_t sets = atomic_load_explicit(&shared_sets, memory_order_relaxed); /* a power of 2 */
    return &table[(key & (sets - 1)) * SHARED_WAYS];
}

static uint32_t shared_get(_Atomic uint64_t *table, uint64_t key)
{
    _Atomic uint64_t *set = shared_set(table, key);
    uint32_t site = 0;
    for (int w = 0; w < SHARED_WAYS && site == 0; w++)
        site = xs_id_cache_get(&set[w], key);
    return site;
}

static void shared_put(_Atomic uint64_t *table, uint64_t key, uint32_t site)
{
    _Atomic uint64_t *set = shared_set(table, key);
    int w = 0; /* an empty way, else one bits 32-34 of the key pick */
    while (w < SHARED_WAYS && atomic_load_explicit(&set[w], memory_order_relaxed))
        w++;
    w = w < SHARED_WAYS ? w : (int)((key >> 32) % SHARED_WAYS);
    xs_id_cache_put(&set[w], key, site);
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
                                                       _Atomic uint64_t *table)
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
    _Atomic uint64_t *table = atomic_load_explicit(&shared_sites, memory_order_acquire);
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
