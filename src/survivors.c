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
#include "site.h"
#include "stack.h"
#include "survivor_summary.h"

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
    uint32_t place;   /* where the site is shown to be (place_of_unlocked) */
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

/* Sites are grouped by the place a summary names (xs_site_describe), an
 * interned string; describing a site symbolizes it, so each site once. */
typedef struct site_place {
    uint32_t site;
    uint32_t place;
    UT_hash_handle hh;
} site_place_t;
static site_place_t *places;

static uint32_t place_of_unlocked(uint32_t site)
{
    site_place_t *p = NULL;
    HASH_FIND(hh, places, &site, sizeof(site), p);
    if (p)
        return p->place;
    char where[XS_SURVIVOR_WHERE_MAX];
    xs_site_describe(site, where, sizeof(where));
    uint32_t place = xs_string_put(where);
    if ((p = calloc(1, sizeof(*p))) != NULL) {
        p->site = site;
        p->place = place;
        HASH_ADD(hh, places, site, sizeof(p->site), p);
    }
    return place;
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
        HASH_ADD(hh, survivors, address, sizeof(s->address), s);
    }
    return s;
}

bool xs_survivors_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&survivors_lock, phase);
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

static void found_block(void *user, const xs_block_t *h, const void *bytes, size_t n, void *arg)
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

enum { MAX_SITES = XS_SURVIVOR_MAX_SITES };

static void group_add_site(xs_survivor_group_t *g, uint32_t place, size_t count)
{
    g->n_sites++;
    size_t smallest = 0;
    for (size_t i = 1; i < MAX_SITES; i++)
        if (g->top[i].count < g->top[smallest].count)
            smallest = i;
    if (count > g->top[smallest].count) {
        snprintf(g->top[smallest].where, sizeof(g->top[smallest].where), "%s",
                 xs_string_get(place));
        g->top[smallest].count = count;
    }
}

/* The run of survivors from `first` with the same interpreter and type
 * (sorted by place within it); returns the survivor after the run. */
static survivor_t *collect_group(survivor_t *first, bool exit_scan, xs_survivor_group_t *g)
{
    memset(g, 0, sizeof(*g));
    g->owner = first->owner;
    g->type = first->type ? xs_string_get(first->type) : NULL;
    uint32_t place = 0;
    size_t run = 0;
    survivor_t *s = first;
    for (; s != NULL && s->owner == first->owner && s->type == first->type; s = s->hh.next) {
        if (exit_scan && !s->alive)
            continue;
        if (run && s->place != place) {
            group_add_site(g, place, run);
            run = 0;
        }
        place = s->place;
        run++;
        g->count++;
        g->bytes += s->size;
    }
    if (run)
        group_add_site(g, place, run);
    return s;
}

/* Survivors by interpreter, type and place; false when there are none. */
static bool summarise_unlocked(uint32_t exiting, xs_survivor_summary_t *out)
{
    memset(out, 0, sizeof(*out));
    if (xs_opt.survivors)
        out->exit_scan = scan_heap(exiting);
    out->never_freed = never_freed;
    for (survivor_t *s = survivors; s != NULL; s = s->hh.next) {
        if (out->exit_scan && !s->alive)
            continue; /* noted by a scan, freed since */
        out->total++;
        out->objects += s->type != 0;
        out->referenced += s->referenced;
        s->place = place_of_unlocked(s->site);
    }
    if (out->total == 0)
        return false;
    HASH_SORT(survivors, group_order);
    for (survivor_t *s = survivors; s != NULL;) {
        xs_survivor_group_t g;
        survivor_t *next = collect_group(s, out->exit_scan, &g);
        if (g.count && out->n_groups < XS_SURVIVOR_MAX_GROUPS)
            out->groups[out->n_groups++] = g;
        else if (g.count)
            out->skipped++;
        s = next;
    }
    return true;
}

void xs_survivors_print(uint32_t exiting)
{
    static xs_survivor_summary_t summary; /* at exit, once */
    xs_in_runtime++;
    pthread_mutex_lock(&survivors_lock);
    bool any = summarise_unlocked(exiting, &summary);
    pthread_mutex_unlock(&survivors_lock);
    if (any)
        xs_survivor_summary_emit(&summary);
    else if (summary.never_freed && xs_opt.verbosity >= 1)
        xs_message("info", "%zu immortal objects of ended interpreters still allocated at "
                           "exit (never freed by design)", summary.never_freed);
    xs_in_runtime--;
}
