/* Stack depot: arrays of words (native stacks, python stacks, sites) and
 * strings are interned once and named by a 32-bit id.  Per-block metadata
 * keeps ids only.  Nothing is freed before exit; memory comes from
 * mappings of the depot's own (tables) and libc malloc (strings), which
 * xisan never hooks. */
#include "depot.h"

#include "hash.h"
#include "output.h"
#include "tag.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <uthash.h>

typedef struct string_entry {
    UT_hash_handle hh;
    uint32_t id;
    char s[];
} string_entry_t;

static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER;

/* Stacks share most of their frames (every stack of a thread ends in the
 * same outer frames), so the depot is a prefix tree: a node is one word
 * plus the id of the node for the words after it, and a stack's id is the
 * id of its first (innermost) node.  An index of node ids, open addressing
 * on (word, next), makes interning O(depth). */
typedef struct __attribute__((packed, aligned(4))) node {
    uint64_t word;
    uint32_t next; /* 0: end of the stack */
} node_t;         /* 12 bytes: the depot is most of xisan's memory */
_Static_assert(sizeof(node_t) == 12, "packed depot node");

/* A table of interned nodes: nodes[id - 1], and an index of their ids.
 * Index slots: a node id in the low 24 bits (0 = empty), 8 more bits of
 * the node's hash above, so a probe rarely reads a node that does not
 * match (each read is a cache miss).  At most 2^24 - 1 nodes. */
typedef struct table {
    node_t *nodes;
    size_t len, cap;
    uint32_t *slots;
    size_t slot_cap; /* a power of two */
    const char *full; /* what a full table means, for its one warning */
    bool warned;      /* under depot_lock */
} table_t;

/* The stacks, and the allocation sites: a site is a (native stack id,
 * Python stack id) pair in a table of its own, so that site ids are dense
 * (short headers hold the ids below XISAN_SHORT_SITE_LIMIT). */
static table_t stacks = {.full = "stack depot full (%u nodes): new allocation sites are "
                                 "recorded as unknown"};
static table_t sites = {.full = "allocation-site table full (%u sites): new allocation sites are "
                                "recorded as unknown"};
#define SLOT_ID_BITS 24
#define SLOT_ID_MASK ((1u << SLOT_ID_BITS) - 1)

static inline uint32_t slot_tag(size_t h)
{
    return (uint32_t)(h >> 56) << SLOT_ID_BITS;
}

static string_entry_t *string_table;
static string_entry_t **string_by_id;
static size_t string_len, string_cap;

static bool grow(void ***array, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 1024;
    while (ncap < need)
        ncap *= 2;
    void **p = realloc(*array, ncap * sizeof(void *));
    if (p == NULL)
        return false;
    *array = p;
    *cap = ncap;
    return true;
}

static size_t node_hash(uint64_t word, uint32_t next)
{
    uint64_t h = (word ^ ((uint64_t)next << 32 | next)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 31));
}

/* Tables live in mappings of their own, not in malloc's heap: a table
 * that grows moves with mremap() (no copy, nothing left behind), a new
 * index comes zeroed from the kernel and the old one goes back to it.
 * (From malloc, each doubling left the old array in the heap, resident.) */
static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void *map_grow(void *old, size_t old_bytes, size_t bytes)
{
    if (old == NULL)
        return map_zeroed(bytes);
    void *p = mremap(old, old_bytes, bytes, MREMAP_MAYMOVE);
    return p == MAP_FAILED ? NULL : p;
}

static bool rehash_unlocked(table_t *t, size_t cap)
{
    uint32_t *slots = map_zeroed(cap * sizeof(uint32_t));
    if (slots == NULL)
        return false;
    for (size_t id = 1; id <= t->len; id++) {
        size_t h = node_hash(t->nodes[id - 1].word, t->nodes[id - 1].next);
        size_t i = h & (cap - 1);
        while (slots[i])
            i = (i + 1) & (cap - 1);
        slots[i] = slot_tag(h) | (uint32_t)id;
    }
    if (t->slots)
        munmap(t->slots, t->slot_cap * sizeof(uint32_t));
    t->slots = slots;
    t->slot_cap = cap;
    return true;
}

static uint32_t intern_unlocked(table_t *t, uint64_t word, uint32_t next)
{
    /* linear probing stays short up to three quarters full */
    if ((t->len + 1) * 4 > t->slot_cap * 3 &&
        !rehash_unlocked(t, t->slot_cap ? t->slot_cap * 2 : 4096))
        return 0;
    size_t h = node_hash(word, next);
    uint32_t tag = slot_tag(h);
    size_t i = h & (t->slot_cap - 1);
    for (uint32_t slot; (slot = t->slots[i]) != 0; i = (i + 1) & (t->slot_cap - 1)) {
        uint32_t id = slot & SLOT_ID_MASK;
        if ((slot & ~SLOT_ID_MASK) == tag && t->nodes[id - 1].word == word &&
            t->nodes[id - 1].next == next)
            return id;
    }
    if (t->len >= SLOT_ID_MASK) {
        if (!t->warned)
            xs_message("warning", t->full, SLOT_ID_MASK);
        t->warned = true;
        return 0;
    }
    if (t->len == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 4096;
        node_t *p = map_grow(t->nodes, t->cap * sizeof(node_t), ncap * sizeof(node_t));
        if (p == NULL)
            return 0;
        t->nodes = p;
        t->cap = ncap;
    }
    t->nodes[t->len++] = (node_t){word, next};
    t->slots[i] = tag | (uint32_t)t->len;
    return (uint32_t)t->len;
}

/* Most puts repeat an array seen before (allocation sites of a new
 * interpreter are captured afresh, but their stacks are mostly old ones),
 * and walking the tree costs a cache miss or two per word.  So a put first
 * looks in a cache of whole arrays (xs_id_cache_get: the slot index is 13
 * more bits of the hash, so a false hit needs 45 equal hash bits). */
enum { PUT_CACHE_SLOTS = 8192 };
static _Atomic uint64_t put_cache[PUT_CACHE_SLOTS];

uint32_t xs_depot_put(const uint64_t *words, size_t n)
{
    if (n == 0)
        return 0;
    uint64_t h = xs_hash64(0x243f6a8885a308d3ull, words, n * sizeof(words[0]));
    _Atomic uint64_t *slot = &put_cache[h & (PUT_CACHE_SLOTS - 1)];
    uint32_t id = xs_id_cache_get(slot, h);
    if (id != 0)
        return id;
    pthread_mutex_lock(&depot_lock);
    for (size_t i = n; i-- > 0;) {
        id = intern_unlocked(&stacks, words[i], id);
        if (id == 0)
            break;
    }
    pthread_mutex_unlock(&depot_lock);
    xs_id_cache_put(slot, h, id);
    return id;
}

uint32_t xs_depot_push(uint64_t word, uint32_t next)
{
    pthread_mutex_lock(&depot_lock);
    uint32_t id = next <= stacks.len ? intern_unlocked(&stacks, word, next) : 0;
    pthread_mutex_unlock(&depot_lock);
    return id;
}

size_t xs_depot_get(uint32_t id, uint64_t *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&depot_lock);
    while (id >= 1 && id <= stacks.len && n < max) {
        out[n++] = stacks.nodes[id - 1].word;
        id = stacks.nodes[id - 1].next;
    }
    pthread_mutex_unlock(&depot_lock);
    return n;
}

static size_t read_locked(const size_t *counter)
{
    pthread_mutex_lock(&depot_lock);
    size_t n = *counter;
    pthread_mutex_unlock(&depot_lock);
    return n;
}

size_t xs_depot_count(void)
{
    return read_locked(&stacks.len);
}

uint32_t xs_string_put(const char *s)
{
    if (s == NULL)
        s = "";
    uint32_t id = 0;
    pthread_mutex_lock(&depot_lock);
    string_entry_t *e = NULL;
    HASH_FIND_STR(string_table, s, e);
    if (e) {
        id = e->id;
    } else if (grow((void ***)&string_by_id, &string_cap, string_len + 1)) {
        size_t len = strlen(s);
        e = malloc(sizeof(*e) + len + 1);
        if (e) {
            memset(&e->hh, 0, sizeof(e->hh));
            memcpy(e->s, s, len + 1);
            e->id = (uint32_t)++string_len;
            string_by_id[e->id - 1] = e;
            HASH_ADD_KEYPTR(hh, string_table, e->s, len, e);
            id = e->id;
        }
    }
    pthread_mutex_unlock(&depot_lock);
    return id;
}

size_t xs_string_count(void)
{
    return read_locked(&string_len);
}

const char *xs_string_get(uint32_t id)
{
    const char *s = "";
    pthread_mutex_lock(&depot_lock);
    if (id >= 1 && id <= string_len)
        s = string_by_id[id - 1]->s; /* entries never move or die */
    pthread_mutex_unlock(&depot_lock);
    return s;
}

uint32_t xs_site_put(uint32_t native_id, uint32_t python_id)
{
    if (native_id == 0 && python_id == 0)
        return 0;
    pthread_mutex_lock(&depot_lock);
    uint32_t id = intern_unlocked(&sites, (uint64_t)native_id << 32 | python_id, 0);
    if (id + 1 >= XISAN_SHORT_SITE_LIMIT && (xs_tag_short || xs_tag_slot_on || xs_tag_pool_on)) {
        /* from now on, blocks whose site is not known yet take the long
         * form (xs_tag_header_for, xs_tag_slot_fits, the hooks' pools) */
        xs_tag_short = false;
        xs_tag_slot_on = false;
        xs_tag_pool_on = false;
    }
    pthread_mutex_unlock(&depot_lock);
    return id;
}

void xs_site_get(uint32_t site, uint32_t *native_id, uint32_t *python_id)
{
    uint64_t w = 0;
    pthread_mutex_lock(&depot_lock);
    if (site >= 1 && site <= sites.len)
        w = sites.nodes[site - 1].word;
    pthread_mutex_unlock(&depot_lock);
    *native_id = (uint32_t)(w >> 32);
    *python_id = (uint32_t)w;
}

size_t xs_site_count(void)
{
    return read_locked(&sites.len);
}

/* A Python frame packs into one word: file string id (22 bits), function
 * string id (22 bits), line (20 bits).  Ids past 2^22 read back as "?"
 * and lines past 2^20 as the largest line; neither happens in practice. */
#define PY_ID_BITS 22
#define PY_LINE_BITS 20
#define PY_ID_MAX ((1u << PY_ID_BITS) - 1)
#define PY_LINE_MAX ((1u << PY_LINE_BITS) - 1)

uint64_t xs_pyframe_word(const xs_pyframe_t *frame)
{
    return xs_pyframe_word_of(xs_string_put(frame->file), xs_string_put(frame->function),
                              frame->line);
}

uint64_t xs_pyframe_word_of(uint32_t file_id, uint32_t function_id, int line)
{
    uint64_t file = file_id > PY_ID_MAX ? 0 : file_id;
    uint64_t func = function_id > PY_ID_MAX ? 0 : function_id;
    uint64_t at = line < 0 ? 0 : (uint64_t)line;
    if (at > PY_LINE_MAX)
        at = PY_LINE_MAX;
    return file << (PY_ID_BITS + PY_LINE_BITS) | func << PY_LINE_BITS | at;
}

uint32_t xs_pystack_put(const xs_pyframe_t *frames, size_t n)
{
    uint64_t w[XS_MAX_PYTHON];
    if (n > XS_MAX_PYTHON)
        n = XS_MAX_PYTHON;
    for (size_t i = 0; i < n; i++)
        w[i] = xs_pyframe_word(&frames[i]);
    return xs_depot_put(w, n);
}

static const char *pyframe_string(uint32_t id)
{
    return id ? xs_string_get(id) : "?";
}

size_t xs_pystack_get(uint32_t id, xs_pyframe_t *out, size_t max)
{
    uint64_t w[XS_MAX_PYTHON];
    size_t n = xs_depot_get(id, w, max < XS_MAX_PYTHON ? max : XS_MAX_PYTHON);
    for (size_t i = 0; i < n; i++) {
        out[i].file = pyframe_string((uint32_t)(w[i] >> (PY_ID_BITS + PY_LINE_BITS)));
        out[i].function = pyframe_string((uint32_t)(w[i] >> PY_LINE_BITS) & PY_ID_MAX);
        out[i].line = (int)(w[i] & PY_LINE_MAX);
    }
    return n;
}

bool xs_depot_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&depot_lock, phase);
}
