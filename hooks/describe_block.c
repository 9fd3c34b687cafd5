/* What object fills a memory block: read defensively, for reports about
 * freed blocks and for the exit scan's survivors, so a block that holds no
 * object (or a freed one) is never dereferenced. */
#include "describe_block.h"

#include "address.h"
#include "thread.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Reads memory that may not be mapped, without faulting (address.h). */
static bool safe_read(const void *addr, void *out, size_t len)
{
    return xs_safe_read((uintptr_t)addr, out, len) == len;
}

/* A GC head's next link: 0 (not tracked) or a pointer (its low bit is a
 * flag during a collection).  A refcount or a type pointer in its place is
 * what tells a wrong offset apart. */
static bool plausible_gc_link(uintptr_t next)
{
    uintptr_t link = next & ~(uintptr_t)1;
    return next == 0 || (link >= 4096 && (link & 7) == 0);
}

/* What a block's would-be type pointer points to, read defensively. */
typedef struct type_info {
    const PyTypeObject *tp;
    bool is_type; /* its metatype is a type */
    unsigned long flags;
    Py_ssize_t basicsize;
    char name[96];
} type_info_t;

static bool read_string(const char *s, char *out, size_t len)
{
    size_t k = 0;
    while (k + 1 < len) {
        /* up to the end of the page: a read never crosses into one that
         * may be unmapped */
        size_t chunk = 4096 - ((uintptr_t)(s + k) & 4095);
        if (chunk > len - 1 - k)
            chunk = len - 1 - k;
        if (!safe_read(s + k, out + k, chunk))
            break;
        char *nul = memchr(out + k, '\0', chunk);
        if (nul) {
            k = (size_t)(nul - out);
            break;
        }
        k += chunk;
    }
    out[k] = '\0';
    for (size_t i = 0; i < k; i++)
        if ((unsigned char)out[i] < 0x20)
            return false;
    return k > 0;
}

static void read_type(const PyTypeObject *tp, type_info_t *t)
{
    memset(t, 0, sizeof(*t));
    t->tp = tp;
    PyTypeObject *meta = NULL;
    unsigned long meta_flags = 0;
    const char *name = NULL;
    if ((uintptr_t)tp < 4096 || ((uintptr_t)tp & 7))
        return;
    if (!safe_read(&((const PyObject *)tp)->ob_type, &meta, sizeof(meta)) ||
        (uintptr_t)meta < 4096 || ((uintptr_t)meta & 7))
        return;
    if (!safe_read(&meta->tp_flags, &meta_flags, sizeof(meta_flags)) ||
        !(meta_flags & Py_TPFLAGS_TYPE_SUBCLASS))
        return;
    if (!safe_read(&tp->tp_flags, &t->flags, sizeof(t->flags)) ||
        !safe_read(&tp->tp_basicsize, &t->basicsize, sizeof(t->basicsize)) ||
        t->basicsize < (Py_ssize_t)sizeof(PyObject) ||
        !safe_read(&tp->tp_name, &name, sizeof(name)) || name == NULL)
        return;
    t->is_type = read_string(name, t->name, sizeof(t->name));
}

/* Describing the blocks found by the exit scan meets the same few types
 * again and again, so that batch looks them up through a small cache.  A
 * report about one freed block reads the type afresh: a cached entry could
 * name a type whose memory has been reused since. */
static pthread_mutex_t type_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static type_info_t type_cache[256];

static void type_cache_prepare(void)
{
    pthread_mutex_lock(&type_cache_lock);
}

static void type_cache_parent(void)
{
    pthread_mutex_unlock(&type_cache_lock);
}

static void type_cache_child(void)
{
    pthread_mutex_init(&type_cache_lock, NULL);
}

void xh_describe_block_init(void)
{
    pthread_atfork(type_cache_prepare, type_cache_parent, type_cache_child);
}

static void lookup_type(const PyTypeObject *tp, type_info_t *out, bool cached)
{
    /* a crash report may describe a block while the exit scan holds the
     * lock: it reads the type afresh instead of waiting */
    if (!cached || pthread_mutex_trylock(&type_cache_lock) != 0) {
        read_type(tp, out);
        return;
    }
    type_info_t *slot = &type_cache[((uintptr_t)tp >> 4) & 255];
    if (slot->tp != tp || tp == NULL)
        read_type(tp, slot);
    *out = *slot;
    pthread_mutex_unlock(&type_cache_lock);
}

void xh_guess_object(void *block, size_t size, const void *bytes, size_t n, bool live, char *type,
                     size_t len, uintptr_t *address, bool *never_freed)
{
    /* widest pre-header first: the GC links in front of an object are real
     * object pointers and could pass for one at a smaller offset */
    static const size_t offsets[] = {4 * sizeof(uintptr_t), 2 * sizeof(uintptr_t), 0};
    enum { PREFIX = 4 * sizeof(uintptr_t) + sizeof(PyObject) };
    uintptr_t words[PREFIX / sizeof(uintptr_t)];
    type[0] = '\0';
    *never_freed = false;
    /* the debug hooks' header, when they sit above the checker's */
    size_t skip = xisan_python_state.block_offset;
    if (size < skip)
        return;
    block = (char *)block + skip;
    size -= skip;
    if (bytes != NULL && n >= skip) {
        bytes = (const char *)bytes + skip;
        n -= skip;
    } else {
        bytes = NULL;
    }
    size_t have = size < PREFIX ? size : PREFIX;
    if (bytes != NULL && n >= have)
        memcpy(words, bytes, have);
    else if (!safe_read(block, words, have))
        return;
    for (size_t i = 0; i < XS_ARRAY_LEN(offsets); i++) {
        size_t off = offsets[i];
        if (have < off + sizeof(PyObject))
            continue;
        PyObject head;
        memcpy(&head, (char *)words + off, sizeof(head));
        if (live && Py_REFCNT(&head) <= 0)
            continue;
        /* an object behind a pre-header has a GC head (tested again below
         * with its type's flags): most words at a wrong offset fail this
         * before their would-be type is read, a system call or two */
        if (off > 0 && !plausible_gc_link(words[off / sizeof(uintptr_t) - 2]))
            continue;
        type_info_t t;
        lookup_type(Py_TYPE(&head), &t, live);
        /* compact strings are smaller than str's tp_basicsize */
        if (!t.is_type ||
            ((size_t)t.basicsize + off > size && !(t.flags & Py_TPFLAGS_UNICODE_SUBCLASS)))
            continue;
        if (xh_preheader_for_flags(t.flags) != off)
            continue;
        if ((t.flags & Py_TPFLAGS_HAVE_GC) && !plausible_gc_link(words[off / sizeof(uintptr_t) - 2]))
            continue;
        snprintf(type, len, "%s", t.name);
        *address = (uintptr_t)block + off;
        *never_freed = _Py_IsImmortal(&head);
        return;
    }
}

void xh_describe_live_block(void *block, size_t size, const void *bytes, size_t n, char *type,
                            size_t len, uintptr_t *address, bool *never_freed)
{
    xh_guess_object(block, size, bytes, n, true, type, len, address, never_freed);
}
