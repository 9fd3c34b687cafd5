/* The quarantine account: blocks kept allocated because their free by
 * another interpreter was reported.  The blocks themselves stay where they
 * are (their headers carry XISAN_OWNER_QUARANTINE); only the totals live
 * here. */
#include "quarantine.h"

static _Atomic unsigned long quarantine_blocks;
static _Atomic unsigned long long quarantine_bytes;

void xs_quarantine_add(size_t bytes)
{
    atomic_fetch_add(&quarantine_blocks, 1);
    atomic_fetch_add(&quarantine_bytes, bytes);
}

void xs_quarantine_totals(unsigned long *blocks, unsigned long long *bytes)
{
    *blocks = atomic_load(&quarantine_blocks);
    *bytes = atomic_load(&quarantine_bytes);
}
