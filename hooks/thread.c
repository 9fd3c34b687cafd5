/* The calling thread: its per-thread tables and the slow path of its
 * interpreter's owner id. */
#include "thread.h"

#include "lifecycle.h"
#include "options.h"
#include "output.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

XS_TLS xh_thread_t xh_thread;

/* The per-thread tables (site cache, frame memo) are allocated on first
 * use and freed when the thread exits. */
static pthread_key_t tables_key;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void free_tables(void *unused)
{
    (void)unused;
    free(xh_thread.sites);
    free(xh_thread.memo);
    xh_thread.sites = NULL;
    xh_thread.memo = NULL;
}

static void make_tables_key(void)
{
    pthread_key_create(&tables_key, free_tables);
}

void *xh_thread_table(size_t count, size_t size)
{
    pthread_once(&tables_once, make_tables_key);
    void *table = calloc(count, size);
    if (table)
        pthread_setspecific(tables_key, (void *)1); /* arms free_tables */
    return table;
}

/* The thread moved to thread state `ts`: back to one that entered the
 * current one, or into a new one, entered by the last. */
static void note_switch(PyThreadState *ts)
{
    xh_thread_t *t = &xh_thread;
    for (size_t i = t->n_entered; i-- > 0;) {
        if (t->entered[i] == ts) {
            t->n_entered = i;
            t->last_tstate = ts;
            return;
        }
    }
    if (t->last_tstate && t->n_entered < XS_ARRAY_LEN(t->entered))
        t->entered[t->n_entered++] = t->last_tstate;
    t->last_tstate = ts;
}

_Atomic bool xh_main_only = true;

void xh_other_interpreter(void)
{
    atomic_store(&xh_main_only, false);
}

/* The cache names an interpreter by its address, and CPython often gives
 * a new interpreter the address of the one that ended just before it, in
 * the thread that ended it.  The generation moves on when an interpreter
 * starts ending, but the thread that clears it still looks up its owner
 * after that: were that answer cached, the next interpreter at the same
 * address would be taken for the ended one (its objects tagged as an ended
 * interpreter's, their frees reported).  So an ended interpreter's owner is
 * never cached under the current generation; the thread remembers it here
 * with the interpreter's id, which CPython never gives twice. */
static XS_TLS struct {
    int64_t id; /* -1: none */
    uint32_t owner;
} ended_memo = {.id = -1};

uint32_t xh_owner_slow(PyThreadState *ts)
{
    struct xisan_python_thread *cache = &xisan_python_thread;
    if (ts != xh_thread.last_tstate)
        note_switch(ts);
    if (cache->interp == NULL) { /* once in each thread */
        xh_tstate_fast_verify();
        xh_lifecycle_ensure_audit_hook();
    }
    PyInterpreterState *interp = ts->interp;
    uint32_t generation = atomic_load_explicit(&xs_interp_generation, memory_order_acquire);
    int64_t id = PyInterpreterState_GetID(interp);
    if (id == ended_memo.id)
        return ended_memo.owner;
    char name[32];
    if (id == 0)
        snprintf(name, sizeof(name), "main");
    else
        snprintf(name, sizeof(name), "interpreter %lld", (long long)id);
    if (id != 0 && xh_only_main())
        xh_other_interpreter();
    uint32_t owner = xs_interp_register(id, name);
    if (owner != XISAN_UNOWNED && xs_opt.verbosity >= 1 &&
        xs_interp_claim_flag(owner, XH_FLAG_NAMED))
        xs_message("info", "%s seen first in thread %lu", name, (unsigned long)gettid());
    cache->interp = interp;
    cache->generation = generation;
    cache->owner = owner;
    if (owner != XISAN_UNOWNED && xs_interp_ended(owner)) {
        cache->generation = generation - 1; /* a generation that has passed: never matches */
        ended_memo.id = id;
        ended_memo.owner = owner;
    }
    return owner;
}

uint32_t xh_current_owner(void)
{
    PyThreadState *ts = xh_tstate();
    if (ts == NULL)
        return XISAN_UNOWNED;
    if (ts->interp == xisan_python_thread.interp &&
        xisan_python_thread.generation ==
            atomic_load_explicit(&xs_interp_generation, memory_order_relaxed))
        return xisan_python_thread.owner;
    /* what xh_owner_slow would register, without its lock */
    int64_t id = PyInterpreterState_GetID(ts->interp);
    return id < 0 || id >= (int64_t)XISAN_OWNER_MASK ? XISAN_UNOWNED : (uint32_t)id + 1;
}
