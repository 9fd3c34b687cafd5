/* What xisan knows about an address: a live block the hooks tagged (its
 * owner, the object in it, its allocation site), a quarantined block,
 * memory an interpreter released (released.h), the page of NULL, or
 * nothing.  Memory is read with process_vm_readv(), so asking about an
 * unmapped address never faults; async-signal-safe apart from the
 * adapter's description of the object (which reads defensively too). */
#ifndef XS_ADDRESS_H
#define XS_ADDRESS_H

#include "released.h"

typedef enum xs_place_kind {
    XS_PLACE_UNKNOWN = 0,
    XS_PLACE_NULL,        /* within the first 64 KiB: a NULL pointer plus an offset */
    XS_PLACE_BLOCK,       /* a live tagged block */
    XS_PLACE_QUARANTINED, /* a tagged block kept allocated after a reported free */
    XS_PLACE_RELEASED,    /* memory an interpreter's allocator gave back */
} xs_place_kind_t;

typedef struct xs_place {
    xs_place_kind_t kind;
    uintptr_t address;
    uintptr_t start, end;   /* the block's user bytes, or the released range */
    uintptr_t object;       /* the object in the block, 0: none known */
    uint32_t owner;
    bool owner_ended;
    uint32_t site;          /* allocation site, 0: unknown */
    xs_released_what_t released; /* for XS_PLACE_RELEASED */
    char type[96];          /* the object's type name, "" when not known */
} xs_place_t;

/* Reads up to len bytes at addr without faulting; returns how many. */
XS_INTERNAL size_t xs_safe_read(uintptr_t addr, void *out, size_t len);
/* What `addr` is.  A live block is found when its header lies at most
 * `reach` bytes before the address. */
XS_INTERNAL void xs_place_of(uintptr_t addr, size_t reach, xs_place_t *out);
/* One phrase for people: "24 bytes into a list object at 0x... that
 * interpreter 1 freed when it ended". */
XS_INTERNAL void xs_place_describe(const xs_place_t *p, const char *owner_name, char *out,
                                   size_t len);
/* "alive", "ended" (JSON owner_state). */
XS_INTERNAL const char *xs_place_owner_state(const xs_place_t *p);

#endif
