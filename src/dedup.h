/* Deduplication: in continue mode each site is reported once.  One
 * lock-free set of 64-bit keys; the key of a touch depends on its kind
 * (kinds.inc's dedup column). */
#ifndef XS_DEDUP_H
#define XS_DEDUP_H

#include "collect.h"

/* The key of `t` that needs no stack (a source line, a holder), or 0 when
 * its kind needs the touching thread's stack. */
XS_INTERNAL uint64_t xs_dedup_key_early(const xs_touch_t *t);
/* The key of a collected report, from its innermost interpreted frame and
 * the first native return addresses `pcs`. */
XS_INTERNAL uint64_t xs_dedup_key_stack(const xs_touch_t *t, const xs_report_t *r,
                                        const uintptr_t *pcs, size_t n);
/* True the first time `key` is seen; otherwise counts a repeat. */
XS_INTERNAL bool xs_dedup_first(uint64_t key);
/* Repeats of reported sites, not shown. */
XS_INTERNAL unsigned long xs_dedup_repeats(void);
/* The id a report of site `key` carries in the log ("site"), and every
 * site that came back, with its repeats (the exit's "repeats" record). */
XS_INTERNAL uint64_t xs_dedup_site_id(uint64_t key);
XS_INTERNAL void xs_dedup_foreach_repeated(void (*fn)(uint64_t site_id, unsigned long repeats,
                                                      void *arg),
                                           void *arg);

#endif
