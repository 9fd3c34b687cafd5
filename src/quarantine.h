/* The quarantine account: blocks whose misdirected free was reported are
 * kept allocated; the exit summary says how many and how large. */
#ifndef XS_QUARANTINE_H
#define XS_QUARANTINE_H

#include "base.h"

XS_INTERNAL void xs_quarantine_add(size_t bytes);
XS_INTERNAL void xs_quarantine_totals(unsigned long *blocks, unsigned long long *bytes);

#endif
