/* Survivors: objects of ended interpreters that the shadow GC still finds
 * referenced.  Each distinct object is noted once; at exit they are
 * summarised by interpreter and type, with an allocation site each. */
#include "xs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

typedef struct survivor {
    uintptr_t address;
    uint32_t owner;
    uint32_t type; /* string id */
    uint32_t site;
    UT_hash_handle hh;
} survivor_t;

static pthread_mutex_t survivors_lock = PTHREAD_MUTEX_INITIALIZER;
static survivor_t *survivors;

void xs_survivor_note(uint32_t owner, const char *type, uintptr_t address, uint32_t site)
{
    pthread_mutex_lock(&survivors_lock);
    survivor_t *s = NULL;
    HASH_FIND(hh, survivors, &address, sizeof(address), s);
    if (s == NULL && (s = calloc(1, sizeof(*s))) != NULL) {
        s->address = address;
        s->owner = owner;
        s->type = xs_string_put(type);
        s->site = site;
        HASH_ADD(hh, survivors, address, sizeof(s->address), s);
    }
    pthread_mutex_unlock(&survivors_lock);
}

static int by_owner_type(survivor_t *a, survivor_t *b)
{
    if (a->owner != b->owner)
        return a->owner < b->owner ? -1 : 1;
    return a->type < b->type ? -1 : a->type > b->type;
}

/* "file:line in function" of a site: its innermost Python frame, else its
 * innermost native frame. */
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

void xs_survivors_print(void)
{
    pthread_mutex_lock(&survivors_lock);
    if (survivors == NULL) {
        pthread_mutex_unlock(&survivors_lock);
        return;
    }
    HASH_SORT(survivors, by_owner_type);
    char line[768], where[512], name[64];
    int n = snprintf(line, sizeof(line),
                     "==%d==XISan: objects of ended interpreters still referenced "
                     "(found by the shadow GC):\n",
                     (int)getpid());
    xs_write_all(2, line, (size_t)n);
    for (survivor_t *s = survivors; s != NULL;) {
        survivor_t *group = s;
        size_t count = 0;
        while (s != NULL && s->owner == group->owner && s->type == group->type) {
            count++;
            s = s->hh.next;
        }
        xs_interp_name(group->owner, name, sizeof(name));
        describe_site(group->site, where, sizeof(where));
        n = snprintf(line, sizeof(line), "  interpreter %u (%s): %zu %s object%s, allocated at %s\n",
                     group->owner - 1, name, count, xs_string_get(group->type),
                     count == 1 ? "" : "s", where);
        xs_write_all(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
    pthread_mutex_unlock(&survivors_lock);
}
