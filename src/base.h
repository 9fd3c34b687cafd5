/* Macros every file of the core and its adapters uses.
 *
 * Names: xisan_ is the public API (include/xisan.h); xs_ is the core's
 * internal interface, declared in the per-module headers of src/ and
 * exported from libxisan.so for the adapters, the command and the unit
 * tests (XS_INTERNAL), never for users; everything else is static. */
#ifndef XS_BASE_H
#define XS_BASE_H

#include "xisan.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XS_INTERNAL __attribute__((visibility("default")))
/* Thread-locals read on hot paths: static TLS, no __tls_get_addr call, also
 * when the library is loaded by dlopen() (it needs only a few bytes of the
 * static TLS surplus glibc keeps for that). */
#define XS_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#define XS_LIKELY(x) __builtin_expect(!!(x), 1)
#define XS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define XS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
