/* Which native code is CPython's own (runtime_code.h). */
#include "runtime_code.h"

#include <dlfcn.h>
#include <link.h>
#include <stddef.h>

const char *const xh_runtime_sources[] = {"./Modules/", "Modules/", "./Objects/", "Objects/",
                                          "./Python/",  "Python/",  "./Include/", "Include/",
                                          "./Parser/",  "Parser/",  NULL};

size_t xh_symbol_size(const void *start)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (start == NULL || !dladdr1(start, &info, (void **)&sym, RTLD_DL_SYMENT) || sym == NULL ||
        info.dli_saddr != start)
        return 0;
    return sym->st_size;
}
