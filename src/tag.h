/* Ownership tags: the block header of <xisan/abi.h> in front of every block
 * the hooks allocate, in its long or short form.  The fast paths are
 * inline.  `xs_header_t` is the part every tagged block has right in front
 * of its user pointer (magic and owner word); the long form's site and size
 * sit in front of that. */
#ifndef XS_TAG_H
#define XS_TAG_H

#include "base.h"
#include "xisan/abi.h"

typedef struct xisan_block_tag xs_header_t;

_Static_assert(XISAN_HEADER_SIZE == XISAN_LONG_HEADER, "xisan_tag() writes the long form");

XS_INTERNAL extern uint64_t xs_tag_secret;
/* Short headers may be handed out: the short_headers option, until the
 * site ids outgrow the short form (depot.c clears it then). */
XS_INTERNAL extern _Atomic bool xs_tag_short;
XS_INTERNAL void xs_tag_init(void);

static inline uint32_t xs_magic(const void *user)
{
    return xisan_block_magic(user, xs_tag_secret);
}

static inline xs_header_t *xs_header_of(const void *user)
{
    return (xs_header_t *)user - 1;
}

/* The header of a block xisan tagged, or NULL. */
static inline xs_header_t *xs_tagged_header(const void *user)
{
    xs_header_t *h = xs_header_of(user);
    return h->magic == xs_magic(user) ? h : NULL;
}

static inline bool xs_tag_is_long(const xs_header_t *h)
{
    return (h->word & XISAN_WORD_LONG) != 0;
}

/* The long form's site and size words, in front of the tag. */
static inline uint32_t *xs_tag_prefix(const xs_header_t *h)
{
    /* through an integer: the compiler cannot tell the forms apart, and
     * would warn on the short form's (never taken) path */
    return (uint32_t *)((uintptr_t)h - 2 * sizeof(uint32_t));
}

/* The start of the block the allocator beneath handed out. */
static inline void *xs_tag_raw(const xs_header_t *h)
{
    return (char *)h - (xs_tag_is_long(h) ? XISAN_LONG_HEADER - XISAN_SHORT_HEADER : 0);
}

static inline size_t xs_tag_header_size(const xs_header_t *h)
{
    return xs_tag_is_long(h) ? XISAN_LONG_HEADER : XISAN_SHORT_HEADER;
}

/* What the words say, in one form: `owner` as the long form's owner word
 * (XISAN_WORD_LONG | flags | owner id), the site id and the requested size
 * (saturated at UINT32_MAX). */
typedef struct xs_block {
    uint32_t owner, site, size;
} xs_block_t;

#define XS_SHORT_FLAGS (XISAN_OWNER_SHAREABLE | XISAN_OWNER_QUARANTINE)
#define XS_SHORT_SIZE_BITS (0xffu << XISAN_SHORT_SIZE_SHIFT)
#define XS_SHORT_SITE_BITS ((XISAN_SHORT_SITE_LIMIT - 1) << XISAN_SHORT_SITE_SHIFT)

/* An owner word of either form as the long form's: XISAN_WORD_LONG |
 * flags | owner id, which xisan_word_owner, xs_owner_allows and
 * XISAN_OWNER_MASK read alike. */
static inline uint32_t xs_word_flags_owner(uint32_t word)
{
    return XISAN_WORD_LONG | (word & XS_SHORT_FLAGS) | xisan_word_owner(word);
}

/* Sizes 16k + r, r in 1..8, up to 504: size - 1 is k << 4 | (r - 1). */
static inline uint32_t xs_short_size_code(size_t size)
{
    size_t m = size - 1;
    return (uint32_t)((m >> 4) << 3 | (m & 7));
}

static inline uint32_t xs_short_size(uint32_t word)
{
    uint32_t code = (word & XS_SHORT_SIZE_BITS) >> XISAN_SHORT_SIZE_SHIFT;
    return (code >> 3 << 4) + (code & 7) + 1;
}

/* Decodes a tag; `prefix` is the long form's two words (ignored short). */
static inline xs_block_t xs_tag_decode(uint32_t word, const uint32_t prefix[2])
{
    if (word & XISAN_WORD_LONG)
        return (xs_block_t){word, prefix[0], prefix[1]};
    return (xs_block_t){xs_word_flags_owner(word),
                        (word & XS_SHORT_SITE_BITS) >> XISAN_SHORT_SITE_SHIFT, xs_short_size(word)};
}

/* The owner word in the long form's terms (xs_word_flags_owner). */
static inline uint32_t xs_tag_word(const xs_header_t *h)
{
    return xs_word_flags_owner(h->word);
}

static inline uint32_t xs_tag_owner(const xs_header_t *h)
{
    return xisan_word_owner(h->word);
}

static inline uint32_t xs_tag_site(const xs_header_t *h)
{
    uint32_t w = h->word;
    return (w & XISAN_WORD_LONG) ? xs_tag_prefix(h)[0]
                                 : (w & XS_SHORT_SITE_BITS) >> XISAN_SHORT_SITE_SHIFT;
}

static inline uint32_t xs_tag_size(const xs_header_t *h)
{
    uint32_t w = h->word;
    return (w & XISAN_WORD_LONG) ? xs_tag_prefix(h)[1] : xs_short_size(w);
}

static inline xs_block_t xs_tag_read(const xs_header_t *h)
{
    return xs_tag_decode(h->word, xs_tag_prefix(h)); /* the prefix is read for the long form only */
}

/* Sets flags | owner id (XISAN_WORD_LONG may be set).  A short header holds owner ids up to 63: the
 * hooks give the short form only to blocks of threads whose owner fits, so
 * an owner that does not (an object created by another interpreter than
 * the one that allocated its block) is rare; it is recorded as unowned,
 * which no check reports. */
static inline void xs_tag_set_word(xs_header_t *h, uint32_t flags_owner)
{
    uint32_t w = h->word;
    if (w & XISAN_WORD_LONG) {
        h->word = XISAN_WORD_LONG | flags_owner;
        return;
    }
    uint32_t owner = flags_owner & XISAN_OWNER_MASK;
    if (owner > XISAN_SHORT_OWNER_MASK)
        owner = XISAN_UNOWNED;
    h->word = (w & ~(XS_SHORT_FLAGS | XISAN_SHORT_OWNER_MASK)) | (flags_owner & XS_SHORT_FLAGS) |
              owner;
}

/* Sets the site id; a short header records a site id that does not fit
 * (from a block allocated before the ids outgrew the short form) as 0,
 * unknown. */
static inline void xs_tag_set_site(xs_header_t *h, uint32_t site)
{
    uint32_t w = h->word;
    if (w & XISAN_WORD_LONG) {
        xs_tag_prefix(h)[0] = site;
        return;
    }
    if (site >= XISAN_SHORT_SITE_LIMIT)
        site = 0;
    h->word = (w & ~XS_SHORT_SITE_BITS) | site << XISAN_SHORT_SITE_SHIFT;
}

/* The header a new block of `size` bytes takes: short when that saves a
 * 16-byte size class (sizes 16k+1..16k+8) and its owner ids (`owners`, the
 * largest of the owners it may be given) and site id fit; else long.  Any
 * C type aligned to 16 bytes has a size that is a multiple of 16, so such
 * a block keeps a 16-byte aligned user pointer (docs/checks.md). */
static inline size_t xs_tag_header_for(size_t size, uint32_t owners, uint32_t site)
{
    return xs_tag_short && owners <= XISAN_SHORT_OWNER_MASK && site < XISAN_SHORT_SITE_LIMIT &&
                   size - 1 < 504 && ((size - 1) & 15) < 8
               ? XISAN_SHORT_HEADER
               : XISAN_LONG_HEADER;
}

/* Writes a header of `header` bytes (xs_tag_header_for) at the start of
 * `raw`; returns the user pointer. */
static inline void *xs_tag_block(void *raw, size_t header, size_t size, uint32_t owner,
                                 uint32_t site)
{
    xs_header_t *h = (xs_header_t *)((char *)raw + header) - 1;
    void *user = h + 1;
    if (header == XISAN_SHORT_HEADER) {
        h->word = (owner & XS_SHORT_FLAGS) | (owner & XISAN_SHORT_OWNER_MASK) |
                  xs_short_size_code(size) << XISAN_SHORT_SIZE_SHIFT |
                  site << XISAN_SHORT_SITE_SHIFT;
    } else {
        uint32_t *prefix = xs_tag_prefix(h);
        prefix[0] = site;
        prefix[1] = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
        h->word = XISAN_WORD_LONG | owner;
    }
    h->magic = xs_magic(user);
    return user;
}

/* The check itself: may a thread of interpreter `current` touch a block
 * whose owner word (either form, or flags | owner id) is `word`?  Unowned
 * blocks and threads with no interpreter pass; so do blocks marked
 * shareable. */
static inline bool xs_owner_allows(uint32_t word, uint32_t current)
{
    uint32_t owner = xisan_word_owner(word);
    return owner == current || owner == XISAN_UNOWNED || current == XISAN_UNOWNED ||
           (word & XISAN_OWNER_SHAREABLE);
}

#endif
