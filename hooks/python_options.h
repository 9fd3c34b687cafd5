/* The CPython adapter's options (python_options.inc).  No Python dependency: the
 * `xisan` command compiles python_options.c too, so it can check and list them. */
#ifndef XH_PYTHON_OPTIONS_H
#define XH_PYTHON_OPTIONS_H

#include "options.h"

typedef struct xh_options {
#define XISAN_OPTION(type, name, def, lo, hi, help) XS_OPT_FIELD_##type(name);
#include "python_options.inc"
#undef XISAN_OPTION
} xh_options_t;

extern xh_options_t xh_opt;

/* Adds the adapter's options to the core's parser and help. */
void xh_options_register(void);

/* The sys.monitoring events the `monitor` option can name. */
#define XH_MONITOR_LIST(X)      \
    X(PY_START, "py_start")     \
    X(CALL, "call")             \
    X(RETURN, "return")         \
    X(RAISE, "raise")
enum {
#define XH_MONITOR_BIT(name, str) XH_MONITOR_BIT_##name,
    XH_MONITOR_LIST(XH_MONITOR_BIT)
#undef XH_MONITOR_BIT
};
/* Parses "py_start,call" into a mask of 1 << XH_MONITOR_BIT_*; "none" is 0. */
int xh_monitor_parse(const char *spec, unsigned *mask, char *err, size_t errlen);

#endif
