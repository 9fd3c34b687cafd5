/* CPython's debug hooks wrap the allocator of a domain: their context is a
 * {char api_id; PyMemAllocatorEx alloc} naming the allocator beneath, and
 * each block carries its size, the API id and pad bytes in front, pad bytes
 * and a serial number behind (Objects/obmalloc.c, the same in 3.12 and
 * 3.13).  PyMem_GetAllocator does not say whether a domain's allocator is
 * the debug hooks, so they are recognised by what they write: a probe
 * block with the API id and the pad bytes around it. */
#include "debug_layer.h"

typedef struct debug_api {
    char api_id;
    PyMemAllocatorEx alloc;
} debug_api_t;

enum { FORBIDDEN_BYTE = 0xFD }; /* PYMEM_FORBIDDENBYTE */

static bool padded(const unsigned char *from, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (from[i] != FORBIDDEN_BYTE)
            return false;
    return true;
}

/* The debug hooks of the raw domain, recognised by a probe block (the raw
 * domain may be used without the GIL, so before the interpreter starts;
 * the other domains' debug hooks check for the GIL). */
static debug_api_t *raw_debug_api(void)
{
    PyMemAllocatorEx raw;
    PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &raw);
    if (raw.ctx == NULL || raw.malloc == NULL || raw.free == NULL)
        return NULL; /* the default allocators have no context */
    const size_t word = sizeof(size_t);
    unsigned char *p = raw.malloc(raw.ctx, 1);
    if (p == NULL)
        return NULL;
    bool debug = p[-(ptrdiff_t)word] == 'r' && padded(p - word + 1, word - 1) &&
                 padded(p + 1, word);
    raw.free(raw.ctx, p);
    debug_api_t *api = raw.ctx;
    return debug && api->api_id == 'r' ? api : NULL;
}

PyMemAllocatorEx *xh_debug_layer_inner(PyMemAllocatorDomain domain)
{
    /* PyMem_SetupDebugHooks() wraps all three domains, and CPython keeps
     * their contexts side by side: raw, mem, obj */
    debug_api_t *raw = raw_debug_api();
    if (raw == NULL || (domain != PYMEM_DOMAIN_MEM && domain != PYMEM_DOMAIN_OBJ))
        return NULL;
    debug_api_t *api = raw + (domain == PYMEM_DOMAIN_MEM ? 1 : 2);
    PyMemAllocatorEx top;
    PyMem_GetAllocator(domain, &top);
    char id = domain == PYMEM_DOMAIN_MEM ? 'm' : 'o';
    return top.ctx == api && api->api_id == id ? &api->alloc : NULL;
}
