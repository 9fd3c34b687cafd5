/* fork() safety: each lock of the core is taken before fork() (in the order
 * the code nests them: init.c's table), released after it in the parent
 * and re-initialised in the child, so a child never inherits a held lock. */
#ifndef XS_FORK_H
#define XS_FORK_H

#include "base.h"

#include <pthread.h>

typedef enum xs_fork_phase { XS_FORK_PREPARE, XS_FORK_PARENT, XS_FORK_CHILD } xs_fork_phase_t;
XS_INTERNAL void xs_mutex_fork(pthread_mutex_t *lock, xs_fork_phase_t phase);

#endif
