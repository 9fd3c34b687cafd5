/* Ownership tags: the block header of <xisan/abi.h> in front of every block
 * the hooks allocate.  The fast path is inline. */
#ifndef XS_TAG_H
#define XS_TAG_H

#include "base.h"
#include "xisan/abi.h"

typedef struct xisan_block_header xs_header_t;

_Static_assert(sizeof(xs_header_t) == XISAN_HEADER_SIZE, "header size");

XS_INTERNAL extern uint64_t xs_tag_secret;
XS_INTERNAL void xs_tag_init(void);

static inline uint32_t xs_magic(const void *user)
{
    return xisan_block_magic(user, xs_tag_secret);
}

static inline xs_header_t *xs_header_of(const void *user)
{
    return (xs_header_t *)((char *)user - sizeof(xs_header_t));
}

/* The header of a block xisan tagged, or NULL. */
static inline xs_header_t *xs_tagged_header(const void *user)
{
    xs_header_t *h = xs_header_of(user);
    return h->magic == xs_magic(user) ? h : NULL;
}

static inline void *xs_tag_block(void *raw, size_t size, uint32_t owner, uint32_t site)
{
    xs_header_t *h = (xs_header_t *)raw;
    void *user = (char *)raw + sizeof(xs_header_t);
    h->owner = owner;
    h->site = site;
    h->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    h->magic = xs_magic(user);
    return user;
}

/* The check itself: may a thread of interpreter `current` touch a block
 * whose header owner word is `owner_word`?  Unowned blocks and threads with
 * no interpreter pass; so do blocks marked shareable. */
static inline bool xs_owner_allows(uint32_t owner_word, uint32_t current)
{
    uint32_t owner = owner_word & XISAN_OWNER_MASK;
    return owner == current || owner == XISAN_UNOWNED || current == XISAN_UNOWNED ||
           (owner_word & XISAN_OWNER_SHAREABLE);
}

#endif
