/* One wrapper per row of api.inc.  A wrapper checks each object argument
 * against the calling thread's interpreter (the rules of every other check:
 * own, unowned, shareable, immortal, legacy sharing, ended owners), calls
 * the real function, checks an object result, and returns it.  A failed
 * check is a report whose access names the function (`api:PyList_Append`);
 * the wrapper's own frame belongs to xisan and is left out, so frame #0 is
 * the extension's call site. */
#include "api.h"

#include "collect.h"
#include "object_check.h"

#include <stdlib.h>
#include <string.h>

/* Extensions still call deprecated functions (PyWeakref_GetObject on 3.13),
 * so they have wrappers too. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* ---- the checks ---------------------------------------------------------- */

/* Self-test state of the calling thread: while `active`, a failed check is
 * counted here instead of reported, and wrappers do not call CPython. */
typedef struct selftest {
    bool active;
    int row, position, hits, stray;
    PyObject *result; /* what the wrappers return meanwhile */
} selftest_t;
static XS_TLS selftest_t testing;

enum { RESULT_POSITION = -1 };

static __attribute__((noinline, cold)) void report(int row, int position, PyObject *op,
                                                    void *block, uint32_t owner, uint32_t current)
{
    if (!testing.active) {
        xh_report_object(op, block, owner, current, XISAN_ACCESS_API, xh_api_rows[row].name, 0);
    } else if (!xh_shared_by_design(op, owner, current)) {
        if (row == testing.row && position == testing.position)
            testing.hits++;
        else
            testing.stray++;
    }
}

/* Inline: one header read and a compare for an object of the caller's own
 * interpreter. */
static inline void check_object(int row, int position, PyObject *op, uint32_t current)
{
    /* a static type before PyType_Ready has no type yet */
    if (op == NULL || current == XISAN_UNOWNED || xs_in_runtime || _Py_IsImmortal(op) ||
        Py_TYPE(op) == NULL)
        return;
    void *block = xh_object_block(op);
    const xs_header_t *h = xs_tagged_header(block);
    /* a quarantined block's misdirected end was reported already */
    if (h == NULL || XS_LIKELY(xs_owner_allows(h->word, current)) ||
        (h->word & XISAN_OWNER_QUARANTINE))
        return;
    report(row, position, op, block, xs_tag_owner(h), current);
}

/* ---- expanding the table ------------------------------------------------ */

#define XH_CAT(a, b) XH_CAT_(a, b)
#define XH_CAT_(a, b) a##b
#define XH_NARGS(...) XH_NARGS_(0, ##__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define XH_NARGS_(_0, _1, _2, _3, _4, _5, _6, n, ...) n

/* Is a C type an object type (checked)? */
#define XH_IS_OBJ(T) _Generic((T)0, PyObject *: 1, PyTypeObject *: 1, default: 0)
#define XH_AS_OBJ(x) ((PyObject *)(uintptr_t)(x))

#define XH_PARAMS_0() void
#define XH_PARAMS_1(T0) T0 a0
#define XH_PARAMS_2(T0, T1) T0 a0, T1 a1
#define XH_PARAMS_3(T0, T1, T2) T0 a0, T1 a1, T2 a2
#define XH_PARAMS_4(T0, T1, T2, T3) T0 a0, T1 a1, T2 a2, T3 a3
#define XH_PARAMS_5(T0, T1, T2, T3, T4) T0 a0, T1 a1, T2 a2, T3 a3, T4 a4
#define XH_PARAMS_6(T0, T1, T2, T3, T4, T5) T0 a0, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5
#define XH_PARAMS(...) XH_CAT(XH_PARAMS_, XH_NARGS(__VA_ARGS__))(__VA_ARGS__)

#define XH_ARGS_0
#define XH_ARGS_1 a0
#define XH_ARGS_2 a0, a1
#define XH_ARGS_3 a0, a1, a2
#define XH_ARGS_4 a0, a1, a2, a3
#define XH_ARGS_5 a0, a1, a2, a3, a4
#define XH_ARGS_6 a0, a1, a2, a3, a4, a5
#define XH_ARGS(...) XH_CAT(XH_ARGS_, XH_NARGS(__VA_ARGS__))

#define XH_CHECK(row, T, a, i)                                \
    if (XH_IS_OBJ(T))                                         \
        check_object(row, i, XH_AS_OBJ(a), current);
#define XH_CHECKS_0(row)
#define XH_CHECKS_1(row, T0) XH_CHECK(row, T0, a0, 0)
#define XH_CHECKS_2(row, T0, T1) XH_CHECKS_1(row, T0) XH_CHECK(row, T1, a1, 1)
#define XH_CHECKS_3(row, T0, T1, T2) XH_CHECKS_2(row, T0, T1) XH_CHECK(row, T2, a2, 2)
#define XH_CHECKS_4(row, T0, T1, T2, T3) XH_CHECKS_3(row, T0, T1, T2) XH_CHECK(row, T3, a3, 3)
#define XH_CHECKS_5(row, T0, T1, T2, T3, T4) \
    XH_CHECKS_4(row, T0, T1, T2, T3) XH_CHECK(row, T4, a4, 4)
#define XH_CHECKS_6(row, T0, T1, T2, T3, T4, T5) \
    XH_CHECKS_5(row, T0, T1, T2, T3, T4) XH_CHECK(row, T5, a5, 5)
#define XH_CHECKS(row, ...) XH_CAT(XH_CHECKS_, XH_NARGS(__VA_ARGS__))(row, ##__VA_ARGS__)

/* Bit i set when argument i is an object. */
#define XH_MASK_0() 0u
#define XH_MASK_1(T0) (XH_IS_OBJ(T0) * 1u)
#define XH_MASK_2(T0, T1) (XH_MASK_1(T0) | XH_IS_OBJ(T1) * 2u)
#define XH_MASK_3(T0, T1, T2) (XH_MASK_2(T0, T1) | XH_IS_OBJ(T2) * 4u)
#define XH_MASK_4(T0, T1, T2, T3) (XH_MASK_3(T0, T1, T2) | XH_IS_OBJ(T3) * 8u)
#define XH_MASK_5(T0, T1, T2, T3, T4) (XH_MASK_4(T0, T1, T2, T3) | XH_IS_OBJ(T4) * 16u)
#define XH_MASK_6(T0, T1, T2, T3, T4, T5) (XH_MASK_5(T0, T1, T2, T3, T4) | XH_IS_OBJ(T5) * 32u)
#define XH_MASK(...) XH_CAT(XH_MASK_, XH_NARGS(__VA_ARGS__))(__VA_ARGS__)

/* Self-test arguments: `obj` in position `position` when it is an object
 * position, zeros elsewhere. */
#define XH_TEST_ARG(T, i) ((T)(uintptr_t)(XH_IS_OBJ(T) && (i) == position ? obj : NULL))
#define XH_TEST_ARGS_0()
#define XH_TEST_ARGS_1(T0) XH_TEST_ARG(T0, 0)
#define XH_TEST_ARGS_2(T0, T1) XH_TEST_ARGS_1(T0), XH_TEST_ARG(T1, 1)
#define XH_TEST_ARGS_3(T0, T1, T2) XH_TEST_ARGS_2(T0, T1), XH_TEST_ARG(T2, 2)
#define XH_TEST_ARGS_4(T0, T1, T2, T3) XH_TEST_ARGS_3(T0, T1, T2), XH_TEST_ARG(T3, 3)
#define XH_TEST_ARGS_5(T0, T1, T2, T3, T4) XH_TEST_ARGS_4(T0, T1, T2, T3), XH_TEST_ARG(T4, 4)
#define XH_TEST_ARGS_6(T0, T1, T2, T3, T4, T5) \
    XH_TEST_ARGS_5(T0, T1, T2, T3, T4), XH_TEST_ARG(T5, 5)
#define XH_TEST_ARGS(...) XH_CAT(XH_TEST_ARGS_, XH_NARGS(__VA_ARGS__))(__VA_ARGS__)

/* Row numbers. */
enum {
#define XH_API(ret, name, ...) XH_ROW_##name,
#define XH_API_VOID(name, ...) XH_ROW_##name,
#include "api.inc"
#undef XH_API
#undef XH_API_VOID
};

/* The functions that set the current exception (the rows named
 * PyErr_Set*, a constant of each wrapper): each remembers, for the calling
 * thread, the exception it set and where it was called from, so a RAISE
 * report of that exception names the C line (monitoring.c). */
#define XH_SETS_ERROR(name) (__builtin_memcmp(#name, "PyErr_Set", 9) == 0)

static inline __attribute__((always_inline)) void note_error_set(bool sets_error, void *caller)
{
    if (!sets_error || XS_UNLIKELY(testing.active))
        return;
    PyThreadState *ts = xh_tstate();
    xh_thread.error_set = ts ? ts->current_exception : NULL;
    xh_thread.error_set_pc = (uintptr_t)caller;
}

/* The wrappers.  Each is asserted to have its function's exact type. */
#define XH_PROTOTYPE_MATCHES(name)                                                     \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), __typeof__(&wrap_##name)), \
                   "api.inc: the prototype of " #name " differs from CPython's")

#define XH_API(ret, name, ...)                                                       \
    static ret wrap_##name(XH_PARAMS(__VA_ARGS__))                                   \
    {                                                                                \
        uint32_t current = xh_current();                                             \
        XH_CHECKS(XH_ROW_##name, ##__VA_ARGS__)                                      \
        ret r = XS_UNLIKELY(testing.active) ? (ret)(uintptr_t)testing.result         \
                                            : name(XH_ARGS(__VA_ARGS__));            \
        note_error_set(XH_SETS_ERROR(name), __builtin_return_address(0));            \
        if (XH_IS_OBJ(ret))                                                          \
            check_object(XH_ROW_##name, RESULT_POSITION, XH_AS_OBJ(r), current);     \
        return r;                                                                    \
    }                                                                                \
    XH_PROTOTYPE_MATCHES(name);                                                      \
    static void test_##name(int position, PyObject *obj)                             \
    {                                                                                \
        (void)position;                                                              \
        (void)obj;                                                                   \
        (void)wrap_##name(XH_TEST_ARGS(__VA_ARGS__));                                \
    }
#define XH_API_VOID(name, ...)                                                       \
    static void wrap_##name(XH_PARAMS(__VA_ARGS__))                                  \
    {                                                                                \
        uint32_t current = xh_current();                                             \
        XH_CHECKS(XH_ROW_##name, ##__VA_ARGS__)                                      \
        if (!XS_UNLIKELY(testing.active))                                            \
            name(XH_ARGS(__VA_ARGS__));                                              \
        note_error_set(XH_SETS_ERROR(name), __builtin_return_address(0));            \
    }                                                                                \
    XH_PROTOTYPE_MATCHES(name);                                                      \
    static void test_##name(int position, PyObject *obj)                             \
    {                                                                                \
        (void)position;                                                              \
        (void)obj;                                                                   \
        wrap_##name(XH_TEST_ARGS(__VA_ARGS__));                                      \
    }
#include "api.inc"
#undef XH_API
#undef XH_API_VOID

const xh_api_row_t xh_api_rows[] = {
#define XH_API(ret, name, ...)                                                             \
    {#name, (void *)wrap_##name, XH_NARGS(__VA_ARGS__), XH_MASK(__VA_ARGS__), XH_IS_OBJ(ret), \
     test_##name},
#define XH_API_VOID(name, ...) \
    {#name, (void *)wrap_##name, XH_NARGS(__VA_ARGS__), XH_MASK(__VA_ARGS__), false, test_##name},
#include "api.inc"
#undef XH_API
#undef XH_API_VOID
};
const size_t xh_api_count = XS_ARRAY_LEN(xh_api_rows);

/* ---- lookup by name --------------------------------------------------------- */

static const xh_api_row_t *by_name[XS_ARRAY_LEN(xh_api_rows)];
static pthread_once_t sort_once = PTHREAD_ONCE_INIT;

static int compare_rows(const void *a, const void *b)
{
    return strcmp((*(const xh_api_row_t *const *)a)->name, (*(const xh_api_row_t *const *)b)->name);
}

static void sort_rows(void)
{
    for (size_t i = 0; i < xh_api_count; i++)
        by_name[i] = &xh_api_rows[i];
    qsort(by_name, xh_api_count, sizeof(by_name[0]), compare_rows);
}

void *xh_api_wrapper(const char *name)
{
    pthread_once(&sort_once, sort_rows);
    size_t lo = 0, hi = xh_api_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, by_name[mid]->name);
        if (c == 0)
            return by_name[mid]->wrapper;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- self-test ------------------------------------------------------------- */

static int note(PyObject *list, const char *name, int position)
{
    PyObject *s = position == RESULT_POSITION ? PyUnicode_FromFormat("%s:result", name)
                                               : PyUnicode_FromFormat("%s:%d", name, position);
    int rc = s ? PyList_Append(list, s) : -1;
    Py_XDECREF(s);
    return rc;
}

/* One place: run the wrapper with `obj` there; `expect` says whether the
 * check should fire. */
static int try_place(int row, int position, PyObject *obj, bool expect, PyObject *missed,
                     PyObject *extra)
{
    const xh_api_row_t *r = &xh_api_rows[row];
    testing = (selftest_t){.active = true, .row = row, .position = position,
                           .result = position == RESULT_POSITION ? obj : NULL};
    r->test(position, position == RESULT_POSITION ? NULL : obj);
    selftest_t seen = testing;
    testing.active = false;
    if (expect && seen.hits == 0)
        return note(missed, r->name, position);
    if (!expect && (seen.hits || seen.stray))
        return note(extra, r->name, position);
    if (seen.stray)
        return note(extra, r->name, position);
    return 0;
}

long xh_api_selftest(PyObject *obj, PyObject *missed, PyObject *extra)
{
    const xs_header_t *h = _Py_IsImmortal(obj) ? NULL : xs_tagged_header(xh_object_block(obj));
    uint32_t current = xh_current();
    bool foreign = h != NULL && !xs_owner_allows(h->word, current);
    long places = 0;
    for (size_t row = 0; row < xh_api_count; row++) {
        const xh_api_row_t *r = &xh_api_rows[row];
        for (unsigned i = 0; i < r->nargs; i++, places++)
            if (try_place((int)row, (int)i, obj, foreign && (r->object_args & (1u << i)), missed,
                          extra) < 0)
                return -1;
        if (r->object_result) {
            places++;
            if (try_place((int)row, RESULT_POSITION, obj, foreign, missed, extra) < 0)
                return -1;
        }
    }
    return places;
}
