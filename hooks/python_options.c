/* The CPython adapter's options: its table (python_options.inc) as an
 * option group of the core's parser, and the `monitor` word list.  No
 * Python dependency, so the `xisan` command checks and lists them too. */
#include "python_options.h"

#include <stdio.h>
#include <string.h>

xh_options_t xh_opt;

static const xs_option_desc_t table[] = {
#define XISAN_OPTION(type, name, def, lo, hi, help) \
    XS_OPTION_DESC(xh_options_t, type, name, def, lo, hi, help)
#include "python_options.inc"
#undef XISAN_OPTION
};

static void defaults(void *values)
{
    xh_options_t *out = values;
#define XISAN_OPTION(type, name, def, lo, hi, help) XS_SET_DEFAULT_##type(out->name, def);
#include "python_options.inc"
#undef XISAN_OPTION
}

int xh_monitor_parse(const char *spec, unsigned *mask, char *err, size_t errlen)
{
    static const char *const names[] = {
#define XH_MONITOR_NAME(name, str) str,
        XH_MONITOR_LIST(XH_MONITOR_NAME)
#undef XH_MONITOR_NAME
    };
    *mask = 0;
    for (const char *p = spec; p && *p;) {
        size_t len = strcspn(p, ",");
        bool found = len == 4 && strncmp(p, "none", 4) == 0;
        for (size_t i = 0; i < XS_ARRAY_LEN(names) && !found; i++) {
            if (strlen(names[i]) == len && strncmp(p, names[i], len) == 0) {
                *mask |= 1u << i;
                found = true;
            }
        }
        if (!found && len > 0) {
            snprintf(err, errlen,
                     "XISAN_OPTIONS: invalid value '%s' for 'monitor' (unknown event '%.*s'; "
                     "expected py_start, call, return, raise or none)",
                     spec, (int)len, p);
            return -1;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int validate(const void *values, char *err, size_t errlen)
{
    unsigned mask;
    return xh_monitor_parse(((const xh_options_t *)values)->monitor, &mask, err, errlen);
}

static const xs_option_group_t group = {
    "CPython options", table, XS_ARRAY_LEN(table), &xh_opt, defaults, validate,
};

void xh_options_register(void)
{
    xs_options_register(&group);
}
