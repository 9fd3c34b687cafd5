/* Python stacks without allocating: frames are read from the thread state
 * and strings are copied straight out of the unicode objects, the way
 * faulthandler does, so this is safe inside an allocator hook. */
#include "pystack.h"

#include "depot.h"
#include "hash.h"
#include "output.h"
#include "thread.h"

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

/* The unittest id of the test method a frame runs (module.Class.method),
 * or false: a function named test* of a class found in the function's
 * module whose MRO has a TestCase.  Read without calling Python code or
 * allocating: dict iteration and string comparisons only. */
static bool test_id(xh_iframe_t *f, char *out, size_t len)
{
    PyObject *fn = f->funcobj;
    if (fn == NULL || !PyFunction_Check(fn))
        return false;
    PyFunctionObject *func = (PyFunctionObject *)fn;
    char qualname[256], module[256];
    copy_unicode(func->func_qualname, qualname, sizeof(qualname));
    char *dot = strrchr(qualname, '.');
    if (dot == NULL || strncmp(dot + 1, "test", 4) != 0 || strchr(qualname, '<'))
        return false;
    *dot = '\0'; /* the class */
    if (strchr(qualname, '.') || func->func_globals == NULL || !PyDict_Check(func->func_globals))
        return false;
    PyObject *key, *value, *cls = NULL;
    Py_ssize_t pos = 0;
    while (cls == NULL && PyDict_Next(func->func_globals, &pos, &key, &value))
        if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, qualname) == 0)
            cls = value;
    if (cls == NULL || !PyType_Check(cls) || ((PyTypeObject *)cls)->tp_mro == NULL)
        return false;
    PyObject *mro = ((PyTypeObject *)cls)->tp_mro;
    bool is_test = false;
    for (Py_ssize_t i = 0; PyTuple_Check(mro) && i < PyTuple_GET_SIZE(mro) && !is_test; i++) {
        const char *name = ((PyTypeObject *)PyTuple_GET_ITEM(mro, i))->tp_name;
        is_test = strcmp(name, "TestCase") == 0 || strcmp(name, "unittest.case.TestCase") == 0;
    }
    if (!is_test)
        return false;
    copy_unicode(func->func_module, module, sizeof(module));
    *dot = '.';
    xs_buf_t b;
    xs_buf_init(&b, out, len);
    xs_buf_printf(&b, "%s.%s", module, qualname);
    return true;
}

static size_t thread_frames(PyThreadState *ts, xs_pyframe_t *out,
                            char (*strings)[2][XISAN_PYNAME_MAX], size_t max)
{
    size_t n = 0;
    for (xh_iframe_t *f = xh_python_frame(xh_top_frame(ts)); f && n < max;
         f = xh_python_frame(f->previous), n++)
        out[n] = read_frame(f, strings[n][0], sizeof(strings[n][0]), strings[n][1],
                            sizeof(strings[n][1]));
    return n;
}

/* The innermost test method on a thread state's whole stack (beyond the
 * frames a report keeps), bounded against a corrupted frame chain. */
static bool find_test(PyThreadState *ts, char *out, size_t len)
{
    size_t depth = 0;
    for (xh_iframe_t *f = xh_python_frame(xh_top_frame(ts)); f && depth < 4096;
         f = xh_python_frame(f->previous), depth++)
        if (test_id(f, out, len))
            return true;
    return false;
}

/* Is `ts` a thread state of some interpreter still?  (An entered one may
 * have been deleted since.)  Unlocked, as faulthandler reads them. */
static bool alive(PyThreadState *ts)
{
    for (PyInterpreterState *i = PyInterpreterState_Head(); i; i = PyInterpreterState_Next(i))
        for (PyThreadState *t = PyInterpreterState_ThreadHead(i); t; t = PyThreadState_Next(t))
            if (t == ts)
                return true;
    return false;
}

static void add_section(struct xisan_pystack_info *info, size_t first, PyThreadState *ts)
{
    if (info->n_sections < XISAN_PYSECTIONS_MAX)
        info->section[info->n_sections++] = (typeof(info->section[0])){
            first, (long)PyInterpreterState_GetID(ts->interp)};
}

/* Resolving a frame (file and function names, line number from the line
 * table) costs far more than reading it, and interning a stack costs a
 * depot probe (a cache miss or two) a frame.  Captures come where a new
 * instruction allocates, so one capture's stack is mostly the previous
 * one's with another top frame, and the top frame mostly the previous
 * top's code a few instructions on.  Two memos per thread, each checked
 * against the code's name, file and line table objects so a new code
 * object at a freed one's address misses:
 *   codes  a code object's file and function string ids, where in its
 *          line table the last lookup ended (CPython's lookup walks the
 *          table from there, forwards or back, instead of from the start)
 *          and its identity across interpreters (xh_code_identity);
 *   tails  the depot id of a frame followed by the frames beneath it (the
 *          id of those frames: `beneath`), so a stack is interned from its
 *          outermost kept frame up and an unchanged part costs one probe
 *          of this table a frame, not a resolve and a depot probe;
 *   last   the previous capture's frames, outermost kept first, each with
 *          its tails entry: the part a capture shares with the one before
 *          it (from the outermost kept frame up to the first frame that
 *          differs) costs a compare a frame. */
typedef struct code_memo {
    const PyCodeObject *code;
    const PyObject *name, *qualname, *filename, *linetable;
    int firstlineno;
    Py_ssize_t units;
    uint32_t file_id, function_id; /* 0: not interned yet */
    uint64_t identity;             /* xh_code_identity; 0: not computed yet */
    PyCodeAddressRange bounds;
} code_memo_t;

typedef struct tail_memo {
    uintptr_t code, instr, name, filename, linetable;
    uint32_t version; /* xh_code_version: a code object made where a freed one was */
    uint32_t beneath, id;
} tail_memo_t;

enum { CODE_SLOTS = 256, TAIL_SLOTS = 512 }; /* used only by captures */

typedef struct xh_frame_memo {
    code_memo_t codes[CODE_SLOTS];
    tail_memo_t tails[TAIL_SLOTS];
    size_t n_last;
    tail_memo_t last[XS_MAX_PYTHON];
} xh_frame_memo_t;

static xh_frame_memo_t *thread_memo(void)
{
    if (XS_UNLIKELY(xh_thread.memo == NULL))
        xh_thread.memo = xh_thread_table(1, sizeof(xh_frame_memo_t));
    return xh_thread.memo;
}

static uint64_t resolve_word(xh_iframe_t *f)
{
    char file[256], func[160];
    xs_pyframe_t frame = read_frame(f, file, sizeof(file), func, sizeof(func));
    return xs_pyframe_word(&frame);
}

/* The memo entry of a code object, started over when the slot held
 * another code object or a freed one's: a new code object at a freed one's
 * address, its table at the old table's, must match in its first line, its
 * size and its table's size too, and the cursor must sit where an entry
 * starts (CPython's walk only ever leaves it there).  NULL: the code has no
 * line table of bytes. */
static code_memo_t *code_entry(xh_frame_memo_t *memo, PyCodeObject *code)
{
    PyObject *table = code->co_linetable;
    if (table == NULL || !PyBytes_Check(table))
        return NULL;
    code_memo_t *m = &memo->codes[((uintptr_t)code >> 4) % CODE_SLOTS];
    const uint8_t *lines = (const uint8_t *)PyBytes_AS_STRING(table);
    const uint8_t *end = lines + PyBytes_GET_SIZE(table);
    const uint8_t *at = m->bounds.opaque.lo_next;
    if (m->code != code || m->name != code->co_name || m->qualname != code->co_qualname ||
        m->filename != code->co_filename || m->linetable != table ||
        m->bounds.opaque.limit != end || m->firstlineno != code->co_firstlineno ||
        m->units != Py_SIZE(code) || at < lines || at > end || (at < end && !(*at & 128))) {
        /* bounds as CPython starts a lookup (_PyCode_InitAddressRange) */
        PyCodeAddressRange bounds = {
            .ar_start = -1,
            .ar_end = 0,
            .ar_line = -1,
            .opaque = {code->co_firstlineno, lines, end},
        };
        *m = (code_memo_t){.code = code,
                           .name = code->co_name,
                           .qualname = code->co_qualname,
                           .filename = code->co_filename,
                           .linetable = table,
                           .firstlineno = code->co_firstlineno,
                           .units = Py_SIZE(code),
                           .bounds = bounds};
    }
    return m;
}

/* A frame's word through the code memo: the line as frame_line() finds
 * it, from the bounds of the code's last lookup. */
static uint64_t frame_word(xh_frame_memo_t *memo, xh_iframe_t *f)
{
    PyCodeObject *code = (PyCodeObject *)f->code;
    code_memo_t *m = code_entry(memo, code);
    if (m == NULL)
        return resolve_word(f);
    if (m->file_id == 0 || m->function_id == 0) {
        char file[256], func[160];
        copy_unicode(code->co_filename, file, sizeof(file));
        copy_unicode(code->co_name, func, sizeof(func));
        m->file_id = xs_string_put(file);
        m->function_id = xs_string_put(func);
    }
    const uint16_t *start = (const uint16_t *)code->co_code_adaptive;
    ptrdiff_t units = f->instr ? f->instr - start : -1;
    int line = units < 0 || units >= Py_SIZE(code)
                   ? code->co_firstlineno
                   : _PyCode_CheckLineNumber((int)units * 2, &m->bounds);
    return xs_pyframe_word_of(m->file_id, m->function_id, line);
}

/* The characters of a str, read in place (no API call: nothing is
 * allocated), into hash h. */
static uint64_t mix_str(uint64_t h, PyObject *s)
{
    if (s != NULL && PyUnicode_Check(s) && PyUnicode_IS_COMPACT(s))
        return xs_hash64(h, PyUnicode_DATA(s), (size_t)PyUnicode_GET_LENGTH(s) * PyUnicode_KIND(s));
    return xs_mix64(h, (uintptr_t)s);
}

uint64_t xh_code_identity(PyCodeObject *code)
{
    xh_frame_memo_t *memo = thread_memo();
    code_memo_t *m = memo ? code_entry(memo, code) : NULL;
    if (m && m->identity)
        return m->identity;
    uint64_t id = xs_mix64(0x5851f42d4c957f2dull, (uint64_t)code->co_firstlineno);
    id = mix_str(id, code->co_filename);
    id = mix_str(id, code->co_qualname);
    id = xs_mix64(id, (uint64_t)Py_SIZE(code));
    if (code->co_linetable && PyBytes_Check(code->co_linetable))
        id = xs_hash64(id, PyBytes_AS_STRING(code->co_linetable),
                       (size_t)PyBytes_GET_SIZE(code->co_linetable));
    id |= 1; /* never 0, the memo's "not yet" */
    if (m)
        m->identity = id;
    return id;
}

static inline bool same_frame(const tail_memo_t *t, const uintptr_t key[5], uint32_t version,
                              uint32_t beneath)
{
    return t->code == key[0] && t->instr == key[1] && t->beneath == beneath && t->name == key[2] &&
           t->filename == key[3] && t->linetable == key[4] && t->version == version && t->id != 0;
}

uint32_t xh_python_stack_id(PyThreadState *ts, size_t max)
{
    xh_iframe_t *frames[XS_MAX_PYTHON];
    size_t n = 0;
    if (max > XS_MAX_PYTHON)
        max = XS_MAX_PYTHON;
    for (xh_iframe_t *f = xh_python_frame(xh_top_frame(ts)); f && n < max;
         f = xh_python_frame(f->previous))
        frames[n++] = f;
    xh_frame_memo_t *memo = thread_memo();
    uint32_t id = 0;
    size_t same = 0; /* frames from the outermost kept up, as the last capture's */
    for (size_t i = n; i-- > 0;) {
        xh_iframe_t *f = frames[i];
        PyCodeObject *code = (PyCodeObject *)f->code;
        uintptr_t key[5] = {(uintptr_t)code, (uintptr_t)f->instr, (uintptr_t)code->co_name,
                            (uintptr_t)code->co_filename, (uintptr_t)code->co_linetable};
        uint32_t version = xh_code_version(f);
        if (memo == NULL) {
            if ((id = xs_depot_push(resolve_word(f), id)) == 0)
                break; /* the depot is full */
            continue;
        }
        size_t k = n - 1 - i;
        if (same == k && k < memo->n_last && same_frame(&memo->last[k], key, version, id)) {
            id = memo->last[k].id;
            same++;
            continue;
        }
        uint64_t h = (key[0] ^ (key[1] << 13) ^ (key[1] >> 7) ^ ((uint64_t)id << 32)) *
                     0x9e3779b97f4a7c15ull;
        tail_memo_t *t = &memo->tails[(h >> 32) % TAIL_SLOTS];
        if (!same_frame(t, key, version, id)) {
            uint32_t pushed = xs_depot_push(frame_word(memo, f), id);
            *t = (tail_memo_t){key[0], key[1], key[2], key[3], key[4], version, id, pushed};
        }
        memo->last[k] = *t;
        id = t->id;
        if (id == 0)
            break; /* the depot is full */
    }
    if (memo != NULL) /* a stack cut short by a full depot keeps what matched */
        memo->n_last = id ? n : same;
    return id;
}

size_t xh_python_stack(struct xisan_pyframe *out, char (*names)[2][XISAN_PYNAME_MAX], size_t max,
                       struct xisan_pystack_info *info)
{
    PyThreadState *ts = xh_tstate();
    if (ts == NULL)
        return 0;
    if (info == NULL)
        return thread_frames(ts, out, names, max);
    memset(info, 0, sizeof(*info));
    add_section(info, 0, ts);
    size_t n = thread_frames(ts, out, names, max);
    bool test = find_test(ts, info->test, sizeof(info->test));
    /* then the interpreters that entered this one, innermost first */
    for (size_t k = xh_thread.n_entered; k-- > 0;) {
        PyThreadState *outer = xh_thread.entered[k];
        if (outer == ts || !alive(outer))
            break;
        if (n < max) {
            add_section(info, n, outer);
            n += thread_frames(outer, out + n, names + n, max - n);
        }
        if (!test)
            test = find_test(outer, info->test, sizeof(info->test));
    }
    return n;
}

static void dump_frames(int fd, PyThreadState *ts)
{
    char line[512];
    size_t depth = 0;
    for (xh_iframe_t *f = xh_python_frame(xh_top_frame(ts)); f; f = xh_python_frame(f->previous)) {
        if (++depth > 100) {
            xs_write_all(fd, "  ...\n", 6);
            break;
        }
        char file[256], func[128];
        xs_pyframe_t frame = read_frame(f, file, sizeof(file), func, sizeof(func));
        int len = snprintf(line, sizeof(line), "  File \"%s\", line %d in %s\n", frame.file,
                           frame.line, frame.function);
        xs_write_all(fd, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
    }
    if (depth == 0)
        xs_write_all(fd, "  <no Python frame>\n", 20);
}

void xh_dump_traceback(int fd)
{
    PyThreadState *ts = xh_tstate();
    char line[128];
    int len = snprintf(line, sizeof(line), "Current thread 0x%016lx (most recent call first):\n",
                       (unsigned long)pthread_self());
    xs_write_all(fd, line, (size_t)len);
    if (ts == NULL) {
        xs_write_all(fd, "  <no Python thread state>\n", 27);
        return;
    }
    dump_frames(fd, ts);
}

void xh_dump_other_threads(int fd)
{
    PyThreadState *self = xh_tstate();
    char line[160];
    size_t threads = 0;
    /* unlocked, as faulthandler does: the lists may be changing, and a
     * bound keeps a corrupted one from looping */
    for (PyInterpreterState *interp = PyInterpreterState_Head(); interp && threads < 100;
         interp = PyInterpreterState_Next(interp)) {
        long long id = (long long)PyInterpreterState_GetID(interp);
        for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts && threads < 100;
             ts = PyThreadState_Next(ts)) {
            if (ts == self)
                continue;
            if (threads++ == 0)
                xs_write_all(fd, "  Python stacks of the other threads:\n", 38);
            int len = snprintf(line, sizeof(line),
                               "Thread 0x%016lx (T%lu, interpreter %lld; most recent call first):\n",
                               (unsigned long)ts->thread_id, (unsigned long)ts->native_thread_id,
                               id);
            xs_write_all(fd, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
            dump_frames(fd, ts);
        }
    }
}
