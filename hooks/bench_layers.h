/* Benchmark builds only (cmake -DXISAN_BENCH_LAYERS=ON): XISAN_BENCH_LAYER
 * in the environment leaves the checker's work out layer by layer, so that
 * bench/instructions.py --layers can count what each layer costs:
 *
 *   passthrough  the allocator hooks are installed and call the allocator
 *                beneath at once, untagged; object events return at once,
 *                and the sys.monitoring events of the `monitor` option go
 *                to a callback that returns at once (bench.py's `hooks`
 *                layer turns them on: what CPython's own dispatch costs)
 *   tags         blocks are tagged and frees checked as always; object
 *                events return at once (no allocation sites stamped, no
 *                deallocation checked)
 *
 * Other options (monitor, captures...) turn the layers above off.  A layer
 * below the whole checks less: it is a measurement, not a mode.  In any
 * other build the layer is the whole, a constant, and its tests fold away. */
#ifndef XH_BENCH_LAYERS_H
#define XH_BENCH_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { XH_LAYER_ALL, XH_LAYER_TAGS, XH_LAYER_PASSTHROUGH } xh_layer_t;

#ifdef XISAN_BENCH_LAYERS
extern xh_layer_t xh_bench_layer;
/* Reads XISAN_BENCH_LAYER once, before the first block is allocated;
 * exits with a one-line error on a name it does not know. */
void xh_bench_layer_init(void);
#else
#define xh_bench_layer XH_LAYER_ALL
static inline void xh_bench_layer_init(void) {}
#endif

#endif
