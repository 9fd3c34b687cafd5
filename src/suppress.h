/* Suppressions, in the form sanitizer users know: a file of `KIND:PATTERN`
 * lines (`#` comments and blank lines allowed).  KIND is a report kind or
 * `*`; PATTERN may contain `*` and matches as a substring unless anchored
 * with `^` and/or `$`.  A report is suppressed when a rule of its kind
 * matches any of the strings it is tried against (every frame's function,
 * file and module, native and Python, of the touch and of the allocation,
 * and the object's type name).  Used by the runtime (option suppressions)
 * and by `xisan report`. */
#ifndef XS_SUPPRESS_H
#define XS_SUPPRESS_H

#include "depot.h"
#include "stack.h"

typedef struct xs_suppression {
    char *kind;    /* a kind name or "*" */
    char *pattern; /* as written */
    int line;      /* in the file */
    _Atomic unsigned long matched;
} xs_suppression_t;

typedef struct xs_suppressions {
    char *path;
    xs_suppression_t *rules;
    size_t n;
} xs_suppressions_t;

/* Reads a suppressions file; kind names are checked against `kinds`
 * (NULL-ended).  On error returns -1 with "FILE:LINE: what" (or "FILE:
 * what") in err, and frees what it read. */
XS_INTERNAL int xs_suppressions_load(const char *path, const char *const *kinds,
                                     xs_suppressions_t *out, char *err, size_t err_len);
XS_INTERNAL void xs_suppressions_free(xs_suppressions_t *s);
/* Does `pattern` match `text` (the rules above)? */
XS_INTERNAL bool xs_pattern_match(const char *pattern, const char *text);
/* The first rule for `kind` that matches one of texts[0..n) (NULL and ""
 * skipped); its match count goes up.  NULL: none. */
XS_INTERNAL xs_suppression_t *xs_suppressions_match(xs_suppressions_t *s, const char *kind,
                                                   const char *const *texts, size_t n);

/* What a report or crash is tried against: every native frame's function,
 * file and module and every Python frame's function and file, of the touch
 * and of the allocation, and the object's type. */
typedef struct xs_suppress_subject {
    const char *kind;
    const xs_native_frame_t *native[2];
    size_t n_native[2];
    const xs_pyframe_t *python[2];
    size_t n_python[2];
    const char *object_type;
} xs_suppress_subject_t;
XS_INTERNAL xs_suppression_t *xs_suppressions_match_subject(xs_suppressions_t *s,
                                                           const xs_suppress_subject_t *subject);

#endif
