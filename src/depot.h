/* Stack depot: arrays of words and strings interned once, named by 32-bit
 * ids; allocation sites as (native stack, Python stack) pairs. */
#ifndef XS_DEPOT_H
#define XS_DEPOT_H

#include "fork.h"
#include "xisan/abi.h"

/* Interns an array of 64-bit words; returns a nonzero 32-bit id (0 on
 * failure or for an empty array).  Never frees; thread-safe.  Equal arrays
 * get equal ids; xs_depot_get returns the words in order. */
XS_INTERNAL uint32_t xs_depot_put(const uint64_t *words, size_t n);
/* The id of `word` followed by the words of entry `next` (0: none), as
 * xs_depot_put gives it for that array; 0 on failure.  A caller that keeps
 * the ids of an array's tails builds a longer array with one push. */
XS_INTERNAL uint32_t xs_depot_push(uint64_t word, uint32_t next);
/* Copies up to `max` words of entry `id` into out; returns the count. */
XS_INTERNAL size_t xs_depot_get(uint32_t id, uint64_t *out, size_t max);
/* Interns a string; returns a nonzero id. */
XS_INTERNAL uint32_t xs_string_put(const char *s);
XS_INTERNAL const char *xs_string_get(uint32_t id);
XS_INTERNAL size_t xs_depot_count(void);
XS_INTERNAL size_t xs_string_count(void);
XS_INTERNAL bool xs_depot_fork(xs_fork_phase_t phase);

/* Python frames travel through the depot as one word each. */
typedef struct xisan_pyframe xs_pyframe_t;
typedef struct xisan_pystack_info xs_pystack_info_t;
#define XS_MAX_PYTHON 64

/* An allocation site is a (native stack id, python stack id) pair, itself
 * interned so it fits in the header's site field.  Site ids are dense:
 * 1, 2, ... in the order sites are first seen. */
XS_INTERNAL uint32_t xs_site_put(uint32_t native_id, uint32_t python_id);
XS_INTERNAL void xs_site_get(uint32_t site, uint32_t *native_id, uint32_t *python_id);
XS_INTERNAL size_t xs_site_count(void);
XS_INTERNAL uint32_t xs_pystack_put(const xs_pyframe_t *frames, size_t n);
/* The depot word of one Python frame (strings interned). */
XS_INTERNAL uint64_t xs_pyframe_word(const xs_pyframe_t *frame);
/* The same from the ids of the file and function strings (xs_string_put). */
XS_INTERNAL uint64_t xs_pyframe_word_of(uint32_t file_id, uint32_t function_id, int line);
XS_INTERNAL size_t xs_pystack_get(uint32_t id, xs_pyframe_t *out, size_t max);

#endif
