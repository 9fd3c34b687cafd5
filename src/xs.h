/* Shared between the files of the xisan core and the CPython adapter.
 * Names: xisan_ is public (include/xisan.h), xs_ is internal (hidden),
 * everything else is static. */
#ifndef XS_H
#define XS_H

#include "xisan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XS_HIDDEN __attribute__((visibility("hidden")))
/* Thread-locals read on hot paths: static TLS, no __tls_get_addr call, also
 * when the adapter is dlopen()ed (it needs only a few bytes of the static
 * TLS surplus glibc keeps for that). */
#define XS_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#define XS_LIKELY(x) __builtin_expect(!!(x), 1)
#define XS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define XS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- options (options.c) ---------------------------------------------- */

/* String options are stored in the struct, so parsing into one struct
 * never changes another. */
#define XS_OPT_STR_MAX 512
#define XS_OPT_FIELD_BOOL(name) int name
#define XS_OPT_FIELD_INT(name) int name
#define XS_OPT_FIELD_STR(name) char name[XS_OPT_STR_MAX]

typedef struct xs_options {
#define XISAN_OPTION(type, name, def, lo, hi, help) XS_OPT_FIELD_##type(name);
#include "options.inc"
#undef XISAN_OPTION
} xs_options_t;

XS_HIDDEN extern xs_options_t xs_opt;

/* Parse a colon-separated name=value list into `out` (starting from the
 * defaults).  On error returns -1 and writes a one-line message to `err`. */
XS_HIDDEN int xs_options_parse(const char *text, xs_options_t *out, char *err, size_t errlen);
XS_HIDDEN void xs_options_defaults(xs_options_t *out);
/* The `monitor` option: which access checks run at sys.monitoring events. */
#define XS_MONITOR_LIST(X)      \
    X(PY_START, "py_start")     \
    X(CALL, "call")             \
    X(RETURN, "return")         \
    X(RAISE, "raise")
enum {
#define XS_MONITOR_BIT(name, str) XS_MONITOR_BIT_##name,
    XS_MONITOR_LIST(XS_MONITOR_BIT)
#undef XS_MONITOR_BIT
};
/* Parses "py_start,call" into a mask of 1 << XS_MONITOR_BIT_*; "none" is 0. */
XS_HIDDEN int xs_monitor_parse(const char *spec, unsigned *mask, char *err, size_t errlen);
/* Write `xisan help` text to fd. */
XS_HIDDEN void xs_options_print_help(int fd);
/* Is `name` a known option?  (for `xisan run -o`) */
XS_HIDDEN bool xs_options_known(const char *name);

/* ---- output (output.c) -------------------------------------------------- */

/* All messages go through here: "xisan: <level>: ...", written with write(2)
 * in one call so lines from parallel threads never interleave. */
XS_HIDDEN void xs_message(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
XS_HIDDEN void xs_write_all(int fd, const char *buf, size_t len);

/* Bounded string builder that never allocates. */
typedef struct xs_buf {
    char *p;
    size_t len, cap;
    bool truncated;
} xs_buf_t;
XS_HIDDEN void xs_buf_init(xs_buf_t *b, char *storage, size_t cap);
XS_HIDDEN void xs_buf_printf(xs_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
XS_HIDDEN void xs_buf_puts(xs_buf_t *b, const char *s);
XS_HIDDEN void xs_buf_json_string(xs_buf_t *b, const char *s);

/* ---- tags (tag.c; the fast path is inline) ------------------------------ */

/* Flags kept in the owner word of a header. */
#define XS_OWNER_SHAREABLE 0x80000000u  /* passes every check */
#define XS_OWNER_QUARANTINE 0x40000000u /* its misdirected end was reported: never free it */
#define XS_OWNER_MASK 0x3fffffffu

typedef struct xs_header {
    uint32_t magic; /* xs_magic(user pointer): tells our blocks from others */
    uint32_t owner; /* owner id | XS_OWNER_* flags */
    uint32_t site;  /* allocation site id (depot), 0: unknown */
    uint32_t size;  /* requested size, saturated at UINT32_MAX */
} xs_header_t;

_Static_assert(sizeof(xs_header_t) == XISAN_HEADER_SIZE, "header size");

XS_HIDDEN extern uint64_t xs_tag_secret;

static inline uint32_t xs_magic(const void *user)
{
    /* one multiply: it runs at every allocation, free, creation and
     * deallocation; the high half depends on every bit of the key */
    uint64_t x = ((uint64_t)(uintptr_t)user ^ xs_tag_secret) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(x >> 32) | 1u; /* never 0: a cleared header never matches */
}

static inline xs_header_t *xs_header_of(const void *user)
{
    return (xs_header_t *)((char *)user - sizeof(xs_header_t));
}

/* The header of a block xisan tagged, or NULL. */
static inline xs_header_t *xs_tagged_header(const void *user)
{
    xs_header_t *h = xs_header_of(user);
    return h->magic == xs_magic(user) ? h : NULL;
}

static inline void *xs_tag_block(void *raw, size_t size, uint32_t owner, uint32_t site)
{
    xs_header_t *h = (xs_header_t *)raw;
    void *user = (char *)raw + sizeof(xs_header_t);
    h->owner = owner;
    h->site = site;
    h->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    h->magic = xs_magic(user);
    return user;
}

/* The check itself: may a thread of interpreter `current` touch a block
 * whose header owner word is `owner_word`?  Unowned blocks and threads with
 * no interpreter pass; so do blocks marked shareable. */
static inline bool xs_owner_allows(uint32_t owner_word, uint32_t current)
{
    uint32_t owner = owner_word & XS_OWNER_MASK;
    return owner == current || owner == XISAN_UNOWNED || current == XISAN_UNOWNED ||
           (owner_word & XS_OWNER_SHAREABLE);
}

XS_HIDDEN void xs_tag_init(void);

/* ---- interpreter registry (registry.c) ---------------------------------- */

typedef enum xs_interp_state {
    XS_INTERP_UNKNOWN = 0,
    XS_INTERP_ALIVE,
    XS_INTERP_ENDED,
} xs_interp_state_t;

XS_HIDDEN uint32_t xs_interp_register(int64_t external_id, const char *name);
XS_HIDDEN void xs_interp_end(uint32_t owner);
XS_HIDDEN xs_interp_state_t xs_interp_state(uint32_t owner);
/* Copies the interpreter's name (or "interpreter N") into buf. */
XS_HIDDEN void xs_interp_name(uint32_t owner, char *buf, size_t len);
/* Set-once per-interpreter flag used by adapters (e.g. "monitoring on");
 * returns true for the one caller that set it. */
XS_HIDDEN bool xs_interp_claim_flag(uint32_t owner, unsigned flag);
XS_HIDDEN void xs_interp_release_flag(uint32_t owner, unsigned flag);
/* Bumped every time an interpreter ends; thread caches compare it. */
XS_HIDDEN extern _Atomic uint32_t xs_interp_generation;

/* The owner ids of ended interpreters, up to max; returns how many there
 * are. */
XS_HIDDEN size_t xs_interp_list_ended(uint32_t *out, size_t max);

/* ---- heap scan (heapscan.c) --------------------------------------------- */

/* Calls visit for each live tagged block whose owner's bit is set in the
 * bitmap `owners` (quarantined blocks are left out), found by reading the
 * process's anonymous writable memory.  The visitor gets a copy of the
 * header and of the block's first `n` bytes (as much as one read got).
 * Returns the number of blocks; the number of pages read goes to
 * *pages_read. */
typedef void (*xs_heap_visit_fn)(void *user, const xs_header_t *h, const void *bytes, size_t n,
                                 void *arg);
XS_HIDDEN size_t xs_heap_scan(const uint8_t *owners, uint32_t n_owners, xs_heap_visit_fn visit,
                              void *arg, size_t *pages_read);

/* ---- stack depot (depot.c) ---------------------------------------------- */

/* Interns an array of 64-bit words; returns a nonzero 32-bit id (0 on
 * failure or for an empty array).  Never frees; thread-safe.  Equal arrays
 * get equal ids; xs_depot_get returns the words in order. */
XS_HIDDEN uint32_t xs_depot_put(const uint64_t *words, size_t n);
/* Copies up to `max` words of entry `id` into out; returns the count. */
XS_HIDDEN size_t xs_depot_get(uint32_t id, uint64_t *out, size_t max);
/* Interns a string; returns a nonzero id. */
XS_HIDDEN uint32_t xs_string_put(const char *s);
XS_HIDDEN const char *xs_string_get(uint32_t id);
XS_HIDDEN size_t xs_depot_count(void);
XS_HIDDEN size_t xs_string_count(void);

/* Python frames travel through the depot as one word each. */
typedef struct xs_pyframe {
    const char *file;
    const char *function;
    int line;
} xs_pyframe_t;

/* An allocation site is a (native stack id, python stack id) pair, itself
 * interned so it fits in the header's 32-bit site field. */
XS_HIDDEN uint32_t xs_site_put(uint32_t native_id, uint32_t python_id);
XS_HIDDEN void xs_site_get(uint32_t site, uint32_t *native_id, uint32_t *python_id);
XS_HIDDEN uint32_t xs_pystack_put(const xs_pyframe_t *frames, size_t n);
/* The depot word of one Python frame (strings interned). */
XS_HIDDEN uint64_t xs_pyframe_word(const xs_pyframe_t *frame);
XS_HIDDEN size_t xs_pystack_get(uint32_t id, xs_pyframe_t *out, size_t max);

/* ---- native stacks (unwind.c) ------------------------------------------- */

/* Capture up to max return addresses of the caller, dropping frames that
 * are inside xisan's own libraries. */
XS_HIDDEN size_t xs_unwind(uintptr_t *pcs, size_t max);
typedef struct xs_native_frame {
    uintptr_t pc;
    char module[128];
    char function[128];
    char file[192];
    int line;
} xs_native_frame_t;
/* Symbolize pcs (return addresses) into frames, inlined calls expanded
 * into frames of their own; returns the number of frames written. */
XS_HIDDEN size_t xs_symbolize(const uintptr_t *pcs, size_t n, xs_native_frame_t *out, size_t max);

/* ---- reports (report.c renders, runtime.c emits) ------------------------ */

/* One name per kind; a switch over them has no default. */
typedef enum xs_kind {
    XS_KIND_CROSS_INTERPRETER_ACCESS,
    XS_KIND_CROSS_INTERPRETER_FREE,
    XS_KIND_USE_AFTER_INTERPRETER_END,
    XS_KIND_CROSS_INTERPRETER_REFERENCE,
} xs_kind_t;

#define XS_MAX_NATIVE 64
#define XS_MAX_PYTHON 64

typedef struct xs_report {
    xs_kind_t kind;
    xisan_access_t access;
    char object_type[96];
    uintptr_t object_address;
    size_t object_size; /* 0: not known */
    uint32_t owner;
    uint32_t current;
    char owner_name[64];
    char current_name[64];
    bool owner_ended;
    int pid;
    unsigned long thread;
    size_t n_native, n_alloc_native, n_python, n_alloc_python;
    xs_native_frame_t native[XS_MAX_NATIVE];
    xs_native_frame_t alloc_native[XS_MAX_NATIVE];
    xs_pyframe_t python[XS_MAX_PYTHON];
    xs_pyframe_t alloc_python[XS_MAX_PYTHON];
    /* storage for python frame strings of the touching thread */
    char python_strings[XS_MAX_PYTHON][2][160];
    const char *note;           /* what happened to the block, e.g. "quarantined" */
    const char *runtime_module; /* module prefix the SUMMARY line skips */
    /* cross-interpreter-reference: the object that holds the reference */
    char container_type[96];
    uintptr_t container_address;
    uint32_t container_owner;
    char container_name[64];
    char path[256];             /* from a root, when known */
    bool from_source;           /* native[0] is an instrumented call site */
} xs_report_t;

XS_HIDDEN const char *xs_kind_name(xs_kind_t kind);
XS_HIDDEN const char *xs_access_name(xisan_access_t access);
/* Render as sanitizer-style text / as one JSON line (with '\n'). */
XS_HIDDEN void xs_report_render_text(const xs_report_t *r, xs_buf_t *out);
XS_HIDDEN void xs_report_render_json(const xs_report_t *r, xs_buf_t *out);

/* ---- fork ----------------------------------------------------------------- */

/* Each lock is taken before fork() (in the order report, survivors,
 * registry, depot, the order the code nests them), released after it in the
 * parent and re-initialised in the child, so a child never inherits a held
 * lock. */
typedef enum xs_fork_phase { XS_FORK_PREPARE, XS_FORK_PARENT, XS_FORK_CHILD } xs_fork_phase_t;
XS_HIDDEN void xs_mutex_fork(pthread_mutex_t *lock, xs_fork_phase_t phase);
XS_HIDDEN void xs_registry_fork(xs_fork_phase_t phase);
XS_HIDDEN void xs_depot_fork(xs_fork_phase_t phase);
XS_HIDDEN void xs_survivors_fork(xs_fork_phase_t phase);

/* ---- runtime (runtime.c) ------------------------------------------------ */

typedef struct xs_touch {
    xs_kind_t kind;
    xisan_access_t access;
    const void *user;         /* tagged block (header in front) */
    uintptr_t object_address; /* what the user sees (object pointer) */
    const char *object_type;  /* NULL: unknown */
    uint32_t owner, current;
    const char *note;         /* e.g. what was done with the block */
    /* The call site in instrumented code, from the compiler (NULL: none):
     * it becomes frame #0, exact without symbolization. */
    const char *src_file;
    int src_line;
    const char *src_function;
    uintptr_t src_pc;
    /* cross-interpreter-reference: the holder of the reference */
    const char *container_type;
    uintptr_t container_address;
    uint32_t container_owner;
    const char *path;
} xs_touch_t;

/* Adapters provide the Python half of a report. */
typedef struct xs_adapter {
    /* Fill r->python / r->python_strings from the calling thread. */
    void (*python_stack)(xs_report_t *r, size_t max);
    /* Write a faulthandler-style traceback of the calling thread to fd. */
    void (*dump_traceback)(int fd);
    /* Prefix of the interpreter runtime's module name ("libpython"). */
    const char *runtime_module;
    /* Native frames from the top of a stack through the last frame whose
     * function starts with this prefix are the adapter's own dispatch
     * (sys.monitoring calling the check) and are left out of reports. */
    const char *dispatch_prefix;
    /* The live object in a tagged block of `size` bytes, given a copy of
     * its first `n` bytes: its type name (empty when the block is no
     * object), its address, and whether the interpreter runtime never frees
     * it by design (CPython: immortal objects). */
    void (*describe_block)(void *user, size_t size, const void *bytes, size_t n, char *type,
                           size_t len, uintptr_t *address, bool *never_freed);
} xs_adapter_t;

XS_HIDDEN void xs_runtime_set_adapter(const xs_adapter_t *adapter);
/* Reads XISAN_OPTIONS once; returns -1 (message printed) when malformed. */
XS_HIDDEN int xs_runtime_init(void);
/* Thread-local reentrancy guard: hooks do nothing while it is set. */
XS_HIDDEN extern XS_TLS int xs_in_runtime;
/* Make a report for `t` (dedup, render, log); aborts when halting.
 * Returns true when the report was printed (false: duplicate site). */
XS_HIDDEN bool xs_report_touch(const xs_touch_t *t);
/* The kind of report a touch of `owner`'s block by another owner makes. */
XS_HIDDEN xs_kind_t xs_classify(uint32_t owner, xisan_access_t access);
/* Capture an allocation site for the calling thread: its native stack plus
 * the given Python frames, one word each (xs_pyframe_word). */
XS_HIDDEN uint32_t xs_capture_site(const uint64_t *py_words, size_t n_py);
XS_HIDDEN void xs_quarantine_add(size_t bytes);
/* True the first time `key` (a hash naming a site) is seen, without a lock:
 * adapters filter repeats with it before capturing any stack. */
XS_HIDDEN bool xs_first_sighting(uint64_t key);
/* Count a repeat of a reported site that an adapter filtered itself. */
XS_HIDDEN void xs_count_repeat(void);
/* The exit summary: survivors, then the reports and quarantine line.
 * `exiting` is the interpreter whose end is the process's own exit (its
 * blocks are not survivors); XISAN_UNOWNED when there is none. */
XS_HIDDEN void xs_print_summary(uint32_t exiting);
/* The adapter's describe_block, or no type and the block's own address. */
XS_HIDDEN void xs_describe_block(void *user, size_t size, const void *bytes, size_t n, char *type,
                                 size_t len, uintptr_t *address, bool *never_freed);
/* Survivors (survivors.c): blocks of ended interpreters still allocated.
 * The shadow GC notes the objects it finds referenced; at exit a heap scan
 * adds the rest, and xs_survivors_print summarises them by interpreter,
 * type and allocation site. */
XS_HIDDEN void xs_survivor_note(uint32_t owner, const char *type, uintptr_t address, uint32_t site);
XS_HIDDEN void xs_survivors_print(uint32_t exiting);
/* Append a line to the `xisan run` state file (when run by xisan run). */
XS_HIDDEN void xs_run_state_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The runtime's and the adapter's hash for keys of more than a word:
 * xs_mix64 folds a word into a running hash, xs_hash64 folds bytes (a word
 * at a time).  Hot paths with one-word keys keep a single multiply. */
static inline uint64_t xs_mix64(uint64_t h, uint64_t v)
{
    h = (h ^ (v * 0xff51afd7ed558ccdull)) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static inline uint64_t xs_hash64(uint64_t h, const void *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    h ^= len;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        h = xs_mix64(h, w);
    }
    uint64_t tail = 0;
    __builtin_memcpy(&tail, p, len);
    h = xs_mix64(h, tail);
    return h ^ (h >> 32);
}

/* A lock-free cache of nonzero 32-bit ids keyed by 64-bit hashes: a slot is
 * one word, the hash's high half and the id (the slot's index takes some of
 * the low half).  A stale or racing slot only costs a miss; get returns 0
 * for one. */
static inline uint32_t xs_id_cache_get(_Atomic uint64_t *slot, uint64_t hash)
{
    uint64_t v = atomic_load_explicit(slot, memory_order_relaxed);
    return (v >> 32) == (hash >> 32) ? (uint32_t)v : 0;
}

static inline void xs_id_cache_put(_Atomic uint64_t *slot, uint64_t hash, uint32_t id)
{
    if (id != 0)
        atomic_store_explicit(slot, (hash >> 32) << 32 | id, memory_order_relaxed);
}

/* uthash's hash (depot strings, registries). */
static inline uint32_t xs_hash_bytes(const void *key, size_t len)
{
    return (uint32_t)xs_hash64(0x9e3779b97f4a7c15ull, key, len);
}
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = xs_hash_bytes((keyptr), (keylen)))

#endif
