/* Start-up: options, fork handlers, the adapter the core runs under, and the
 * reentrancy guard every hook honours. */
#ifndef XS_RUNTIME_H
#define XS_RUNTIME_H

#include "base.h"
#include "stack.h"
#include "xisan/abi.h"

/* Registers the adapter (NULL: none).  One whose abi_version differs is
 * refused with a warning. */
XS_INTERNAL void xs_runtime_set_adapter(const struct xisan_adapter *adapter);
/* The adapter in use; never NULL (an empty one when none is set). */
XS_INTERNAL const struct xisan_adapter *xs_adapter(void);
/* The adapter's runtime_module and runtime_sources. */
XS_INTERNAL xs_runtime_code_t xs_runtime_code(void);
/* Reads XISAN_OPTIONS once; returns -1 (message printed) when malformed. */
XS_INTERNAL int xs_runtime_init(void);
/* Thread-local reentrancy guard: hooks do nothing while it is set (a hook
 * that allocates would re-enter itself). */
XS_INTERNAL extern XS_TLS int xs_in_runtime;

#endif
