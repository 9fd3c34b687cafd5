/* xisan/abi.h: the one contract between the parts of xisan that are built or
 * loaded separately.  Nothing here depends on Python.
 *
 *   preload library   libxisan_preload.so, LD_PRELOADed by `xisan run` into
 *                     every process; defines the state instrumented
 *                     extensions read and, for CPython 3.12, the object hooks
 *   core              libxisan.so (src/): tags, checks, reports
 *   adapter           libxisan_py3NN.so (hooks/), one per CPython version;
 *                     links the core, is loaded by the preload library
 *   instrumented      extensions built with <xisan/python.h>: inline checks
 *   extensions        that read the preload library's state
 *
 * What crosses a boundary is declared here once: the block header every
 * tagged block carries, the state and per-thread cache instrumented
 * extensions read, the entry point through which the preload library
 * starts an adapter (and hands it its object hooks), and the descriptor an
 * adapter registers with the core.  XISAN_ABI_VERSION changes with any of
 * them: each side checks it, and a mismatch runs unchecked instead of
 * misreading memory. */
#ifndef XISAN_ABI_H
#define XISAN_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XISAN_ABI_VERSION 8

#ifdef __cplusplus
#define XISAN_STATIC_ASSERT static_assert
#else
#define XISAN_STATIC_ASSERT _Static_assert
#endif

/* ---- the block header (core, adapter, instrumented extensions) ---------- */

/* Right in front of every block the allocator hooks hand out: the magic
 * and the owner word.  A block carries one of two header forms:
 *
 *   long  (16 bytes)  [site][size][magic][word]  user     word bit 31 set
 *   short  (8 bytes)              [magic][word]  user     word bit 31 clear
 *
 * The long form keeps the owner id (29 bits), the allocation site id and
 * the requested size in full.  The short form packs them into the word:
 * owner id in bits 0-5, the size (16k + r, r in 1..8, k < 29) in bits 6-13
 * as k << 3 | (r - 1), the site id in bits 14-28.  A block gets the short
 * form only when it saves memory and everything fits: its size is 16k+1 to
 * 16k+8 bytes up to 456 (16-byte allocators then hand out a size class
 * less), owner ids up to 63 and site ids below 2^15.  Both forms keep the
 * two flags at the same bits, and the owner word at the user pointer - 4.
 *
 * A third form, the slot form, has no header: the same 8 bytes as the
 * short form sit in a table beside the heap, one slot per 32 bytes of
 * address space (xisan_block_slot).  Blocks of 25 to 48 bytes take it
 * where any header would move them to a larger size class and their ids
 * fit the short word; its size field then holds 232 + (size - 25), which
 * the short form never uses (that form stops at 456 bytes, k < 29).  A
 * reader tries the header in front first: when its magic fails, the
 * block's slot, whose magic is the same keyed hash of the user pointer.
 *
 * A fourth, the pool form, is that of the blocks of up to 512 bytes xisan
 * serves from pools of its own (xisan_pool_word): no magic, only the short
 * form's word, in the word array at the start of the block's pool, its
 * size field XISAN_POOL_LIVE (set while the block is handed out) plus the
 * requested size less one, modulo 16 (the pool's block size says the
 * rest).  Whether an address is a pool's is exact: a bitmap over the
 * address space says which 1 MiB arenas hold pools. */
struct xisan_block_tag {
    uint32_t magic; /* xisan_block_magic(user pointer): tells tagged blocks from others */
    uint32_t word;  /* owner id | XISAN_OWNER_* flags | form and, short, site and size */
};

#define XISAN_WORD_LONG 0x80000000u        /* the long form: site and size in front */
#define XISAN_OWNER_SHAREABLE 0x40000000u  /* passes every check */
#define XISAN_OWNER_QUARANTINE 0x20000000u /* its misdirected end was reported: never freed */
#define XISAN_OWNER_MASK 0x1fffffffu       /* the owner id, long form */
#define XISAN_SHORT_OWNER_MASK 0x3fu       /* the owner id, short form */
#define XISAN_SHORT_SIZE_SHIFT 6
#define XISAN_SHORT_SITE_SHIFT 14
#define XISAN_SHORT_SITE_LIMIT 0x8000u     /* site ids below this fit the short form */
#define XISAN_LONG_HEADER 16u
#define XISAN_SHORT_HEADER 8u
#define XISAN_SLOT_SIZE_CODE 232u          /* the slot form's size field: 232 + (size - 25) */
#define XISAN_SLOT_GRANULE_SHIFT 5         /* one slot per 32 bytes of address space */
#define XISAN_SLOT_LEAF_SHIFT 26           /* a leaf of slots per 64 MiB of it */
#define XISAN_SLOT_ADDRESS_BITS 47         /* the address space the table covers */

XISAN_STATIC_ASSERT(sizeof(struct xisan_block_tag) == 8, "block tag size");
XISAN_STATIC_ASSERT(offsetof(struct xisan_block_tag, word) == 4, "owner word offset");

/* The owner id an owner word names, in either form. */
static inline uint32_t xisan_word_owner(uint32_t word)
{
    return word & ((word & XISAN_WORD_LONG) ? XISAN_OWNER_MASK : XISAN_SHORT_OWNER_MASK);
}

/* The header's magic: a keyed hash of the user pointer.  One multiply, as it
 * runs at every allocation, free, creation and deallocation; the high half
 * depends on every bit of the key; never 0, so a cleared header never
 * matches. */
static inline uint32_t xisan_block_magic(const void *user, uint64_t secret)
{
    uint64_t x = ((uint64_t)(uintptr_t)user ^ secret) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(x >> 32) | 1u;
}

/* The slot of a slot-form block at `user`, through the top table `top`
 * (one leaf pointer per 2^XISAN_SLOT_LEAF_SHIFT bytes; a leaf is written
 * before its pointer is published), or NULL: no leaf there.  The slot is
 * the block's only where its magic matches: an address past the table's
 * reach shares a slot with one below it, whose magic differs (xisan writes
 * no slot for such an address). */
static inline struct xisan_block_tag *xisan_block_slot(struct xisan_block_tag *const *top,
                                                       const void *user)
{
    uintptr_t a = (uintptr_t)user;
    struct xisan_block_tag *leaf = __atomic_load_n(
        &top[(a >> XISAN_SLOT_LEAF_SHIFT) &
             ((1u << (XISAN_SLOT_ADDRESS_BITS - XISAN_SLOT_LEAF_SHIFT)) - 1)],
        __ATOMIC_ACQUIRE);
    if (leaf == NULL)
        return NULL;
    return leaf + ((a >> XISAN_SLOT_GRANULE_SHIFT) &
                   ((1u << (XISAN_SLOT_LEAF_SHIFT - XISAN_SLOT_GRANULE_SHIFT)) - 1));
}

/* The pools' layout: 16 KiB pools, aligned, carved from 1 MiB arenas; a
 * pool starts with this header, its words (4 bytes a block) at
 * XISAN_POOL_WORDS, its blocks from `first` on. */
#define XISAN_POOL_SHIFT 14
#define XISAN_POOL_ARENA_SHIFT 20
#define XISAN_POOL_ADDRESS_BITS 47 /* the address space the arena bitmap covers */
#define XISAN_POOL_WORDS 64u
/* in a pool-form word's size field: the block is handed out.  Pool words
 * are told from the short form's by their address, not by this bit (short
 * size codes 16 to 31 exist too); it stays below the slot form's codes. */
#define XISAN_POOL_LIVE (16u << XISAN_SHORT_SIZE_SHIFT)
struct xisan_pool_head {
    void *heap;
    uint16_t block_size; /* 16 to 512 */
    uint16_t n_blocks;   /* 0: the pool holds no blocks */
    uint16_t first;      /* offset of block 0 from the pool's start */
    uint16_t fresh;
    uint32_t inverse;    /* ceil(2^32 / block_size) */
};

/* Is `address` in one of the arenas `bitmap` (one bit per MiB) marks? */
static inline bool xisan_pool_arena(const uint64_t *bitmap, const void *address)
{
    uintptr_t arena = (uintptr_t)address >> XISAN_POOL_ARENA_SHIFT;
    return (arena >> (XISAN_POOL_ADDRESS_BITS - XISAN_POOL_ARENA_SHIFT)) == 0 &&
           ((__atomic_load_n(&bitmap[arena >> 6], __ATOMIC_RELAXED) >> (arena & 63)) & 1);
}

/* The index of the block of pool `pool` that starts at `address`, or
 * UINT32_MAX: none starts there (an interior pointer, the pool's header or
 * tail).  One multiply: an offset that is a multiple of the block size
 * leaves less than 2^19 in the low half of its product with the inverse
 * (the index times the inverse's rounding, under 512, times at most
 * 1023); any other at least 2^32 / 512. */
static inline uint32_t xisan_pool_index(const void *pool, const void *address)
{
    const struct xisan_pool_head *head = (const struct xisan_pool_head *)pool;
    uintptr_t off = (uintptr_t)address - (uintptr_t)pool - head->first;
    uint64_t product = (uint64_t)off * head->inverse;
    uint32_t i = (uint32_t)(product >> 32);
    if (off >= (1u << XISAN_POOL_SHIFT) || (uint32_t)product >= (1u << 19) || i >= head->n_blocks)
        return UINT32_MAX;
    return i;
}

/* The pool-form word of the block handed out at `address`, or NULL: not a
 * pool's, or no block handed out starts there. */
static inline const uint32_t *xisan_pool_word(const uint64_t *bitmap, const void *address)
{
    if (!xisan_pool_arena(bitmap, address))
        return NULL;
    char *pool = (char *)((uintptr_t)address & ~(((uintptr_t)1 << XISAN_POOL_SHIFT) - 1));
    uint32_t i = xisan_pool_index(pool, address);
    if (i == UINT32_MAX)
        return NULL;
    const uint32_t *word = (const uint32_t *)(pool + XISAN_POOL_WORDS) + i;
    return (__atomic_load_n(word, __ATOMIC_RELAXED) & XISAN_POOL_LIVE) ? word : NULL;
}

/* ---- instrumented extensions (preload library, adapter) ----------------- */

/* Defined by the preload library as `xisan_python_state`; the adapter fills
 * it when it activates; the inline checks of <xisan/python.h> read it
 * (through a weak reference, so such an extension also loads without
 * xisan). */
struct xisan_python_state {
    uint32_t version;           /* XISAN_ABI_VERSION once active, 0 before */
    int atomic_refcount;        /* the atomic_refcount option */
    uint64_t tag_secret;        /* key of the header magic */
    ptrdiff_t tstate_offset;    /* thread-state TLS slot from the thread pointer; 0: unknown */
    const uint32_t *generation; /* bumped when an interpreter ends */
    /* Bytes between the block the hooks handed out and the start of the
     * object's memory: CPython's debug hooks, when they sit above the
     * checker's, keep their own header there (0 without them). */
    size_t block_offset;
    /* The slow half of a check that failed the fast one: decides, reports
     * (or aborts); `pc` is the instrumented call site. */
    void (*report)(void *op, int access, const char *file, int line, const char *function,
                   void *pc);
    /* The calling thread's owner id, refreshing xisan_python_thread. */
    uint32_t (*current_owner)(void);
    /* The slot form's top table (xisan_block_slot); NULL: no block has it. */
    struct xisan_block_tag *const *tag_slots;
    /* The pool form's arena bitmap (xisan_pool_word); NULL: no pools. */
    const uint64_t *pool_arenas;
};

/* Defined by the preload library as the initial-exec thread-local
 * `xisan_python_thread`: the interpreter the thread last ran and its owner
 * id, shared by the adapter and instrumented extensions. */
struct xisan_python_thread {
    void *interp;
    uint32_t generation;
    uint32_t owner;
    /* The type of the object whose memory this thread's next object
     * allocation is, set by the preload library's definitions of CPython's
     * typed allocation functions (_PyObject_GC_New, PyType_GenericAlloc,
     * ...) and taken by the allocator hooks; NULL: not known. */
    const void *alloc_type;
};

XISAN_STATIC_ASSERT(offsetof(struct xisan_python_state, tag_secret) == 8, "state layout");
XISAN_STATIC_ASSERT(offsetof(struct xisan_python_state, tstate_offset) == 16, "state layout");
XISAN_STATIC_ASSERT(offsetof(struct xisan_python_state, generation) == 24, "state layout");
XISAN_STATIC_ASSERT(offsetof(struct xisan_python_state, block_offset) == 32, "state layout");
XISAN_STATIC_ASSERT(offsetof(struct xisan_python_thread, owner) == 12, "thread cache layout");
XISAN_STATIC_ASSERT(offsetof(struct xisan_python_thread, alloc_type) == 16, "thread cache layout");

/* ---- preload library -> adapter ------------------------------------------ */

struct sigaction;

/* Hooks the preload library calls; an adapter fills the slots it needs.
 * libpython calls its own exported functions through its PLT, so the
 * preload library's definitions of these come first; each calls the real
 * one (and in any other process does nothing else). */
struct xisan_object_hooks {
    /* _Py_NewReference/_Py_Dealloc: CPython 3.12 has no object
     * creation/destruction hook of its own */
    void (*new_reference)(void *op, void *caller);
    void (*dealloc)(void *op);
    /* Py_InitializeFromConfig, which every way of starting CPython goes
     * through: the allocators are final (PYTHONMALLOC, -X dev applied) and
     * no object exists yet */
    void (*before_initialize)(void);
    /* Py_EndInterpreter(tstate), before it runs: the interpreter is about
     * to end (its modules are still there) */
    void (*before_end_interpreter)(void *tstate);
    /* sigaction() (and signal()) of the program: the crash handler keeps
     * itself first for the deadly signals and calls the program's handler
     * after its report; NULL: straight to the C library */
    int (*sigaction)(int sig, const struct sigaction *act, struct sigaction *old);
    /* _PyObject_DebugMallocStats(out) (sys._debugmallocstats(),
     * PYTHONMALLOCSTATS): CPython prints pymalloc's statistics only when
     * pymalloc is the object domain's allocator, so the adapter calls
     * `real` with its hooks out of the way where that is safe */
    int (*malloc_stats)(int (*real)(void *out), void *out);
    /* _PyMem_GetCurrentAllocatorName() (_testinternalcapi, test_cmd_line):
     * CPython names only the allocator sets it knows, and xisan's hooks are
     * none of them; the adapter answers for the allocators beneath them */
    const char *(*allocator_name)(const char *(*real)(void));
    /* Py_EndInterpreter(tstate), after it returned: the interpreter whose
     * end the last before_end_interpreter of this thread announced is gone */
    void (*after_end_interpreter)(void);
};

struct xisan_preload_info {
    uint32_t abi_version;             /* XISAN_ABI_VERSION of the preload library */
    unsigned long python_version;     /* the interpreter's Py_Version */
    struct xisan_object_hooks *hooks; /* the preload library's slots */
};

/* The one symbol the preload library looks up in an adapter. */
#define XISAN_ADAPTER_ENTRY "xisan_adapter_activate"
typedef int (*xisan_adapter_activate_fn)(const struct xisan_preload_info *info);

/* ---- adapter -> core ------------------------------------------------------ */

/* One frame of the interpreted language's stack. */
struct xisan_pyframe {
    const char *file;
    const char *function;
    int line;
};

/* Room for a frame's file and function names in a report. */
#define XISAN_PYNAME_MAX 160

/* What a stack says beyond its frames: where it crosses from one
 * interpreter into the one that entered it (frames [first, next first)
 * run in interpreter `interp`, CPython's id), and the test it runs. */
#define XISAN_PYSECTIONS_MAX 8
struct xisan_pystack_info {
    size_t n_sections;
    struct {
        size_t first;
        long interp;
    } section[XISAN_PYSECTIONS_MAX];
    char test[256]; /* unittest id (module.Class.method) of the innermost test, "": none */
};

/* What the core asks of the interpreter it runs under; registered with
 * xs_runtime_set_adapter().  Every member may be NULL. */
struct xisan_adapter {
    uint32_t abi_version; /* XISAN_ABI_VERSION */
    /* The calling thread's stack, innermost first, names copied into
     * `names`, continued through the interpreters that entered this one on
     * this thread; returns the number of frames.  `info` (may be NULL)
     * gets the interpreter sections and the test. */
    size_t (*python_stack)(struct xisan_pyframe *out, char (*names)[2][XISAN_PYNAME_MAX],
                           size_t max, struct xisan_pystack_info *info);
    /* Write a faulthandler-style traceback of the calling thread to fd. */
    void (*dump_traceback)(int fd);
    /* Prefix of the interpreter runtime's module name ("libpython"): the
     * SUMMARY line looks past its frames. */
    const char *runtime_module;
    /* Native frames from the top of a stack through the last frame whose
     * function starts with this prefix are the adapter's own dispatch and
     * are left out of reports. */
    const char *dispatch_prefix;
    /* Functions of the interpreter's evaluation loop start with this
     * prefix: native frames inner to the first of them are native code the
     * interpreted code called (an extension's, say). */
    const char *eval_prefix;
    /* Source file prefixes of the runtime's own native code outside its
     * runtime module (the interpreter's bundled extension modules), so
     * they are not taken for the user's; NULL-ended, or NULL. */
    const char *const *runtime_sources;
    /* The live object in a tagged block of `size` bytes, given a copy of its
     * first `n` bytes: its type name (empty when the block is no object),
     * its address, and whether the runtime never frees it by design. */
    void (*describe_block)(void *user, size_t size, const void *bytes, size_t n, char *type,
                           size_t len, uintptr_t *address, bool *never_freed);
    /* Shadow GC walk of the calling thread's interpreter (xisan_python_scan). */
    long (*scan)(void);
    /* The calling thread's interpreter as an owner id (XISAN_UNOWNED: none);
     * async-signal-safe. */
    uint32_t (*current_owner)(void);
    /* Write the interpreted stacks of every thread but the calling one, of
     * every interpreter, to fd, for a crash report: no lock, no allocation. */
    void (*dump_threads)(int fd);
    /* What to call the live object at `object` beyond its type (a type's
     * or function's qualified name, an excerpt of a string); "" for none.
     * No allocation. */
    void (*name_object)(uintptr_t object, char *out, size_t len);
    /* Functions that crash on purpose, to test crash handlers (NULL-ended;
     * NULL: none): a crash inside one is recorded in the log, not printed. */
    const char *const *deliberate_crashes;
};

#endif
