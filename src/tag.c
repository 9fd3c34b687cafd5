/* Ownership tags: a header in front of every block the runtime allocates
 * (16 bytes, or 8 in the short form of <xisan/abi.h>).  The header's magic is a keyed hash of the user pointer, so a
 * block xisan did not allocate (a static object, a block from before the
 * runtime started) does not pass for a tagged one; frees clear the magic so
 * stale headers never match either. */
#include "tag.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t xs_tag_secret = 0x9e3779b97f4a7c15ull;
_Atomic bool xs_tag_short;

void xs_tag_init(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    }
    xs_tag_secret = s;
}

void *xisan_tag(void *raw, size_t size, xisan_owner_t owner)
{
    return raw ? xs_tag_block(raw, XISAN_LONG_HEADER, size, owner & XISAN_OWNER_MASK, 0) : NULL;
}

void *xisan_untag(void *user)
{
    if (user == NULL)
        return NULL;
    xs_header_t *h = xs_tagged_header(user);
    if (h == NULL)
        return NULL;
    h->magic = 0;
    return xs_tag_raw(h);
}

xisan_owner_t xisan_owner(const void *user)
{
    const xs_header_t *h = user ? xs_tagged_header(user) : NULL;
    return h ? xs_tag_owner(h) : XISAN_UNOWNED;
}

void xisan_set_shareable(void *user, bool shareable)
{
    xs_header_t *h = user ? xs_tagged_header(user) : NULL;
    if (h == NULL)
        return;
    /* the flags sit at the same bits in both forms */
    if (shareable)
        h->word |= XISAN_OWNER_SHAREABLE;
    else
        h->word &= ~XISAN_OWNER_SHAREABLE;
}
