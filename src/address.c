/* What xisan knows about an address (address.h). */
#include "address.h"

#include "registry.h"
#include "runtime.h"
#include "tag.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

enum { NULL_PAGES = 64 << 10 };

size_t xs_safe_read(uintptr_t addr, void *out, size_t len)
{
    struct iovec local = {out, len};
    struct iovec remote = {(void *)addr, len};
    int saved = errno;
    ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    errno = saved;
    return got > 0 ? (size_t)got : 0;
}

/* The slot-form block whose bytes cover addr: it starts at most 47 bytes
 * before it, at a 16-byte mark, and its slot is found by its address.
 * The slots are xisan's own memory, read in place.  false: none (a block
 * with a header may still cover addr). */
static bool find_slot_block(uintptr_t addr, xs_block_t *block, uintptr_t *user)
{
    for (uintptr_t u = addr & ~(uintptr_t)15; u + 48 > addr && u >= 16; u -= 16) {
        const xs_header_t *slot = xs_tag_slot_of((const void *)u, xs_magic((const void *)u));
        if (slot == NULL)
            continue;
        xs_block_t b = xs_tag_decode(slot->word, NULL);
        if (addr >= u + b.size)
            return false; /* the nearest such block ends before addr */
        *block = b;
        *user = u;
        return true;
    }
    return false;
}

/* The pool block covering addr, in a pool's arena (the arenas are
 * xisan's, never unmapped: read in place).  An address in a pool's header,
 * tags or tail, in a free block or a free pool, is in no block. */
static bool find_pool_block(xs_pool_t *pool, uintptr_t addr, xs_block_t *block, uintptr_t *user)
{
    uint32_t i = xs_pool_index(pool, (const void *)addr);
    if (i == UINT32_MAX || i >= __atomic_load_n(&pool->n_blocks, __ATOMIC_ACQUIRE) ||
        !(pool->words[i] & XS_POOL_LIVE))
        return false;
    *block = xs_tag_read(xs_pool_word_header(&pool->words[i]));
    *user = (uintptr_t)xs_pool_block(pool, i);
    return addr < *user + block->size;
}

/* The tagged block whose header lies at most `reach` bytes before addr
 * and whose bytes cover it (or, without a header, whose slot says so).
 * The window is read at once; a window that starts in unmapped memory is
 * read from the next page on.  User pointers are 8-byte aligned (16 in the
 * long form), the tag right before them. */
static bool find_block(uintptr_t addr, size_t reach, xs_block_t *block, uintptr_t *user)
{
    xs_pool_t *pool = xs_pool_of((const void *)addr);
    if (pool)
        return find_pool_block(pool, addr, block, user);
    if (find_slot_block(addr, block, user))
        return true;
    char window[4096 + XISAN_LONG_HEADER];
    reach = (reach > 4096 ? 4096 : reach) & ~(size_t)15;
    uintptr_t hi = (addr & ~(uintptr_t)7) + sizeof(xs_header_t);
    uintptr_t span = reach + XISAN_LONG_HEADER;
    uintptr_t lo = hi > span ? hi - span : 0;
    size_t got = xs_safe_read(lo, window, hi - lo);
    while (got == 0 && lo + 4096 < hi) {
        lo = (lo | 4095) + 1; /* the part from the next page on */
        got = xs_safe_read(lo, window, hi - lo);
    }
    for (size_t off = (got / 8) * 8; off >= sizeof(xs_header_t); off -= 8) {
        const xs_header_t *h = (const xs_header_t *)(window + off - sizeof(xs_header_t));
        uintptr_t u = lo + off;
        if (h->magic != xs_magic((const void *)u))
            continue;
        /* the long form's site and size: in the window, or read before it
         * (unreadable: site unknown, size unbounded) */
        uint32_t prefix[2] = {0, UINT32_MAX};
        if (xs_tag_is_long(h) && off >= XISAN_LONG_HEADER) {
            memcpy(prefix, window + off - XISAN_LONG_HEADER, sizeof(prefix));
        } else if (xs_tag_is_long(h)) {
            uint32_t read[2];
            if (xs_safe_read(u - XISAN_LONG_HEADER, read, sizeof(read)) == sizeof(read))
                memcpy(prefix, read, sizeof(prefix));
        }
        xs_block_t b = xs_tag_decode(h->word, prefix);
        if (addr >= u - xs_tag_header_size(h) && (b.size == UINT32_MAX || addr < u + b.size)) {
            *block = b;
            *user = u;
            return true;
        }
        return false; /* the nearest block before addr ends before it */
    }
    return false;
}

static void describe_object(xs_place_t *p, const xs_block_t *h)
{
    const struct xisan_adapter *a = xs_adapter();
    if (a->describe_block == NULL)
        return;
    bool never_freed = false;
    uintptr_t object = 0;
    size_t size = h->size == UINT32_MAX ? (size_t)(p->end - p->start) : h->size;
    a->describe_block((void *)p->start, size, NULL, 0, p->type, sizeof(p->type), &object,
                      &never_freed);
    if (p->type[0])
        p->object = object;
}

void xs_place_of(uintptr_t addr, size_t reach, xs_place_t *out)
{
    memset(out, 0, sizeof(*out));
    out->address = addr;
    if (addr < NULL_PAGES) {
        out->kind = XS_PLACE_NULL;
        return;
    }
    if (addr > UINTPTR_MAX / 2) /* the kernel's half: no block, and no overflow below */
        return;
    xs_block_t h;
    uintptr_t user;
    if (find_block(addr, reach, &h, &user)) {
        out->kind = (h.owner & XISAN_OWNER_QUARANTINE) ? XS_PLACE_QUARANTINED : XS_PLACE_BLOCK;
        out->start = user;
        out->end = h.size == UINT32_MAX ? user : user + h.size;
        out->owner = h.owner & XISAN_OWNER_MASK;
        out->owner_ended = xs_interp_ended(out->owner);
        out->site = h.site;
        describe_object(out, &h);
        return;
    }
    xs_released_t r;
    if (xs_released_find(addr, &r)) {
        out->kind = XS_PLACE_RELEASED;
        out->start = r.start;
        out->end = r.end;
        out->owner = r.owner;
        out->owner_ended = xs_interp_ended(r.owner);
        out->site = r.site;
        out->released = r.what;
        snprintf(out->type, sizeof(out->type), "%s", r.type);
        return;
    }
    out->kind = XS_PLACE_UNKNOWN;
}

const char *xs_place_owner_state(const xs_place_t *p)
{
    return p->owner_ended ? "ended" : "alive";
}

/* "24 bytes into a list object at 0x..." / "in a block at 0x..." */
static int where_in(const xs_place_t *p, char *out, size_t len)
{
    uintptr_t base = p->object ? p->object : p->start;
    const char *what = p->type[0] ? p->type : "memory";
    const char *noun = p->type[0] ? " object" : " block";
    if (p->address >= base)
        return snprintf(out, len, "%lu bytes into a %s%s at 0x%lx (%lu bytes)",
                        (unsigned long)(p->address - base), what, noun, (unsigned long)base,
                        (unsigned long)(p->end - p->start));
    return snprintf(out, len, "%lu bytes before a %s%s at 0x%lx",
                    (unsigned long)(base - p->address), what, noun, (unsigned long)base);
}

void xs_place_describe(const xs_place_t *p, const char *owner_name, char *out, size_t len)
{
    int n;
    switch (p->kind) {
    case XS_PLACE_NULL:
        snprintf(out, len, "a NULL pointer plus %lu bytes", (unsigned long)p->address);
        return;
    case XS_PLACE_BLOCK:
    case XS_PLACE_QUARANTINED:
        n = where_in(p, out, len);
        if (n > 0 && (size_t)n < len)
            snprintf(out + n, len - (size_t)n, ", owned by %s%s%s", owner_name,
                     p->owner_ended ? ", which has ended" : "",
                     p->kind == XS_PLACE_QUARANTINED
                         ? " (quarantined: its free was reported and it was kept allocated)"
                         : "");
        return;
    case XS_PLACE_RELEASED:
        if (p->released == XS_RELEASED_ARENA) {
            snprintf(out, len,
                     "in an arena [0x%lx, 0x%lx) (object allocator or frame stack) that %s "
                     "released%s",
                     (unsigned long)p->start, (unsigned long)p->end, owner_name,
                     p->owner_ended ? " (it has ended)" : "");
            return;
        }
        n = where_in(p, out, len);
        if (n > 0 && (size_t)n < len)
            snprintf(out + n, len - (size_t)n, " that %s freed when it ended", owner_name);
        return;
    case XS_PLACE_UNKNOWN:
        snprintf(out, len, "not memory xisan knows: no tagged block, nothing an interpreter "
                           "released");
        return;
    }
}
