/* The exit summary: survivors of ended interpreters, then one line with the
 * report and quarantine counts. */
#ifndef XS_SUMMARY_H
#define XS_SUMMARY_H

#include "base.h"

/* `exiting` is the interpreter whose end is the process's own exit (its
 * blocks are not survivors); XISAN_UNOWNED when there is none. */
XS_INTERNAL void xs_print_summary(uint32_t exiting);

#endif
