/* Access checks at sys.monitoring events (monitoring.c). */
#ifndef XH_MONITORING_H
#define XH_MONITORING_H

#include "cpython.h"

/* Registers the callbacks of the `monitor` option in the calling thread's
 * interpreter, once per interpreter (`owner`). */
void xh_monitoring_setup(uint32_t owner);

#endif
