/* The benchmark builds' layer switch (bench_layers.h). */
#include "bench_layers.h"

#ifdef XISAN_BENCH_LAYERS
#include "output.h"

#include <stdlib.h>
#include <string.h>

xh_layer_t xh_bench_layer = XH_LAYER_ALL;

static const struct {
    const char *name;
    xh_layer_t layer;
} layers[] = {
    {"all", XH_LAYER_ALL},
    {"tags", XH_LAYER_TAGS},
    {"passthrough", XH_LAYER_PASSTHROUGH},
};

void xh_bench_layer_init(void)
{
    const char *name = getenv("XISAN_BENCH_LAYER");
    if (name == NULL || name[0] == '\0')
        return;
    char known[128] = "";
    for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
        if (strcmp(name, layers[i].name) == 0) {
            xh_bench_layer = layers[i].layer;
            return;
        }
        strcat(strcat(known, i ? ", " : ""), layers[i].name);
    }
    xs_message("error", "XISAN_BENCH_LAYER=%s: not a layer (%s)", name, known);
    exit(2);
}
#endif
