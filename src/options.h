/* Runtime options.  The core's are declared once in options.inc; an adapter
 * declares its own in a table of the same shape and registers it as a
 * group, so one parser, one `xisan help` and one docs table cover both. */
#ifndef XS_OPTIONS_H
#define XS_OPTIONS_H

#include "base.h"

/* String options are stored in the struct, so parsing into one struct
 * never changes another. */
#define XS_OPT_STR_MAX 512
#define XS_OPT_FIELD_BOOL(name) int name
#define XS_OPT_FIELD_INT(name) int name
#define XS_OPT_FIELD_STR(name) char name[XS_OPT_STR_MAX]

typedef struct xs_options {
#define XISAN_OPTION(type, name, def, lo, hi, help) XS_OPT_FIELD_##type(name);
#include "options.inc"
#undef XISAN_OPTION
} xs_options_t;

XS_INTERNAL extern xs_options_t xs_opt;

typedef enum xs_opt_type { XS_OPT_BOOL, XS_OPT_INT, XS_OPT_STR } xs_opt_type_t;

typedef struct xs_option_desc {
    const char *name;
    xs_opt_type_t type;
    long lo, hi;
    const char *def_text;
    const char *help;
    size_t offset; /* in the group's values */
} xs_option_desc_t;

/* One X-macro row (type, name, default, min, max, help) as a descriptor of
 * a field of `values_type`. */
#define XS_DEF_TEXT_BOOL(def) #def
#define XS_DEF_TEXT_INT(def) #def
#define XS_DEF_TEXT_STR(def) def
#define XS_OPTION_DESC(values_type, type, name, def, lo, hi, help) \
    {#name, XS_OPT_##type, lo, hi, XS_DEF_TEXT_##type(def), help, offsetof(values_type, name)},
#define XS_SET_DEFAULT_BOOL(field, def) (field) = (def)
#define XS_SET_DEFAULT_INT(field, def) (field) = (def)
#define XS_SET_DEFAULT_STR(field, def) snprintf((field), sizeof(field), "%s", (def))

/* Options that belong to an adapter: parsed from the same XISAN_OPTIONS
 * into `values`, listed after the core's. */
typedef struct xs_option_group {
    const char *title; /* heading in `xisan help` and the docs */
    const xs_option_desc_t *options;
    size_t count;
    void *values;
    void (*defaults)(void *values);
    /* Checks values the table cannot describe (a list of words, say):
     * returns -1 with a one-line message in err. */
    int (*validate)(const void *values, char *err, size_t errlen);
} xs_option_group_t;

/* Adds a group (once; before xs_runtime_init parses XISAN_OPTIONS). */
XS_INTERNAL void xs_options_register(const xs_option_group_t *group);

/* Parse a colon-separated name=value list: the core's options into `out`,
 * registered groups' into their own values, each starting from its
 * defaults.  On error returns -1 and writes a one-line message to `err`. */
XS_INTERNAL int xs_options_parse(const char *text, xs_options_t *out, char *err, size_t errlen);
XS_INTERNAL void xs_options_defaults(xs_options_t *out);
/* Is `name` a known option (core or registered)? */
XS_INTERNAL bool xs_options_known(const char *name);
/* `xisan help` text, and the same as Markdown table rows (docs/options.md). */
XS_INTERNAL void xs_options_print_help(int fd);
XS_INTERNAL void xs_options_print_markdown(int fd);

#endif
