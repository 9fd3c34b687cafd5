/* Helpers shared by the unit tests.  Each Criterion test runs in its own
 * worker process, so the core's global state starts fresh in every test. */
#ifndef XISAN_UNIT_H
#define XISAN_UNIT_H

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "collect.h"
#include "dedup.h"
#include "depot.h"
#include "heapscan.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "quarantine.h"
#include "registry.h"
#include "report.h"
#include "runtime.h"
#include "site.h"
#include "stack.h"
#include "summary.h"
#include "survivors.h"
#include "tag.h"

/* A block laid out as the allocator hooks lay it out: header, then user. */
static inline void *unit_new_block(size_t size, uint32_t owner)
{
    void *raw = malloc(XISAN_HEADER_SIZE + size);
    cr_assert_not_null(raw);
    memset(raw, 0, XISAN_HEADER_SIZE + size);
    return xs_tag_block(raw, XISAN_LONG_HEADER, size, owner, 0);
}

/* The same with the short header (`size` 16k+1..16k+8, owner below 64). */
static inline void *unit_new_short_block(size_t size, uint32_t owner, uint32_t site)
{
    void *raw = malloc(XISAN_SHORT_HEADER + size);
    cr_assert_not_null(raw);
    memset(raw, 0, XISAN_SHORT_HEADER + size);
    return xs_tag_block(raw, XISAN_SHORT_HEADER, size, owner, site);
}

/* The same in the slot form (`size` 25..48, owner below 64): no header; the
 * tag is in the slot table (enabled here), the block 16-byte aligned.  32
 * bytes in front of it stand for the block before it in a pool (a reader
 * looks for a header there first). */
static inline void *unit_new_slot_block(size_t size, uint32_t owner, uint32_t site)
{
    xs_tag_slots_enable();
    char *raw = aligned_alloc(16, 32 + 48);
    cr_assert_not_null(raw);
    memset(raw, 0, 32 + 48);
    xs_header_t *slot = xs_tag_slot_make(raw + 32);
    cr_assert_not_null(slot);
    return xs_tag_slot_block(slot, raw + 32, size, owner, site);
}

static inline void unit_free_slot_block(void *user)
{
    cr_assert_eq(xisan_untag(user), user, "block %p lost its tag", user);
    free((char *)user - 32);
}

static inline void unit_free_block(void *user)
{
    void *raw = xisan_untag(user);
    cr_assert_not_null(raw, "block %p lost its tag", user);
    free(raw);
}

/* Everything written to stderr since cr_redirect_stderr().  Criterion closes
 * the write end when it hands out the read end, so call this once, last. */
static inline void unit_read_stderr(char *buf, size_t cap)
{
    fflush(stderr);
    size_t n = fread(buf, 1, cap - 1, cr_get_redirected_stderr());
    buf[n] = '\0';
}

/* Whole contents of a file into buf (NUL-terminated); returns the length. */
static inline size_t unit_read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static inline size_t unit_count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

#define unit_assert_contains(haystack, needle)                                            \
    cr_assert_not_null(strstr((haystack), (needle)), "expected \"%s\" in:\n%s", (needle), \
                       (haystack))

#endif
