/* Which native code is CPython's own (runtime_code.h). */
#include "runtime_code.h"

#include <stddef.h>

const char *const xh_runtime_sources[] = {"./Modules/", "Modules/", "./Objects/", "Objects/",
                                          "./Python/",  "Python/",  "./Include/", "Include/",
                                          "./Parser/",  "Parser/",  NULL};
