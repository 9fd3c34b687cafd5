/* The benchmark builds' layer switch (bench_layers.h). */
#include "bench_layers.h"

#ifdef XISAN_BENCH_LAYERS
#include "output.h"

#include <stdlib.h>
#include <string.h>

xh_layer_t xh_bench_layer = XH_LAYER_ALL;

void xh_bench_layer_init(void)
{
    const char *name = getenv("XISAN_BENCH_LAYER");
    if (name == NULL || name[0] == '\0' || strcmp(name, "all") == 0)
        xh_bench_layer = XH_LAYER_ALL;
    else if (strcmp(name, "tags") == 0)
        xh_bench_layer = XH_LAYER_TAGS;
    else if (strcmp(name, "passthrough") == 0)
        xh_bench_layer = XH_LAYER_PASSTHROUGH;
    else {
        xs_message("error", "XISAN_BENCH_LAYER=%s: not a layer (all, tags, passthrough)", name);
        exit(2);
    }
}
#endif
