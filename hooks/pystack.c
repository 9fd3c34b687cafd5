/* Python stacks without allocating: frames are read from the thread state
 * and strings are copied straight out of the unicode objects, the way
 * faulthandler does, so this is safe inside an allocator hook. */
#include "adapter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* UTF-8 copy of a str object; "???" when it is not one. */
static void copy_unicode(PyObject *s, char *out, size_t len)
{
    if (len == 0)
        return;
    if (s == NULL || !PyUnicode_Check(s)) {
        snprintf(out, len, "???");
        return;
    }
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    size_t o = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        char enc[4];
        size_t k;
        if (ch < 0x80) {
            enc[0] = (char)ch;
            k = 1;
        } else if (ch < 0x800) {
            enc[0] = (char)(0xc0 | (ch >> 6));
            enc[1] = (char)(0x80 | (ch & 0x3f));
            k = 2;
        } else if (ch < 0x10000) {
            enc[0] = (char)(0xe0 | (ch >> 12));
            enc[1] = (char)(0x80 | ((ch >> 6) & 0x3f));
            enc[2] = (char)(0x80 | (ch & 0x3f));
            k = 3;
        } else {
            enc[0] = (char)(0xf0 | (ch >> 18));
            enc[1] = (char)(0x80 | ((ch >> 12) & 0x3f));
            enc[2] = (char)(0x80 | ((ch >> 6) & 0x3f));
            enc[3] = (char)(0x80 | (ch & 0x3f));
            k = 4;
        }
        if (o + k + 1 > len)
            break;
        memcpy(out + o, enc, k);
        o += k;
    }
    out[o] = '\0';
}

static int frame_line(xh_iframe_t *f)
{
    PyCodeObject *code = (PyCodeObject *)f->code;
    const uint16_t *start = (const uint16_t *)code->co_code_adaptive;
    ptrdiff_t units = f->instr ? f->instr - start : -1;
    if (units < 0 || units >= Py_SIZE(code))
        return code->co_firstlineno;
    return PyCode_Addr2Line(code, (int)units * 2);
}

/* A frame's file and function names, copied into the caller's buffers. */
static xs_pyframe_t read_frame(xh_iframe_t *f, char *file, size_t file_len, char *func,
                               size_t func_len)
{
    PyCodeObject *code = (PyCodeObject *)f->code;
    copy_unicode(code->co_filename, file, file_len);
    copy_unicode(code->co_name, func, func_len);
    return (xs_pyframe_t){file, func, frame_line(f)};
}

static size_t xh_python_frames(PyThreadState *ts, xs_pyframe_t *out, char (*strings)[2][160],
                               size_t max)
{
    size_t n = 0;
    for (xh_iframe_t *f = xh_python_frame(xh_top_frame(ts)); f && n < max;
         f = xh_python_frame(f->previous), n++)
        out[n] = read_frame(f, strings[n][0], sizeof(strings[n][0]), strings[n][1],
                            sizeof(strings[n][1]));
    return n;
}

/* Resolving a frame (file and function names, line number from the line
 * table) costs far more than reading it, and the outer frames of one
 * thread repeat across many allocation sites: memoise per thread, keyed by
 * the code object and instruction, checked against the code's name and
 * file objects so a new code object at a freed one's address misses. */
typedef struct xh_frame_memo {
    uintptr_t code, instr, name, filename;
    uint64_t word;
} xh_frame_memo_t;

enum { MEMO_SLOTS = 256 }; /* used only by captures, rare once sites are shared */

static xh_frame_memo_t *thread_memo(void)
{
    if (XS_UNLIKELY(xh_thread.memo == NULL))
        xh_thread.memo = xh_thread_table(MEMO_SLOTS, sizeof(xh_frame_memo_t));
    return xh_thread.memo;
}

static uint64_t resolve_word(xh_iframe_t *f)
{
    char file[256], func[160];
    xs_pyframe_t frame = read_frame(f, file, sizeof(file), func, sizeof(func));
    return xs_pyframe_word(&frame);
}

size_t xh_python_frame_words(PyThreadState *ts, uint64_t *words, size_t max)
{
    xh_frame_memo_t *memo = thread_memo();
    size_t n = 0;
    for (xh_iframe_t *f = xh_python_frame(xh_top_frame(ts)); f && n < max;
         f = xh_python_frame(f->previous), n++) {
        PyCodeObject *code = (PyCodeObject *)f->code;
        uintptr_t key[4] = {(uintptr_t)code, (uintptr_t)f->instr, (uintptr_t)code->co_name,
                            (uintptr_t)code->co_filename};
        if (memo == NULL) {
            words[n] = resolve_word(f);
            continue;
        }
        uint64_t h = (key[0] ^ (key[1] << 13) ^ (key[1] >> 7)) * 0x9e3779b97f4a7c15ull;
        xh_frame_memo_t *m = &memo[h % MEMO_SLOTS];
        if (m->code != key[0] || m->instr != key[1] || m->name != key[2] ||
            m->filename != key[3]) {
            m->word = resolve_word(f);
            m->code = key[0];
            m->instr = key[1];
            m->name = key[2];
            m->filename = key[3];
        }
        words[n] = m->word;
    }
    return n;
}

void xh_python_stack(xs_report_t *r, size_t max)
{
    PyThreadState *ts = xh_tstate();
    if (ts == NULL)
        return;
    if (max > XS_MAX_PYTHON)
        max = XS_MAX_PYTHON;
    r->n_python = xh_python_frames(ts, r->python, r->python_strings, max);
}

void xh_dump_traceback(int fd)
{
    PyThreadState *ts = xh_tstate();
    char line[512];
    int len = snprintf(line, sizeof(line), "Current thread 0x%016lx (most recent call first):\n",
                       (unsigned long)pthread_self());
    xs_write_all(fd, line, (size_t)len);
    if (ts == NULL) {
        xs_write_all(fd, "  <no Python thread state>\n", 27);
        return;
    }
    size_t depth = 0;
    for (xh_iframe_t *f = xh_python_frame(xh_top_frame(ts)); f; f = xh_python_frame(f->previous)) {
        if (++depth > 100) {
            xs_write_all(fd, "  ...\n", 6);
            break;
        }
        char file[256], func[128];
        xs_pyframe_t frame = read_frame(f, file, sizeof(file), func, sizeof(func));
        len = snprintf(line, sizeof(line), "  File \"%s\", line %d in %s\n", frame.file,
                       frame.line, frame.function);
        xs_write_all(fd, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
    }
}

/* Reads memory that may not be mapped without faulting. */
static bool safe_read(const void *addr, void *out, size_t len)
{
    struct iovec local = {out, len};
    struct iovec remote = {(void *)addr, len};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len;
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

static void lookup_type(const PyTypeObject *tp, type_info_t *out, bool cached)
{
    if (!cached) {
        read_type(tp, out);
        return;
    }
    pthread_mutex_lock(&type_cache_lock);
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
