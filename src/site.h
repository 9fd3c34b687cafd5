/* Allocation sites: the calling thread's native stack plus the Python
 * frames an adapter read, interned in the depot. */
#ifndef XS_SITE_H
#define XS_SITE_H

#include "depot.h"
#include "fork.h"
#include "stack.h"

/* Capture an allocation site for the calling thread: its native stack plus
 * the Python stack of depot id `python_id` (frames as xs_pyframe_word
 * words, innermost first; 0: none).  With a Python stack, the native one
 * ends at the interpreter loop's frame (xs_unwind_set_root): the frames
 * beneath it are the Python stack's, and not walking them is most of a
 * capture's cost. */
XS_INTERNAL uint32_t xs_capture_site(uint32_t python_id);
/* Its native half: the calling thread's native stack interned (0: none),
 * ending at the interpreter loop's frame when `to_root` (there will be a
 * Python stack); xs_site_put makes the site of it and a Python stack. */
XS_INTERNAL uint32_t xs_capture_native(bool to_root);
XS_INTERNAL unsigned long xs_sites_captured(void);
XS_INTERNAL bool xs_site_fork(xs_fork_phase_t phase);
/* Where a site is, for people: the innermost native frame of user code that
 * the interpreted code called (an extension's C line), else the innermost
 * interpreted frame, else the innermost native frame with a source line. */
/* A site's stacks: native frames symbolized into native[XS_MAX_NATIVE]
 * (*n_native of them), up to py_max Python frames (returned). */
XS_INTERNAL size_t xs_site_stacks(uint32_t site, xs_native_frame_t *native, size_t *n_native,
                                  xs_pyframe_t *python, size_t py_max);
XS_INTERNAL void xs_site_describe(uint32_t site, char *out, size_t len);

#endif
