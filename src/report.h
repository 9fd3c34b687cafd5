/* A report: its kind (kinds.inc), the struct it is collected into
 * (collect.c) and the two renderings (report.c). */
#ifndef XS_REPORT_H
#define XS_REPORT_H

#include "depot.h"
#include "output.h"
#include "stack.h"

typedef enum xs_kind {
#define XS_KIND(id, name, dedup, payload, description) XS_KIND_##id,
#include "kinds.inc"
#undef XS_KIND
    XS_KIND_COUNT
} xs_kind_t;

typedef enum xs_dedup { XS_DEDUP_SITE, XS_DEDUP_HOLDER, XS_DEDUP_TYPE } xs_dedup_t;
typedef enum xs_payload {
    XS_PAYLOAD_NONE,
    XS_PAYLOAD_HOLDER,
    XS_PAYLOAD_VIEWS,
    XS_PAYLOAD_CRASH
} xs_payload_t;

typedef struct xs_kind_desc {
    const char *name;
    xs_dedup_t dedup;
    xs_payload_t payload;
    const char *description;
} xs_kind_desc_t;

XS_INTERNAL const xs_kind_desc_t *xs_kind(xs_kind_t kind);
XS_INTERNAL const char *xs_kind_name(xs_kind_t kind);
/* Every kind's name, NULL-ended. */
XS_INTERNAL const char *const *xs_kind_names(void);
XS_INTERNAL const char *xs_access_name(xisan_access_t access);
/* `xisan help`'s list of kinds. */
XS_INTERNAL void xs_kinds_print_help(int fd);

typedef struct xs_report {
    xs_kind_t kind;
    xisan_access_t access;
    char access_text[96]; /* "api:PyList_Append" (empty: the access's own name) */
    char object_type[96];
    char object_name[192]; /* the adapter's name of the object, "" none */
    uintptr_t object_address;
    size_t object_size; /* 0: not known */
    uint32_t owner;
    uint32_t current;
    char owner_name[64];
    char current_name[64];
    const char *owner_config;   /* "isolated", "legacy", ...: xs_interp_config (NULL: unknown) */
    const char *current_config;
    bool owner_ended;
    int pid;
    unsigned long thread;
    size_t n_native, n_alloc_native, n_python, n_alloc_python;
    xs_native_frame_t native[XS_MAX_NATIVE];
    xs_native_frame_t alloc_native[XS_MAX_NATIVE];
    xs_pyframe_t python[XS_MAX_PYTHON];
    xs_pyframe_t alloc_python[XS_MAX_PYTHON];
    /* storage for python frame strings of the touching thread */
    char python_strings[XS_MAX_PYTHON][2][XISAN_PYNAME_MAX];
    xs_pystack_info_t python_info; /* interpreter sections, the test */
    const char *note;           /* what happened to the block, e.g. "quarantined" */
    xs_runtime_code_t runtime;  /* the runtime's code, which the SUMMARY line skips */
    /* the adapter's eval_prefix: a Python function entered from the user's
     * native code (NULL: not known) */
    const char *eval_prefix;
    /* payload HOLDER: the object that holds the reference */
    char container_type[96];
    uintptr_t container_address;
    uint32_t container_owner;
    char container_name[64];
    char path[256];             /* from a root, when known */
    /* payload VIEWS: "name\tdifference\n" per name whose entry differs */
    char differences[1024];
    bool from_source;           /* native[0] is an instrumented call site */
    uint64_t site_id;           /* its site in the log's "repeats" record, 0: none */
    /* where native code set the raised exception (n_origin 0: not known) */
    size_t n_origin;
    xs_native_frame_t origin[4];
} xs_report_t;

/* The first of frames[0..n) that is the user's native code: outside the
 * interpreter runtime (`runtime`, may be NULL), libc and the dynamic
 * loader, with a source line, a .c line before a header's; only frames
 * inner to the first whose function starts with `stop_prefix` count (none
 * when there is no such frame; NULL: all).  Its index, or -1. */
XS_INTERNAL long xs_first_user_frame(const xs_native_frame_t *frames, size_t n,
                                     const xs_runtime_code_t *runtime, const char *stop_prefix);

/* Stacks as the reports show them: numbered text lines, and a JSON member
 * `,"key":[...]`. */
XS_INTERNAL void xs_render_native_text(xs_buf_t *b, const xs_native_frame_t *frames, size_t n);
XS_INTERNAL void xs_render_python_text(xs_buf_t *b, const xs_pyframe_t *frames, size_t n,
                                       const xs_pystack_info_t *info);
XS_INTERNAL void xs_render_native_json(xs_buf_t *b, const char *key, const xs_native_frame_t *f,
                                       size_t n);
XS_INTERNAL void xs_render_python_json(xs_buf_t *b, const char *key, const xs_pyframe_t *f,
                                       size_t n, const xs_pystack_info_t *info);
/* `,"test":...` of a stack's info (null: none). */
XS_INTERNAL void xs_render_test_json(xs_buf_t *b, const xs_pystack_info_t *info);
/* An interpreter's configuration after its name ("interpreter 1,
 * isolated"), unless the name says it ("main"): the separator and the
 * text, both "" when not shown; and the JSON member `,"key":config|null`. */
XS_INTERNAL const char *xs_config_sep(const char *name, const char *config);
XS_INTERNAL const char *xs_config_text(const char *name, const char *config);
XS_INTERNAL void xs_render_config_json(xs_buf_t *b, const char *key, const char *config);
/* The number people know an interpreter by (CPython's id); -1: none. */
XS_INTERNAL long xs_interp_number(uint32_t owner);

/* Render as sanitizer-style text / as one JSON line (with '\n'). */
XS_INTERNAL void xs_report_render_text(const xs_report_t *r, xs_buf_t *out);
XS_INTERNAL void xs_report_render_json(const xs_report_t *r, xs_buf_t *out);

#endif
