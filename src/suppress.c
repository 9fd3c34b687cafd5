/* Suppressions (suppress.h). */
#include "suppress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `*`-glob match of pattern[0..plen) against the whole of text. */
static bool glob(const char *p, size_t plen, const char *t)
{
    const char *star = NULL, *resume = NULL;
    size_t i = 0;
    while (*t) {
        if (i < plen && p[i] == '*') {
            star = p + i++;
            resume = t;
        } else if (i < plen && p[i] == *t) {
            i++;
            t++;
        } else if (star) {
            i = (size_t)(star - p) + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (i < plen && p[i] == '*')
        i++;
    return i == plen;
}

bool xs_pattern_match(const char *pattern, const char *text)
{
    size_t len = strlen(pattern);
    bool at_start = len > 0 && pattern[0] == '^';
    bool at_end = len > (size_t)at_start && pattern[len - 1] == '$';
    const char *core = pattern + at_start;
    size_t core_len = len - at_start - at_end;
    /* unanchored ends match anything: an implicit `*` */
    char buf[512];
    if (core_len + 2 >= sizeof(buf))
        return false;
    size_t n = 0;
    if (!at_start)
        buf[n++] = '*';
    memcpy(buf + n, core, core_len);
    n += core_len;
    if (!at_end)
        buf[n++] = '*';
    return glob(buf, n, text);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static bool known_kind(const char *kind, const char *const *kinds)
{
    if (strcmp(kind, "*") == 0)
        return true;
    for (const char *const *k = kinds; k && *k; k++)
        if (strcmp(kind, *k) == 0)
            return true;
    return false;
}

/* Checks one line; "" when it is good, else what is wrong. */
static const char *check_line(const char *kind, const char *pattern, const char *const *kinds)
{
    if (!kind[0])
        return "no kind before ':'";
    if (!known_kind(kind, kinds))
        return "unknown report kind";
    if (!pattern[0] || strcmp(pattern, "^") == 0 || strcmp(pattern, "$") == 0 ||
        strcmp(pattern, "^$") == 0)
        return "empty pattern";
    if (strlen(pattern) > 400)
        return "pattern longer than 400 characters";
    return "";
}

int xs_suppressions_load(const char *path, const char *const *kinds, xs_suppressions_t *out,
                         char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, err_len, "%s: cannot read the suppressions file: %s", path,
                 strerror(errno));
        return -1;
    }
    out->path = strdup(path);
    char *line = NULL;
    size_t cap = 0, cap_rules = 0;
    int number = 0, result = out->path ? 0 : -1;
    if (result < 0)
        snprintf(err, err_len, "%s: out of memory", path);
    while (result == 0 && getline(&line, &cap, f) > 0) {
        number++;
        char *s = trim(line);
        if (!s[0] || s[0] == '#')
            continue;
        char *colon = strchr(s, ':');
        if (colon == NULL) {
            snprintf(err, err_len, "%s:%d: not KIND:PATTERN: '%.80s'", path, number, s);
            result = -1;
            break;
        }
        *colon = '\0';
        char *kind = trim(s), *pattern = trim(colon + 1);
        const char *wrong = check_line(kind, pattern, kinds);
        if (wrong[0]) {
            snprintf(err, err_len, "%s:%d: %s: '%.40s:%.80s'", path, number, wrong, kind, pattern);
            result = -1;
            break;
        }
        if (out->n == cap_rules) {
            size_t more = cap_rules ? 2 * cap_rules : 8;
            xs_suppression_t *rules = realloc(out->rules, more * sizeof(*rules));
            if (rules == NULL) {
                snprintf(err, err_len, "%s: out of memory", path);
                result = -1;
                break;
            }
            out->rules = rules;
            cap_rules = more;
        }
        xs_suppression_t *r = &out->rules[out->n];
        memset(r, 0, sizeof(*r));
        r->kind = strdup(kind);
        r->pattern = strdup(pattern);
        r->line = number;
        out->n++;
        if (r->kind == NULL || r->pattern == NULL) {
            snprintf(err, err_len, "%s: out of memory", path);
            result = -1;
        }
    }
    free(line);
    fclose(f);
    if (result < 0)
        xs_suppressions_free(out);
    return result;
}

void xs_suppressions_free(xs_suppressions_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->rules[i].kind);
        free(s->rules[i].pattern);
    }
    free(s->rules);
    free(s->path);
    memset(s, 0, sizeof(*s));
}

xs_suppression_t *xs_suppressions_match(xs_suppressions_t *s, const char *kind,
                                        const char *const *texts, size_t n)
{
    for (size_t r = 0; r < s->n; r++) {
        xs_suppression_t *rule = &s->rules[r];
        if (strcmp(rule->kind, "*") != 0 && strcmp(rule->kind, kind) != 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (texts[i] && texts[i][0] && xs_pattern_match(rule->pattern, texts[i])) {
                atomic_fetch_add(&rule->matched, 1);
                return rule;
            }
        }
    }
    return NULL;
}

xs_suppression_t *xs_suppressions_match_subject(xs_suppressions_t *s,
                                               const xs_suppress_subject_t *subject)
{
    if (s->n == 0)
        return NULL;
    const char *texts[2 * XS_MAX_NATIVE * 3 + 2 * XS_MAX_PYTHON * 2 + 1];
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < subject->n_native[k] && i < XS_MAX_NATIVE; i++) {
            texts[n++] = subject->native[k][i].function;
            texts[n++] = subject->native[k][i].file;
            texts[n++] = subject->native[k][i].module;
        }
        for (size_t i = 0; i < subject->n_python[k] && i < XS_MAX_PYTHON; i++) {
            texts[n++] = subject->python[k][i].function;
            texts[n++] = subject->python[k][i].file;
        }
    }
    texts[n++] = subject->object_type;
    return xs_suppressions_match(s, subject->kind, texts, n);
}
