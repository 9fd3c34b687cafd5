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

void xh_alloc_sites_init(void)
{
    /* The evaluation loop is exported (the JIT and debuggers call it); its
     * symbol's size bounds it.  Not found: native stacks are whole. */
    void *eval = dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
    size_t size = xh_symbol_size(eval);
    if (size)
        xs_unwind_set_root((uintptr_t)eval, (uintptr_t)eval + size);
}

/* A new interpreter runs the same module code as the ones before it, in
 * code objects of its own, and a new thread starts with an empty cache: so
 * a per-thread miss looks next in one process-wide table, keyed by what is
 * the same in every interpreter (the code's file, qualified name, first
 * line and line table, the offset in it, the native depth, the caller and
 * the kind): xs_id_cache slots of sites, eight ways a set, a set one
 * cache line (the set index is 12 more bits of the key's hash).  An
 * interpreter's start looks up some ten thousand keys; in one slot a key,
 * a third of them evicted each other and were captured again by every new
 * interpreter.  Eight ways in 256 KiB evict as few as four ways did in
 * 512 KiB (docs/performance.md).  The table is allocated when a second
 * interpreter appears: a program with one interpreter gains little from
 * it and would carry its quarter megabyte. */
enum { SHARED_WAYS = 8, SHARED_SITES = 32768 };
static _Atomic(_Atomic uint64_t *) shared_sites;

void xh_alloc_sites_share(void)
{
    if (atomic_load(&shared_sites) != NULL)
        return;
    /* page-aligned, so a set is one cache line */
    size_t bytes = SHARED_SITES * sizeof(uint64_t);
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return;
    _Atomic uint64_t *table = map, *none = NULL;
    if (!atomic_compare_exchange_strong(&shared_sites, &none, table))
        munmap(map, bytes);
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

static uint64_t shared_key(xh_iframe_t *f, uintptr_t depth, uintptr_t caller, uintptr_t kind)
{
    uint64_t h = xs_mix64(xs_mix64(xs_mix64(0, depth), caller), kind_identity(kind));
    if (f != NULL && f->code != NULL && PyCode_Check(f->code)) {
        PyCodeObject *code = (PyCodeObject *)f->code;
        h = xs_mix64(h, xh_code_identity(code));
        h = xs_mix64(h, (uint64_t)((char *)f->instr - (char *)code->co_code_adaptive));
    }
    return h;
}

static __attribute__((noinline)) uint32_t capture_site(PyThreadState *ts)
{
    size_t depth = (size_t)xs_opt.python_stack_depth;
    xs_in_runtime++;
    uint32_t site = xs_capture_site(ts && depth ? xh_python_stack_id(ts, depth) : 0);
    xs_in_runtime--;
    return site;
}

uint32_t xh_alloc_site_miss(PyThreadState *ts, xh_site_slot_t *set, uintptr_t instr,
                            uintptr_t depth, uintptr_t caller, uintptr_t kind)
{
    if (xs_opt.alloc_stack_depth == 0 && xs_opt.python_stack_depth == 0)
        return 0;
    if (set == NULL) { /* the thread's first: its stack's top, its table, then a capture */
        uintptr_t lo, hi;
        xh_thread.stack_hi = xs_thread_stack(&lo, &hi) ? hi : (uintptr_t)__builtin_frame_address(0);
        xh_thread.sites = xh_thread_table(XH_SITE_SETS * XH_SITE_WAYS, sizeof(xh_site_slot_t));
        return capture_site(ts);
    }
    xh_iframe_t *f = ts ? xh_top_frame(ts) : NULL;
    _Atomic uint64_t *table = atomic_load_explicit(&shared_sites, memory_order_acquire);
    uint64_t key = table ? shared_key(f, depth, caller, kind) : 0;
    _Atomic uint64_t *shared =
        table ? &table[(key % (SHARED_SITES / SHARED_WAYS)) * SHARED_WAYS] : NULL;
    uint32_t site = 0;
    for (int w = 0; shared && w < SHARED_WAYS && site == 0; w++)
        site = xs_id_cache_get(&shared[w], key);
    if (site == 0) {
        site = capture_site(ts);
        if (shared) { /* an empty way, else one bits 32-34 of the key pick */
            int w = 0;
            while (w < SHARED_WAYS && atomic_load_explicit(&shared[w], memory_order_relaxed))
                w++;
            w = w < SHARED_WAYS ? w : (int)((key >> 32) % SHARED_WAYS);
            xs_id_cache_put(&shared[w], key, site);
        }
    }
    memmove(&set[1], &set[0], (XH_SITE_WAYS - 1) * sizeof(set[0]));
    set[0] = (xh_site_slot_t){instr, xh_site_caller_key(f, caller), kind,
                              (uint32_t)depth | XH_SITE_FILLED, site};
    return site;
}
