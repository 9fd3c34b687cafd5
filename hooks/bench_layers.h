/* Benchmark builds only (cmake -DXISAN_BENCH_LAYERS=ON): XISAN_BENCH_LAYER
 * in the environment leaves the checker's work out layer by layer, so that
 * bench/instructions.py --layers can count what each layer costs:
 *
 *   passthrough  the allocator hooks are installed and call the allocator
 *                beneath at once, untagged; object events return at once
 *   tags         blocks are tagged and frees checked as always; object
 *                events return at once (no allocation sites stamped, no
 *                deallocation checked)
 *   pools        the tags layer, but blocks of up to 512 bytes come from
 *                xisan's own pools (src/pool.h), one heap per block owner,
 *                the owner in the block's word, frees checked against it:
 *                a prototype of the design, to measure what it would save
 *                (nothing else reads these blocks' tags: it runs with the
 *                readers above the tags layer off, and reports nothing)
 *   pool_events  the pools layer with object events: a pool block's
 *                creation stamps its site into the block's word, its
 *                destruction checks the owner there (other blocks as in
 *                the layer of all)
 *
 * Other options (monitor, captures...) turn the layers above off.  A layer
 * below the whole checks less: it is a measurement, not a mode.  In any
 * other build the layer is the whole, a constant, and its tests fold away. */
#ifndef XH_BENCH_LAYERS_H
#define XH_BENCH_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    XH_LAYER_ALL,
    XH_LAYER_TAGS,
    XH_LAYER_POOLS,
    XH_LAYER_POOL_EVENTS,
    XH_LAYER_PASSTHROUGH
} xh_layer_t;

/* Blocks of up to 512 bytes come from xisan's pools. */
#define xh_layer_pools()                                                                           \
    (xh_bench_layer == XH_LAYER_POOLS || xh_bench_layer == XH_LAYER_POOL_EVENTS)

#ifdef XISAN_BENCH_LAYERS
/* A hook's path below the pools layers' test: its own function, so that
 * the test and the pools' path need no frame. */
#define XH_BELOW_POOLS __attribute__((noinline))
extern xh_layer_t xh_bench_layer;
/* Reads XISAN_BENCH_LAYER once, before the first block is allocated;
 * exits with a one-line error on a name it does not know. */
void xh_bench_layer_init(void);
#else
#define XH_BELOW_POOLS inline __attribute__((always_inline))
#define xh_bench_layer XH_LAYER_ALL
static inline void xh_bench_layer_init(void) {}
#endif

#endif
