/* Survivors: blocks of ended interpreters that are still allocated.  The
 * shadow GC notes each object it finds still referenced; at exit a heap scan
 * (heapscan.c) finds every live block of an ended interpreter, those held
 * only by a C static included.  The summary groups them by interpreter and
 * type, with their allocation sites. */
#include "survivors.h"

#include "depot.h"
#include "hash.h"
#include "heapscan.h"
#include "options.h"
#include "output.h"
#include "registry.h"
#include "runtime.h"
#include "stack.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

typedef struct survivor {
    uintptr_t address; /* the object's, or the block's when it is no object */
    uint32_t owner;
    uint32_t type; /* string id; 0: not an object */
    uint32_t site;
    uint64_t place;   /* where the site is shown to be (site_place) */
    size_t size;      /* 0: not known */
    bool referenced;  /* found referenced by a shadow GC scan */
    bool alive;       /* found by the exit heap scan */
    UT_hash_handle hh;
} survivor_t;

static pthread_mutex_t survivors_lock = PTHREAD_MUTEX_INITIALIZER;
static survivor_t *survivors;
/* Objects of ended interpreters that the exit scan found but that the
 * interpreter runtime never frees by design (an adapter says which: the
 * immortal objects of CPython, say): counted, not listed. */
static size_t never_freed;

/* Sites are grouped by the place a summary names: the innermost Python
 * frame (one depot word), else the innermost native pc. */
static uint64_t site_place(uint32_t site)
{
    uint32_t native_id, python_id;
    uint64_t word = 0;
    xs_site_get(site, &native_id, &python_id);
    if (xs_depot_get(python_id, &word, 1) == 1)
        return word;
    if (xs_depot_get(native_id, &word, 1) == 1)
        return word ^ (1ull << 63);
    return 0;
}

static survivor_t *find_or_add(uintptr_t address, uint32_t owner, uint32_t type, uint32_t site)
{
    survivor_t *s = NULL;
    HASH_FIND(hh, survivors, &address, sizeof(address), s);
    if (s == NULL && (s = calloc(1, sizeof(*s))) != NULL) {
        s->address = address;
        s->owner = owner;
        s->type = type;
        s->site = site;
        s->place = site_place(site);
        HASH_ADD(hh, survivors, address, sizeof(s->address), s);
    }
    return s;
}

void xs_survivors_fork(xs_fork_phase_t phase)
{
    xs_mutex_fork(&survivors_lock, phase);
}

void xs_survivor_note(uint32_t owner, const char *type, uintptr_t address, uint32_t site)
{
    uint32_t type_id = xs_string_put(type);
    pthread_mutex_lock(&survivors_lock);
    survivor_t *s = find_or_add(address, owner, type_id, site);
    if (s)
        s->referenced = true;
    pthread_mutex_unlock(&survivors_lock);
}

void xs_describe_block(void *user, size_t size, const void *bytes, size_t n, char *type,
                       size_t len, uintptr_t *address, bool *never_freed)
{
    type[0] = '\0';
    *address = (uintptr_t)user;
    *never_freed = false;
    const struct xisan_adapter *a = xs_adapter();
    if (a->describe_block)
        a->describe_block(user, size, bytes, n, type, len, address, never_freed);
}

static void found_block(void *user, const xs_header_t *h, const void *bytes, size_t n, void *arg)
{
    (void)arg;
    char type[96] = "";
    uintptr_t address = (uintptr_t)user;
    bool immortal = false;
    xs_describe_block(user, h->size, bytes, n, type, sizeof(type), &address, &immortal);
    if (immortal) {
        never_freed++;
        return;
    }
    uint32_t type_id = type[0] ? xs_string_put(type) : 0;
    survivor_t *s = find_or_add(address, h->owner & XISAN_OWNER_MASK, type_id, h->site);
    if (s) {
        s->alive = true;
        s->size = h->size;
    }
}

/* Scan the heap for the blocks of every ended interpreter but `exiting`.
 * Returns false when there is no such interpreter. */
static bool scan_heap(uint32_t exiting)
{
    size_t n = xs_interp_list_ended(NULL, 0);
    uint32_t *ended = n ? calloc(n, sizeof(uint32_t)) : NULL;
    if (ended == NULL)
        return false;
    xs_interp_list_ended(ended, n); /* entries are never removed: n of them */
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++)
        if (ended[i] != exiting && ended[i] > top)
            top = ended[i];
    uint8_t *bitmap = top ? calloc(top / 8 + 1, 1) : NULL;
    if (bitmap == NULL) {
        free(ended);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (ended[i] != exiting)
            bitmap[ended[i] >> 3] |= (uint8_t)(1u << (ended[i] & 7));
    free(ended);
    size_t pages = 0;
    size_t blocks = xs_heap_scan(bitmap, top + 1, found_block, NULL, &pages);
    free(bitmap);
    if (xs_opt.verbosity >= 2)
        xs_message("info", "survivor scan: %zu pages read, %zu blocks of ended interpreters",
                   pages, blocks);
    return true;
}

/* Sort by interpreter, then objects by type name, then other blocks, then
 * site: each group is a run. */
static int group_order(survivor_t *a, survivor_t *b)
{
    if (a->owner != b->owner)
        return a->owner < b->owner ? -1 : 1;
    if (a->type != b->type) {
        if (a->type == 0 || b->type == 0)
            return a->type == 0 ? 1 : -1;
        return strcmp(xs_string_get(a->type), xs_string_get(b->type)); /* interned: differ */
    }
    return a->place < b->place ? -1 : a->place > b->place;
}

/* Where a site is: "file:line in function" of its innermost Python frame,
 * else "file (or module) in function" of its innermost native frame. */
static void describe_site(uint32_t site, char *out, size_t len)
{
    uint32_t native_id, python_id;
    xs_site_get(site, &native_id, &python_id);
    xs_pyframe_t py;
    if (xs_pystack_get(python_id, &py, 1) == 1) {
        snprintf(out, len, "%s:%d in %s", py.file, py.line, py.function);
        return;
    }
    uint64_t pc;
    xs_native_frame_t frames[8];
    if (xs_depot_get(native_id, &pc, 1) == 1) {
        uintptr_t pcs[1] = {(uintptr_t)pc};
        if (xs_symbolize(pcs, 1, frames, XS_ARRAY_LEN(frames)) > 0) {
            snprintf(out, len, "%s in %s", frames[0].file[0] ? frames[0].file : frames[0].module,
                     frames[0].function);
            return;
        }
    }
    snprintf(out, len, "an unknown site");
}

static void print_line(xs_buf_t *b)
{
    xs_write_all(2, b->p, b->len);
    b->len = 0;
    b->p[0] = '\0';
}

enum { MAX_GROUPS = 40, MAX_SITES = 3 };

typedef struct group {
    size_t count, bytes, n_sites;
    struct {
        uint32_t site;
        size_t count;
    } top[MAX_SITES]; /* the sites with the most blocks */
} group_t;

static void group_add_site(group_t *g, uint32_t site, size_t count)
{
    g->n_sites++;
    size_t smallest = 0;
    for (size_t i = 1; i < MAX_SITES; i++)
        if (g->top[i].count < g->top[smallest].count)
            smallest = i;
    if (count > g->top[smallest].count) {
        g->top[smallest].site = site;
        g->top[smallest].count = count;
    }
}

/* The run of survivors from `first` with the same interpreter and type
 * (sorted by place within it); returns the survivor after the run. */
static survivor_t *collect_group(survivor_t *first, bool exit_scan, group_t *g)
{
    memset(g, 0, sizeof(*g));
    uint32_t site = 0;
    uint64_t place = 0;
    size_t run = 0;
    survivor_t *s = first;
    for (; s != NULL && s->owner == first->owner && s->type == first->type; s = s->hh.next) {
        if (exit_scan && !s->alive)
            continue;
        if (run && s->place != place) {
            group_add_site(g, site, run);
            run = 0;
        }
        site = s->site;
        place = s->place;
        run++;
        g->count++;
        g->bytes += s->size;
    }
    if (run)
        group_add_site(g, site, run);
    return s;
}

static void print_group(const survivor_t *first, const group_t *g, xs_buf_t *b)
{
    char name[64], where[512];
    xs_interp_name(first->owner, name, sizeof(name));
    xs_buf_printf(b, "  interpreter %u (%s): %zu ", first->owner - 1, name, g->count);
    if (first->type)
        xs_buf_printf(b, "%s object%s", xs_string_get(first->type), g->count == 1 ? "" : "s");
    else
        xs_buf_printf(b, "other block%s (%zu bytes)", g->count == 1 ? "" : "s", g->bytes);
    for (size_t i = 0, shown = 0; i < MAX_SITES; i++) {
        if (g->top[i].count == 0)
            continue;
        describe_site(g->top[i].site, where, sizeof(where));
        xs_buf_printf(b, "%s%s", shown++ ? "; " : ", allocated at ", where);
        if (g->n_sites > 1)
            xs_buf_printf(b, " (%zu)", g->top[i].count);
    }
    if (g->n_sites > MAX_SITES)
        xs_buf_printf(b, "; and %zu more site%s", g->n_sites - MAX_SITES,
                      g->n_sites - MAX_SITES == 1 ? "" : "s");
    xs_buf_puts(b, "\n");
    print_line(b);
}

void xs_survivors_print(uint32_t exiting)
{
    bool exit_scan = false;
    xs_in_runtime++;
    pthread_mutex_lock(&survivors_lock);
    if (xs_opt.survivors)
        exit_scan = scan_heap(exiting);
    size_t total = 0, objects = 0, referenced = 0;
    for (survivor_t *s = survivors; s != NULL; s = s->hh.next) {
        if (exit_scan && !s->alive)
            continue; /* noted by a scan, freed since */
        total++;
        objects += s->type != 0;
        referenced += s->referenced;
    }
    if (total == 0) {
        if (never_freed && xs_opt.verbosity >= 1)
            xs_message("info", "%zu immortal objects of ended interpreters still allocated at "
                               "exit (never freed by design)", never_freed);
        goto out;
    }
    HASH_SORT(survivors, group_order);
    char storage[2048];
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    if (exit_scan)
        xs_buf_printf(&b,
                      "==%d==XISan: %zu block%s of ended interpreters still allocated at exit "
                      "(%zu object%s, %zu found referenced by the shadow GC; immortal objects, "
                      "never freed by design, not counted: %zu):\n",
                      (int)getpid(), total, total == 1 ? "" : "s", objects,
                      objects == 1 ? "" : "s", referenced, never_freed);
    else
        xs_buf_printf(&b,
                      "==%d==XISan: objects of ended interpreters still referenced "
                      "(found by the shadow GC):\n",
                      (int)getpid());
    print_line(&b);
    size_t groups = 0, skipped = 0;
    for (survivor_t *s = survivors; s != NULL;) {
        group_t g;
        survivor_t *next = collect_group(s, exit_scan, &g);
        if (g.count && groups++ < MAX_GROUPS)
            print_group(s, &g, &b);
        else if (g.count)
            skipped++;
        s = next;
    }
    if (skipped) {
        xs_buf_printf(&b, "  ... and %zu more groups\n", skipped);
        print_line(&b);
    }
out:
    pthread_mutex_unlock(&survivors_lock);
    xs_in_runtime--;
}
