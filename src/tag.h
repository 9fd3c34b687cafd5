/* Ownership tags: the block tag of <xisan/abi.h> of every block the hooks
 * allocate, in its long or short form in front of the block, in the
 * slot form in the table beside the heap, or in the pool form in the tag
 * array of the block's pool (src/pool.h).  The fast paths are inline.
 * `xs_header_t` is the part every tag has (magic and owner word): right in
 * front of the user pointer, or in the block's slot; the long form's site
 * and size sit in front of that. */
#ifndef XS_TAG_H
#define XS_TAG_H

#include "base.h"
#include "fork.h"
#include "pool.h"
#include "xisan/abi.h"

typedef struct xisan_block_tag xs_header_t;

_Static_assert(XISAN_HEADER_SIZE == XISAN_LONG_HEADER, "xisan_tag() writes the long form");
_Static_assert(offsetof(xs_header_t, word) == sizeof(uint32_t), "a pool's word read as a tag's");

XS_INTERNAL extern uint64_t xs_tag_secret;
/* Short headers may be handed out: the short_headers option, until the
 * site ids outgrow the short form (depot.c clears it then). */
XS_INTERNAL extern _Atomic bool xs_tag_short;
/* New blocks may take the pool form: the hooks serve blocks from the
 * pools (the pool_tags option, over pymalloc), until the site ids outgrow
 * the short form's word (depot.c clears it then). */
XS_INTERNAL extern _Atomic bool xs_tag_pool_on;
XS_INTERNAL void xs_tag_init(void);

/* The slot form's top table (<xisan/abi.h>): 16 MiB of zeroes in .bss,
 * which take memory only where a leaf pointer is written, so that a lookup
 * needs no test of the table itself. */
#define XS_SLOT_TOP_ENTRIES (1u << (XISAN_SLOT_ADDRESS_BITS - XISAN_SLOT_LEAF_SHIFT))
XS_INTERNAL extern xs_header_t *xs_tag_slots[XS_SLOT_TOP_ENTRIES];
/* Leaves there may be (64 MiB of heap each); past them, blocks take headers. */
#define XS_SLOT_LEAVES_MAX 1024
/* New blocks may take the slot form: the table is there, the slot_tags
 * option, and until the site ids outgrow the short word (as xs_tag_short). */
XS_INTERNAL extern _Atomic bool xs_tag_slot_on;
/* New blocks may take the slot form from now on. */
XS_INTERNAL void xs_tag_slots_enable(void);
XS_INTERNAL xs_header_t *xs_tag_slot_make_slow(const void *user);
XS_INTERNAL bool xs_tag_fork(xs_fork_phase_t phase); /* the lock of the list of leaves */
/* A leaf of the table: XS_SLOT_LEAF_SLOTS slots, one per 32 bytes of
 * address space from `covers` on. */
#define XS_SLOT_LEAF_SLOTS (1u << (XISAN_SLOT_LEAF_SHIFT - XISAN_SLOT_GRANULE_SHIFT))
typedef struct xs_tag_leaf {
    uintptr_t covers;
    xs_header_t *slots;
} xs_tag_leaf_t;
/* Calls visit for each leaf made so far (heapscan.c). */
XS_INTERNAL void xs_tag_slot_leaves(void (*visit)(const xs_tag_leaf_t *leaf, void *arg),
                                    void *arg);

static inline uint32_t xs_magic(const void *user)
{
    return xisan_block_magic(user, xs_tag_secret);
}

static inline xs_header_t *xs_header_of(const void *user)
{
    return (xs_header_t *)user - 1;
}

/* The slot of a slot-form block at `user` whose magic is `magic`, or NULL. */
static inline xs_header_t *xs_tag_slot_of(const void *user, uint32_t magic)
{
    xs_header_t *slot = xisan_block_slot(xs_tag_slots, user);
    return slot && slot->magic == magic ? slot : NULL;
}

#define XS_SHORT_FLAGS (XISAN_OWNER_SHAREABLE | XISAN_OWNER_QUARANTINE)

/* The pool form: a block of xisan's pools (pool.h), its word in its
 * pool's array, a short-form word with owner, flags and site, its size
 * field XS_POOL_LIVE plus the requested size's remainder in the pool's size
 * class, (size - 1) & 15.  Exact: the arena bitmap says whether an address
 * is a pool's, the pool whether a block of it starts there and is handed
 * out.  Its xs_header_t is the one whose word is the block's: its `magic`
 * is the word in front (another block's, or the pool header's padding),
 * which no reader of a pool-form tag reads or writes. */
static inline xs_header_t *xs_pool_word_header(uint32_t *word)
{
    return (xs_header_t *)((char *)word - offsetof(xs_header_t, word));
}

static inline xs_header_t *xs_pool_header(xs_pool_t *pool, const void *user)
{
    uint32_t *word = xs_pool_word(pool, user);
    return word ? xs_pool_word_header(word) : NULL;
}

/* Is `h` a pool-form tag?  Pools' words are in the pools' arenas, where
 * no other form's tag is. */
static inline bool xs_tag_is_pool(const xs_header_t *h)
{
    return xs_pool_of(h) != NULL;
}

/* A pool-form word's size: its pool's block size less the 16-byte class's
 * unused bytes. */
static inline uint32_t xs_pool_tag_size(const xs_header_t *h, uint32_t word)
{
    const xs_pool_t *pool = xs_pool_of(h);
    return (uint32_t)pool->block_size - 15 + ((word >> XISAN_SHORT_SIZE_SHIFT) & 15);
}

/* A pool-form word for a block of `size` bytes (1 to 512). */
static inline uint32_t xs_pool_word_for(size_t size, uint32_t owner, uint32_t site)
{
    return (owner & XS_SHORT_FLAGS) | (owner & XISAN_SHORT_OWNER_MASK) |
           (uint32_t)((size - 1) & 15) << XISAN_SHORT_SIZE_SHIFT | site << XISAN_SHORT_SITE_SHIFT;
}

/* The tag of a block the chain tagged, one that is no pool's (its header,
 * or its slot), or NULL. */
static inline xs_header_t *xs_chain_header(const void *user)
{
    uint32_t magic = xs_magic(user);
    xs_header_t *h = xs_header_of(user);
    return XS_LIKELY(h->magic == magic) ? h : xs_tag_slot_of(user, magic);
}

/* The tag of a block xisan tagged (its pool's word, its header or its
 * slot), or NULL. */
static inline xs_header_t *xs_tagged_header(const void *user)
{
    xs_pool_t *pool = xs_pool_of(user);
    return pool ? xs_pool_header(pool, user) : xs_chain_header(user);
}

/* The slot for a new slot-form block at `user`, its leaf made if need be;
 * NULL: none can be (the block takes a header instead). */
static inline xs_header_t *xs_tag_slot_make(const void *user)
{
    xs_header_t *slot = xisan_block_slot(xs_tag_slots, user);
    return XS_LIKELY(slot != NULL && ((uintptr_t)user >> XISAN_SLOT_ADDRESS_BITS) == 0)
               ? slot
               : xs_tag_slot_make_slow(user);
}

/* The user pointer whose tag is slot `index` of the leaf that covers the
 * addresses from `covers` on, when `magic` says so; 0: none.  A slot
 * covers 32 bytes, and a block of 25 to 48 bytes starts at one of their
 * two 16-byte marks. */
static inline uintptr_t xs_tag_slot_user(uintptr_t covers, size_t index, uint32_t magic)
{
    uintptr_t at = covers + (index << XISAN_SLOT_GRANULE_SHIFT);
    if (xs_magic((const void *)at) == magic)
        return at;
    return xs_magic((const void *)(at + 16)) == magic ? at + 16 : 0;
}

static inline bool xs_tag_is_long(const xs_header_t *h)
{
    return (h->word & XISAN_WORD_LONG) != 0;
}

#define XS_SHORT_SIZE_BITS (0xffu << XISAN_SHORT_SIZE_SHIFT)

/* A slot-form word: short, with a size code past the short form's. */
static inline bool xs_word_is_slot(uint32_t word)
{
    return !(word & XISAN_WORD_LONG) &&
           (word & XS_SHORT_SIZE_BITS) >= XISAN_SLOT_SIZE_CODE << XISAN_SHORT_SIZE_SHIFT;
}

/* (a pool-form word's size code, XISAN_POOL_LIVE plus 0 to 15, is never
 * the slot form's) */
_Static_assert((XISAN_POOL_LIVE >> XISAN_SHORT_SIZE_SHIFT) + 15 < XISAN_SLOT_SIZE_CODE,
               "pool words are no slot words");
static inline bool xs_tag_is_slot(const xs_header_t *h)
{
    return xs_word_is_slot(h->word);
}

/* The long form's site and size words, in front of the tag. */
static inline uint32_t *xs_tag_prefix(const xs_header_t *h)
{
    /* through an integer: the compiler cannot tell the forms apart, and
     * would warn on the short form's (never taken) path */
    return (uint32_t *)((uintptr_t)h - 2 * sizeof(uint32_t));
}

/* The bytes of header in front of the block: 16, 8, or 0 (slot and pool
 * forms). */
static inline size_t xs_tag_header_size(const xs_header_t *h)
{
    uint32_t word = h->word;
    return (word & XISAN_WORD_LONG)                       ? XISAN_LONG_HEADER
           : xs_word_is_slot(word) || xs_tag_is_pool(h) ? 0
                                                          : XISAN_SHORT_HEADER;
}

/* The start of the block at `user` that the allocator beneath handed out. */
static inline void *xs_tag_raw(const xs_header_t *h, void *user)
{
    return (char *)user - xs_tag_header_size(h);
}

/* What the words say, in one form: `owner` as the long form's owner word
 * (XISAN_WORD_LONG | flags | owner id), the site id and the requested size
 * (saturated at UINT32_MAX). */
typedef struct xs_block {
    uint32_t owner, site, size;
} xs_block_t;

#define XS_SHORT_SITE_BITS ((XISAN_SHORT_SITE_LIMIT - 1) << XISAN_SHORT_SITE_SHIFT)

/* An owner word of either form as the long form's: XISAN_WORD_LONG |
 * flags | owner id, which xisan_word_owner, xs_owner_allows and
 * XISAN_OWNER_MASK read alike. */
static inline uint32_t xs_word_flags_owner(uint32_t word)
{
    return XISAN_WORD_LONG | (word & XS_SHORT_FLAGS) | xisan_word_owner(word);
}

/* Short form: sizes 16k + r, r in 1..8, up to 456: size - 1 is
 * k << 4 | (r - 1), so the code is k << 3 | (r - 1), at most 231.  Slot
 * form: sizes 25 to 48, code 232 + (size - 25). */
static inline uint32_t xs_short_size_code(size_t size)
{
    size_t m = size - 1;
    return (uint32_t)((m >> 4) << 3 | (m & 7));
}

static inline uint32_t xs_slot_size_code(size_t size)
{
    return XISAN_SLOT_SIZE_CODE + (uint32_t)(size - 25);
}

static inline uint32_t xs_short_size(uint32_t word)
{
    uint32_t code = (word & XS_SHORT_SIZE_BITS) >> XISAN_SHORT_SIZE_SHIFT;
    if (code >= XISAN_SLOT_SIZE_CODE)
        return code - XISAN_SLOT_SIZE_CODE + 25;
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
    if (w & XISAN_WORD_LONG)
        return xs_tag_prefix(h)[1];
    return xs_tag_is_pool(h) ? xs_pool_tag_size(h, w) : xs_short_size(w);
}

static inline xs_block_t xs_tag_read(const xs_header_t *h)
{
    uint32_t w = h->word;
    xs_block_t b = xs_tag_decode(w, xs_tag_prefix(h)); /* the prefix is read for the long form only */
    if (!(w & XISAN_WORD_LONG) && xs_tag_is_pool(h))
        b.size = xs_pool_tag_size(h, w);
    return b;
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

/* Marks the block quarantined: its misdirected end was reported, and it
 * is never handed to an allocator (the flag is at the same bit in every
 * form). */
static inline void xs_tag_quarantine(xs_header_t *h)
{
    h->word |= XISAN_OWNER_QUARANTINE;
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
 * 16-byte size class (sizes 16k+1..16k+8, up to 456) and its owner ids
 * (`owners`, the largest of the owners it may be given) and site id fit;
 * else long.  Any C type aligned to 16 bytes has a size that is a multiple
 * of 16, so such a block keeps a 16-byte aligned user pointer
 * (docs/checks.md). */
static inline size_t xs_tag_header_for(size_t size, uint32_t owners, uint32_t site)
{
    return xs_tag_short && owners <= XISAN_SHORT_OWNER_MASK && site < XISAN_SHORT_SITE_LIMIT &&
                   size - 1 < 456 && ((size - 1) & 15) < 8
               ? XISAN_SHORT_HEADER
               : XISAN_LONG_HEADER;
}

/* The header size that stands for the slot form in plans. */
#define XS_SLOT_FORM 0u

/* May a block of `size` bytes go without a header, its tag in its slot?
 * Sizes 25 to 48, which any header moves to a larger 16-byte size class
 * (unless the short one fits the size and contents: ask that first), with
 * ids that fit the short word.  The slot costs 8 bytes per 32 of the pages
 * such blocks sit in. */
static inline bool xs_tag_slot_fits(size_t size, uint32_t owners, uint32_t site)
{
    return size - 25 < 24 && xs_tag_slot_on && owners <= XISAN_SHORT_OWNER_MASK &&
           site < XISAN_SHORT_SITE_LIMIT;
}

/* Writes the slot form's tag of the block at `user` into `slot`
 * (xs_tag_slot_make). */
static inline void *xs_tag_slot_block(xs_header_t *slot, void *user, size_t size, uint32_t owner,
                                      uint32_t site)
{
    slot->word = (owner & XS_SHORT_FLAGS) | (owner & XISAN_SHORT_OWNER_MASK) |
                 xs_slot_size_code(size) << XISAN_SHORT_SIZE_SHIFT |
                 site << XISAN_SHORT_SITE_SHIFT;
    __atomic_store_n(&slot->magic, xs_magic(user), __ATOMIC_RELEASE);
    return user;
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
