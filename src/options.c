/* Runtime options: one table (options.inc) gives the struct, the defaults,
 * the XISAN_OPTIONS parser and the help text. */
#include "xs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

xs_options_t xs_opt;

typedef enum { OPT_BOOL, OPT_INT, OPT_STR } opt_type_t;

typedef struct opt_desc {
    const char *name;
    opt_type_t type;
    long lo, hi;
    const char *def_text;
    const char *help;
    size_t offset;
} opt_desc_t;

#define XS_DEF_TEXT_BOOL(def) #def
#define XS_DEF_TEXT_INT(def) #def
#define XS_DEF_TEXT_STR(def) def

static const opt_desc_t opt_table[] = {
#define XISAN_OPTION(type, name, def, lo, hi, help) \
    {#name, OPT_##type, lo, hi, XS_DEF_TEXT_##type(def), help, offsetof(xs_options_t, name)},
#include "options.inc"
#undef XISAN_OPTION
};

#define XS_SET_DEFAULT_BOOL(field, def) (field) = (def)
#define XS_SET_DEFAULT_INT(field, def) (field) = (def)
#define XS_SET_DEFAULT_STR(field, def) snprintf((field), sizeof(field), "%s", (def))

void xs_options_defaults(xs_options_t *out)
{
#define XISAN_OPTION(type, name, def, lo, hi, help) XS_SET_DEFAULT_##type(out->name, def);
#include "options.inc"
#undef XISAN_OPTION
}

static const opt_desc_t *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < XS_ARRAY_LEN(opt_table); i++) {
        if (strlen(opt_table[i].name) == len && memcmp(opt_table[i].name, name, len) == 0)
            return &opt_table[i];
    }
    return NULL;
}

bool xs_options_known(const char *name)
{
    return find_option(name, strlen(name)) != NULL;
}

static int set_value(const opt_desc_t *d, const char *val, size_t len, xs_options_t *out,
                     char *err, size_t errlen)
{
    char text[XS_OPT_STR_MAX];
    if (len >= sizeof(text)) {
        snprintf(err, errlen, "XISAN_OPTIONS: value of '%s' is too long (max %d bytes)", d->name,
                 XS_OPT_STR_MAX - 1);
        return -1;
    }
    memcpy(text, val, len);
    text[len] = '\0';
    void *field = (char *)out + d->offset;

    switch (d->type) {
    case OPT_BOOL:
        if (!strcmp(text, "1") || !strcmp(text, "true")) {
            *(int *)field = 1;
        } else if (!strcmp(text, "0") || !strcmp(text, "false")) {
            *(int *)field = 0;
        } else {
            snprintf(err, errlen, "XISAN_OPTIONS: invalid value '%s' for '%s' (expected 0 or 1)",
                     text, d->name);
            return -1;
        }
        return 0;
    case OPT_INT: {
        char *end;
        errno = 0;
        long v = strtol(text, &end, 10);
        if (len == 0 || *end != '\0' || errno != 0 || v < d->lo || v > d->hi) {
            snprintf(err, errlen,
                     "XISAN_OPTIONS: invalid value '%s' for '%s' (expected an integer %ld..%ld)",
                     text, d->name, d->lo, d->hi);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    }
    case OPT_STR:
        memcpy(field, text, len + 1);
        return 0;
    }
    return -1;
}

int xs_monitor_parse(const char *spec, unsigned *mask, char *err, size_t errlen)
{
    static const char *const names[] = {
#define XS_MONITOR_NAME(name, str) str,
        XS_MONITOR_LIST(XS_MONITOR_NAME)
#undef XS_MONITOR_NAME
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

static int parse_items(const char *text, xs_options_t *out, char *err, size_t errlen);

int xs_options_parse(const char *text, xs_options_t *out, char *err, size_t errlen)
{
    xs_options_defaults(out);
    if (parse_items(text, out, err, errlen) < 0)
        return -1;
    unsigned mask;
    return xs_monitor_parse(out->monitor, &mask, err, errlen);
}

static int parse_items(const char *text, xs_options_t *out, char *err, size_t errlen)
{
    if (text == NULL)
        return 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t item_len = end ? (size_t)(end - p) : strlen(p);
        if (item_len > 0) {
            const char *eq = memchr(p, '=', item_len);
            if (eq == NULL) {
                snprintf(err, errlen, "XISAN_OPTIONS: '%.*s' is not name=value", (int)item_len, p);
                return -1;
            }
            const opt_desc_t *d = find_option(p, (size_t)(eq - p));
            if (d == NULL) {
                snprintf(err, errlen, "XISAN_OPTIONS: unknown option '%.*s' (see `xisan help`)",
                         (int)(eq - p), p);
                return -1;
            }
            if (set_value(d, eq + 1, item_len - (size_t)(eq + 1 - p), out, err, errlen) < 0)
                return -1;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

void xs_options_print_help(int fd)
{
    char line[1024];
    for (size_t i = 0; i < XS_ARRAY_LEN(opt_table); i++) {
        const opt_desc_t *d = &opt_table[i];
        const char *type = d->type == OPT_BOOL ? "bool" : d->type == OPT_INT ? "int" : "string";
        int n = snprintf(line, sizeof(line), "  %-20s %-6s default: %s%s%s\n      %s\n", d->name,
                         type, d->type == OPT_STR ? "\"" : "", d->def_text,
                         d->type == OPT_STR ? "\"" : "", d->help);
        if (n > 0)
            xs_write_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
}
