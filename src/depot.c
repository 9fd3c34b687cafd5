/* Stack depot: arrays of words (native stacks, python stacks, sites) and
 * strings are interned once and named by a 32-bit id.  Per-block metadata
 * keeps ids only.  Entries are never freed; memory comes from libc malloc,
 * which xisan never hooks. */
#include "xs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct depot_entry {
    UT_hash_handle hh;
    uint32_t id;
    uint32_t n;
    uint64_t words[];
} depot_entry_t;

typedef struct string_entry {
    UT_hash_handle hh;
    uint32_t id;
    char s[];
} string_entry_t;

static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER;
static depot_entry_t *depot_table;
static depot_entry_t **depot_by_id; /* index id - 1 */
static size_t depot_len, depot_cap;
static string_entry_t *string_table;
static string_entry_t **string_by_id;
static size_t string_len, string_cap;

static bool grow(void ***array, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 1024;
    while (ncap < need)
        ncap *= 2;
    void **p = realloc(*array, ncap * sizeof(void *));
    if (p == NULL)
        return false;
    *array = p;
    *cap = ncap;
    return true;
}

uint32_t xs_depot_put(const uint64_t *words, size_t n)
{
    if (n == 0 || n > UINT16_MAX)
        return 0;
    size_t keylen = n * sizeof(uint64_t);
    uint32_t id = 0;
    pthread_mutex_lock(&depot_lock);
    depot_entry_t *e = NULL;
    HASH_FIND(hh, depot_table, words, keylen, e);
    if (e) {
        id = e->id;
    } else if (depot_len < UINT32_MAX - 1 &&
               grow((void ***)&depot_by_id, &depot_cap, depot_len + 1)) {
        e = malloc(sizeof(*e) + keylen);
        if (e) {
            memset(&e->hh, 0, sizeof(e->hh));
            e->n = (uint32_t)n;
            memcpy(e->words, words, keylen);
            e->id = (uint32_t)++depot_len;
            depot_by_id[e->id - 1] = e;
            HASH_ADD_KEYPTR(hh, depot_table, e->words, keylen, e);
            id = e->id;
        }
    }
    pthread_mutex_unlock(&depot_lock);
    return id;
}

size_t xs_depot_get(uint32_t id, uint64_t *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&depot_lock);
    if (id >= 1 && id <= depot_len) {
        depot_entry_t *e = depot_by_id[id - 1];
        n = e->n < max ? e->n : max;
        memcpy(out, e->words, n * sizeof(uint64_t));
    }
    pthread_mutex_unlock(&depot_lock);
    return n;
}

size_t xs_depot_count(void)
{
    pthread_mutex_lock(&depot_lock);
    size_t n = depot_len;
    pthread_mutex_unlock(&depot_lock);
    return n;
}

uint32_t xs_string_put(const char *s)
{
    if (s == NULL)
        s = "";
    uint32_t id = 0;
    pthread_mutex_lock(&depot_lock);
    string_entry_t *e = NULL;
    HASH_FIND_STR(string_table, s, e);
    if (e) {
        id = e->id;
    } else if (grow((void ***)&string_by_id, &string_cap, string_len + 1)) {
        size_t len = strlen(s);
        e = malloc(sizeof(*e) + len + 1);
        if (e) {
            memset(&e->hh, 0, sizeof(e->hh));
            memcpy(e->s, s, len + 1);
            e->id = (uint32_t)++string_len;
            string_by_id[e->id - 1] = e;
            HASH_ADD_KEYPTR(hh, string_table, e->s, len, e);
            id = e->id;
        }
    }
    pthread_mutex_unlock(&depot_lock);
    return id;
}

const char *xs_string_get(uint32_t id)
{
    const char *s = "";
    pthread_mutex_lock(&depot_lock);
    if (id >= 1 && id <= string_len)
        s = string_by_id[id - 1]->s; /* entries never move or die */
    pthread_mutex_unlock(&depot_lock);
    return s;
}

uint32_t xs_site_put(uint32_t native_id, uint32_t python_id)
{
    if (native_id == 0 && python_id == 0)
        return 0;
    /* A leading marker word keeps sites apart from one-word stacks. */
    uint64_t w[2] = {0xfeedull << 48 | native_id, python_id};
    return xs_depot_put(w, 2);
}

void xs_site_get(uint32_t site, uint32_t *native_id, uint32_t *python_id)
{
    uint64_t w[2] = {0, 0};
    *native_id = *python_id = 0;
    if (xs_depot_get(site, w, 2) == 2 && (w[0] >> 48) == 0xfeedull) {
        *native_id = (uint32_t)w[0];
        *python_id = (uint32_t)w[1];
    }
}

uint32_t xs_pystack_put(const xs_pyframe_t *frames, size_t n)
{
    uint64_t w[2 * XS_MAX_PYTHON];
    if (n > XS_MAX_PYTHON)
        n = XS_MAX_PYTHON;
    for (size_t i = 0; i < n; i++) {
        uint64_t file = xs_string_put(frames[i].file);
        uint64_t func = xs_string_put(frames[i].function);
        w[2 * i] = file << 32 | func;
        w[2 * i + 1] = (uint64_t)(uint32_t)frames[i].line;
    }
    return xs_depot_put(w, 2 * n);
}

size_t xs_pystack_get(uint32_t id, xs_pyframe_t *out, size_t max)
{
    uint64_t w[2 * XS_MAX_PYTHON];
    size_t nw = xs_depot_get(id, w, 2 * (max < XS_MAX_PYTHON ? max : XS_MAX_PYTHON));
    size_t n = nw / 2;
    for (size_t i = 0; i < n; i++) {
        out[i].file = xs_string_get((uint32_t)(w[2 * i] >> 32));
        out[i].function = xs_string_get((uint32_t)w[2 * i]);
        out[i].line = (int)(uint32_t)w[2 * i + 1];
    }
    return n;
}

void xs_depot_reset(void)
{
    pthread_mutex_lock(&depot_lock);
    depot_entry_t *e, *et;
    HASH_ITER(hh, depot_table, e, et)
    {
        HASH_DEL(depot_table, e);
        free(e);
    }
    string_entry_t *s, *st;
    HASH_ITER(hh, string_table, s, st)
    {
        HASH_DEL(string_table, s);
        free(s);
    }
    free(depot_by_id);
    free(string_by_id);
    depot_by_id = NULL;
    string_by_id = NULL;
    depot_len = depot_cap = string_len = string_cap = 0;
    pthread_mutex_unlock(&depot_lock);
}
