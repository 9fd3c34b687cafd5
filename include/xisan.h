/* xisan: the cross-interpreter sanitizer, core runtime API.
 *
 * This header has no Python dependency.  Any program that runs several
 * interpreters (or any other kind of isolated heap owner) can tag the blocks
 * it allocates with their owner and ask whether a thread may touch a block.
 *
 * Owners are 32-bit ids: 0 is "unowned" (shared by everybody); an
 * interpreter whose external id is N is owner N + 1.  Ids are never reused,
 * so an owner that has ended stays recognisable.
 */
#ifndef XISAN_H
#define XISAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XISAN_VERSION "0.1.0"

#if defined(__GNUC__)
#define XISAN_API __attribute__((visibility("default")))
#else
#define XISAN_API
#endif

typedef uint32_t xisan_owner_t;
#define XISAN_UNOWNED ((xisan_owner_t)0)

/* Bytes xisan_tag() needs in front of the user pointer (the long form of
 * the block header; the CPython hooks also give small blocks an 8-byte
 * one). */
#define XISAN_HEADER_SIZE 16u

/* How a block was touched: X(name, value, JSON name, where it is seen).
 *
 * APPEND-ONLY: the values are part of the ABI (instrumented extensions pass
 * them to the runtime compiled in), so a new access takes the next value at
 * the end and no value is ever reused or reordered.
 *
 * Where it is seen: PY for touches seen at an interpreted-language event or
 * found by a scan of the object graph (the report's SUMMARY line names the
 * innermost interpreted frame), NATIVE for touches in native code (it names
 * the innermost native frame of the user's code). */
#define XISAN_ACCESS_LIST(X)                    \
    X(FREE, 0, "free", NATIVE)                  \
    X(DEALLOC, 1, "dealloc", NATIVE)            \
    X(REALLOC, 2, "realloc", NATIVE)            \
    X(CALL, 3, "call", PY)                      \
    X(PY_START, 4, "py-start", PY)              \
    X(RETURN, 5, "return", PY)                  \
    X(RAISE, 6, "raise", PY)                    \
    X(TOUCH, 7, "touch", NATIVE)                \
    X(INCREF, 8, "incref", NATIVE)              \
    X(DECREF, 9, "decref", NATIVE)              \
    X(GETATTR, 10, "getattr", NATIVE)           \
    X(SETATTR, 11, "setattr", NATIVE)           \
    X(GETITEM, 12, "getitem", NATIVE)           \
    X(SETITEM, 13, "setitem", NATIVE)           \
    X(DELITEM, 14, "delitem", NATIVE)           \
    X(APPEND, 15, "append", NATIVE)             \
    X(REPR, 16, "repr", NATIVE)                 \
    X(STR, 17, "str", NATIVE)                   \
    X(COMPARE, 18, "compare", NATIVE)           \
    X(SET_ERROR, 19, "set-error", NATIVE)       \
    X(ADD_OBJECT, 20, "add-object", NATIVE)     \
    X(ITER_NEXT, 21, "iter-next", NATIVE)       \
    X(REFERENCE, 22, "reference", PY)           \
    X(API, 23, "api", NATIVE)                   \
    X(VIEW, 24, "view", PY)

typedef enum xisan_access {
#define XISAN_ACCESS_ENUM(name, value, str, seen) XISAN_ACCESS_##name = value,
    XISAN_ACCESS_LIST(XISAN_ACCESS_ENUM)
#undef XISAN_ACCESS_ENUM
    XISAN_ACCESS_COUNT
} xisan_access_t;

/* Read options from XISAN_OPTIONS.  Returns 0, or -1 after printing one
 * line naming the malformed option.  Safe to call more than once. */
XISAN_API int xisan_init(void);

/* Interpreter registry. */
XISAN_API xisan_owner_t xisan_interp_created(int64_t external_id, const char *name);
XISAN_API void xisan_interp_ended(xisan_owner_t owner);
XISAN_API bool xisan_interp_alive(xisan_owner_t owner);

/* The interpreter the calling thread is running now (XISAN_UNOWNED: none). */
XISAN_API void xisan_set_current(xisan_owner_t owner);
XISAN_API xisan_owner_t xisan_current(void);

/* Tags.  `raw` must have room for XISAN_HEADER_SIZE + size bytes; the
 * returned user pointer is raw + XISAN_HEADER_SIZE. */
XISAN_API void *xisan_tag(void *raw, size_t size, xisan_owner_t owner);
/* The raw block behind a tagged user pointer (and clears the tag), or NULL
 * when `user` was not tagged by xisan. */
XISAN_API void *xisan_untag(void *user);
/* Owner of a tagged block; XISAN_UNOWNED for blocks xisan did not tag. */
XISAN_API xisan_owner_t xisan_owner(const void *user);
/* Mark a tagged block as deliberately shared: it then passes every check. */
XISAN_API void xisan_set_shareable(void *user, bool shareable);

/* The check: 0 when the calling thread's current owner may touch `user`
 * (same owner, unowned, shareable), otherwise a report is made and 1 is
 * returned (or the process aborts when halt_on_error=1). */
XISAN_API int xisan_check(const void *user, xisan_access_t access, const char *type_name);

/* Shadow GC: walk the calling thread's interpreter's object graph (in a
 * process where the xisan CPython runtime is active, with the GIL held)
 * and report every reference to another interpreter's object.  Returns
 * the number of such references found, or -1 when no runtime is active. */
XISAN_API long xisan_python_scan(void);

/* Number of reports made so far in this process. */
XISAN_API unsigned long xisan_report_count(void);

#ifdef __cplusplus
}
#endif
#endif
