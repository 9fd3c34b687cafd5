/* The decision of a check that failed: which kind of report a touch of
 * `owner`'s block by another owner makes. */
#ifndef XS_CHECK_H
#define XS_CHECK_H

#include "report.h"

XS_INTERNAL xs_kind_t xs_classify(uint32_t owner, xisan_access_t access);

#endif
