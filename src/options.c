/* Runtime options: the core's table (options.inc) gives the struct, the
 * defaults, the XISAN_OPTIONS parser and the help text; adapters add groups
 * of their own in the same shape. */
#include "options.h"

#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

xs_options_t xs_opt;

static const xs_option_desc_t core_table[] = {
#define XISAN_OPTION(type, name, def, lo, hi, help) \
    XS_OPTION_DESC(xs_options_t, type, name, def, lo, hi, help)
#include "options.inc"
#undef XISAN_OPTION
};

void xs_options_defaults(xs_options_t *out)
{
#define XISAN_OPTION(type, name, def, lo, hi, help) XS_SET_DEFAULT_##type(out->name, def);
#include "options.inc"
#undef XISAN_OPTION
}

static void core_defaults(void *values)
{
    xs_options_defaults(values);
}

enum { MAX_GROUPS = 4 };
static const xs_option_group_t core_group = {"Options", core_table, XS_ARRAY_LEN(core_table),
                                             &xs_opt, core_defaults, NULL};
static const xs_option_group_t *groups[MAX_GROUPS] = {&core_group};
static size_t n_groups = 1;

void xs_options_register(const xs_option_group_t *group)
{
    for (size_t i = 0; i < n_groups; i++)
        if (groups[i] == group)
            return;
    if (n_groups < MAX_GROUPS)
        groups[n_groups++] = group;
}

/* The option called name[0..len), its group's values in *values (the
 * core's go to `core`). */
static const xs_option_desc_t *find_option(const char *name, size_t len, xs_options_t *core,
                                           void **values)
{
    for (size_t g = 0; g < n_groups; g++) {
        for (size_t i = 0; i < groups[g]->count; i++) {
            const xs_option_desc_t *d = &groups[g]->options[i];
            if (strlen(d->name) == len && memcmp(d->name, name, len) == 0) {
                *values = g == 0 ? (void *)core : groups[g]->values;
                return d;
            }
        }
    }
    return NULL;
}

bool xs_options_known(const char *name)
{
    void *values;
    return find_option(name, strlen(name), &xs_opt, &values) != NULL;
}

static int set_value(const xs_option_desc_t *d, const char *val, size_t len, void *values,
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
    void *field = (char *)values + d->offset;

    switch (d->type) {
    case XS_OPT_BOOL:
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
    case XS_OPT_INT: {
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
    case XS_OPT_STR:
        memcpy(field, text, len + 1);
        return 0;
    }
    return -1;
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
            void *values;
            const xs_option_desc_t *d = find_option(p, (size_t)(eq - p), out, &values);
            if (d == NULL) {
                snprintf(err, errlen, "XISAN_OPTIONS: unknown option '%.*s' (see `xisan help`)",
                         (int)(eq - p), p);
                return -1;
            }
            if (set_value(d, eq + 1, item_len - (size_t)(eq + 1 - p), values, err, errlen) < 0)
                return -1;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

int xs_options_parse(const char *text, xs_options_t *out, char *err, size_t errlen)
{
    xs_options_defaults(out);
    for (size_t g = 1; g < n_groups; g++)
        groups[g]->defaults(groups[g]->values);
    if (parse_items(text, out, err, errlen) < 0)
        return -1;
    for (size_t g = 1; g < n_groups; g++)
        if (groups[g]->validate && groups[g]->validate(groups[g]->values, err, errlen) < 0)
            return -1;
    return 0;
}

static const char *type_name(const xs_option_desc_t *d)
{
    switch (d->type) {
    case XS_OPT_BOOL:
        return "bool";
    case XS_OPT_INT:
        return "int";
    case XS_OPT_STR:
        return "string";
    }
    return "?";
}

static void print_line(int fd, xs_buf_t *b)
{
    xs_write_all(fd, b->p, b->len);
    b->len = 0;
}

/* `text` in lines of at most `width` columns, each indented by `indent`. */
static void print_wrapped(int fd, xs_buf_t *b, const char *text, int indent, size_t width)
{
    while (*text) {
        size_t len = strlen(text), cut = len;
        if (len > width) {
            cut = width;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = width;
        }
        xs_buf_printf(b, "%*s%.*s\n", indent, "", (int)cut, text);
        print_line(fd, b);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

void xs_options_print_help(int fd)
{
    char storage[1024];
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    for (size_t g = 0; g < n_groups; g++) {
        xs_buf_printf(&b, "%s%s:\n", g ? "\n" : "", groups[g]->title);
        print_line(fd, &b);
        for (size_t i = 0; i < groups[g]->count; i++) {
            const xs_option_desc_t *d = &groups[g]->options[i];
            const char *quote = d->type == XS_OPT_STR ? "\"" : "";
            xs_buf_printf(&b, "  %-20s %-6s default: %s%s%s\n", d->name, type_name(d), quote,
                          d->def_text, quote);
            print_line(fd, &b);
            print_wrapped(fd, &b, d->help, 6, 84);
        }
    }
}

void xs_options_print_markdown(int fd)
{
    char storage[1024];
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    for (size_t g = 0; g < n_groups; g++) {
        xs_buf_printf(&b, "%s%s:\n\n| option | type | default | meaning |\n"
                          "|--------|------|---------|---------|\n",
                      g ? "\n" : "", groups[g]->title);
        print_line(fd, &b);
        for (size_t i = 0; i < groups[g]->count; i++) {
            const xs_option_desc_t *d = &groups[g]->options[i];
            xs_buf_printf(&b, "| `%s` | %s", d->name, type_name(d));
            if (d->type == XS_OPT_INT)
                xs_buf_printf(&b, " %ld..%ld", d->lo, d->hi);
            xs_buf_printf(&b, " | %s%s%s | %s |\n", d->type == XS_OPT_STR ? "\"" : "",
                          d->def_text, d->type == XS_OPT_STR ? "\"" : "", d->help);
            print_line(fd, &b);
        }
    }
}
