/* The core's locks, handled together: each is taken before fork() (in the
 * order the code nests them: init.c's table), released after it in the
 * parent and re-initialised in the child, so a child never inherits a held
 * lock; and the deadly-signal handler asks whether each can be taken soon
 * before it writes a report that needs them. */
#ifndef XS_FORK_H
#define XS_FORK_H

#include "base.h"

#include <pthread.h>

typedef enum xs_fork_phase {
    XS_FORK_PREPARE,
    XS_FORK_PARENT,
    XS_FORK_CHILD,
    XS_LOCK_PROBE, /* take and release within a bounded wait; false: still held */
} xs_fork_phase_t;
/* Does `phase` to one lock; false only for an XS_LOCK_PROBE that timed out. */
XS_INTERNAL bool xs_mutex_fork(pthread_mutex_t *lock, xs_fork_phase_t phase);
/* Takes `lock` unless it stays held for a couple of seconds (false). */
XS_INTERNAL bool xs_mutex_lock_bounded(pthread_mutex_t *lock);
/* XS_LOCK_PROBE on every lock of the core; false when one is held (by a
 * thread that may never let it go: the crashing one, or one stopped). */
XS_INTERNAL bool xs_locks_probe(void);

#endif
