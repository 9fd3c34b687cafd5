/* Finding live tagged blocks by scanning the process's memory. */
#ifndef XS_HEAPSCAN_H
#define XS_HEAPSCAN_H

#include "tag.h"

/* Calls visit for each live tagged block whose owner's bit is set in the
 * bitmap `owners` (quarantined blocks are left out), found by reading the
 * process's anonymous writable memory.  The visitor gets the header's
 * words decoded and a copy of the block's first `n` bytes (as much as one
 * read got).
 * Returns the number of blocks; the number of pages read goes to
 * *pages_read. */
typedef void (*xs_heap_visit_fn)(void *user, const xs_block_t *h, const void *bytes, size_t n,
                                 void *arg);
XS_INTERNAL size_t xs_heap_scan(const uint8_t *owners, uint32_t n_owners, xs_heap_visit_fn visit,
                                void *arg, size_t *pages_read);

#endif
