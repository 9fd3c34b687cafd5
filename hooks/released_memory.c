/* What an ending interpreter gives back (released_memory.h). */
#include "released_memory.h"

#include "runtime.h"

#include <pthread.h>

void xh_released_object(PyObject *op, void *block, const xs_header_t *h)
{
    /* at its destruction the object's type is alive: it holds a reference */
    xs_released_block(block, xs_tag_size(h), xs_tag_owner(h), xs_tag_site(h), Py_TYPE(op)->tp_name);
}

void xh_released_raw(void *block, const xs_header_t *h)
{
    xs_released_block(block, xs_tag_size(h), xs_tag_owner(h), xs_tag_site(h), NULL);
}

/* Arenas are few (a MiB each) and their owner is known only when one is
 * allocated: a table of the live ones, under a lock. */
enum { ARENA_SLOTS = 1 << 14 };
typedef struct arena {
    uintptr_t start;
    uint32_t owner;
} arena_t;
static arena_t arenas[ARENA_SLOTS];
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;
static PyObjectArenaAllocator next_arena;

static size_t home(uintptr_t start)
{
    return (size_t)((start >> 12) * 0x9e3779b97f4a7c15ull >> 50) & (ARENA_SLOTS - 1);
}

static void remember(uintptr_t start, uint32_t owner)
{
    pthread_mutex_lock(&arenas_lock);
    for (size_t i = home(start), n = 0; n < ARENA_SLOTS; i = (i + 1) & (ARENA_SLOTS - 1), n++) {
        if (arenas[i].start == 0 || arenas[i].start == start) {
            arenas[i] = (arena_t){start, owner};
            break;
        }
    }
    pthread_mutex_unlock(&arenas_lock);
}

/* The owner of a live arena, removed from the table (linear probing with
 * backward-shift deletion); XISAN_UNOWNED when it was never seen. */
static uint32_t forget(uintptr_t start)
{
    uint32_t owner = XISAN_UNOWNED;
    pthread_mutex_lock(&arenas_lock);
    size_t i = home(start), n = 0;
    while (n++ < ARENA_SLOTS && arenas[i].start != 0 && arenas[i].start != start)
        i = (i + 1) & (ARENA_SLOTS - 1);
    if (arenas[i].start == start) {
        owner = arenas[i].owner;
        arenas[i].start = 0;
        for (size_t j = (i + 1) & (ARENA_SLOTS - 1); arenas[j].start != 0;
             j = (j + 1) & (ARENA_SLOTS - 1)) {
            size_t want = home(arenas[j].start);
            /* may the entry at j move back into the hole at i? */
            if (((j - want) & (ARENA_SLOTS - 1)) >= ((j - i) & (ARENA_SLOTS - 1))) {
                arenas[i] = arenas[j];
                arenas[j].start = 0;
                i = j;
            }
        }
    }
    pthread_mutex_unlock(&arenas_lock);
    return owner;
}

static void *arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = next_arena.alloc(next_arena.ctx, size);
    if (p != NULL)
        remember((uintptr_t)p, xh_block_owner(xh_current()));
    return p;
}

static void arena_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    uint32_t owner = p ? forget((uintptr_t)p) : XISAN_UNOWNED;
    if (owner != XISAN_UNOWNED)
        xs_released_range((uintptr_t)p, size, owner, XS_RELEASED_ARENA);
    next_arena.free(next_arena.ctx, p, size);
}

static void arenas_prepare(void)
{
    pthread_mutex_lock(&arenas_lock);
}

static void arenas_parent(void)
{
    pthread_mutex_unlock(&arenas_lock);
}

static void arenas_child(void)
{
    pthread_mutex_init(&arenas_lock, NULL);
}

void xh_arena_hooks_install(void)
{
    if (next_arena.alloc != NULL)
        return;
    pthread_atfork(arenas_prepare, arenas_parent, arenas_child);
    PyObject_GetArenaAllocator(&next_arena);
    PyObjectArenaAllocator mine = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&mine);
}
