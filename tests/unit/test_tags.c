/* Ownership tags: the header in front of a block, its keyed magic, flags,
 * and the ownership rule itself. */
#include "unit.h"

static void init(void)
{
    xs_tag_init();
}

TestSuite(tags, .init = init);

Test(tags, tag_and_owner)
{
    char *raw = malloc(XISAN_HEADER_SIZE + 24);
    void *user = xisan_tag(raw, 24, 5);
    cr_assert_eq(user, raw + XISAN_HEADER_SIZE);
    cr_assert_eq(xisan_owner(user), 5);
    xs_header_t *h = xs_tagged_header(user);
    cr_assert_eq(xs_tag_raw(h, user), (void *)raw);
    cr_assert(xs_tag_is_long(h), "xisan_tag writes the long form");
    cr_assert_eq(xs_tag_size(h), 24);
    cr_assert_eq(xs_tag_site(h), 0);
    cr_assert_null(xisan_tag(NULL, 24, 5));
    free(raw);
}

Test(tags, tag_block_keeps_site)
{
    char *raw = malloc(XISAN_HEADER_SIZE + 8);
    void *user = xs_tag_block(raw, XISAN_LONG_HEADER, 8, 3, 77);
    cr_assert_eq(xs_tag_site(xs_tagged_header(user)), 77);
    cr_assert_eq(xs_tag_owner(xs_tagged_header(user)), 3);
    free(raw);
}

/* A short word (in front, or in a slot) of a block of `size` bytes, owner
 * 63 and the largest short site id reads back what was written, and
 * setting owner (with `flag`) and site keeps the size. */
static void check_short_word(xs_header_t *h, size_t size, uint32_t flag)
{
    cr_assert_eq(xs_tag_size(h), size);
    cr_assert_eq(xs_tag_owner(h), 63);
    cr_assert_eq(xs_tag_site(h), XISAN_SHORT_SITE_LIMIT - 1);
    xs_tag_set_site(h, 5);
    xs_tag_set_word(h, 7 | flag);
    xs_block_t b = xs_tag_read(h);
    cr_assert_eq(b.owner, XISAN_WORD_LONG | flag | 7);
    cr_assert_eq(b.site, 5);
    cr_assert_eq(b.size, size, "setting owner and site keeps the size");
}

/* The short form packs owner, size and site into the owner word, 8 bytes
 * in front of the user pointer, and reads back what was written. */
Test(tags, short_form_round_trip)
{
    xs_tag_short = true;
    static const size_t sizes[] = {1, 8, 17, 24, 40, 56, 200, 449, 456};
    for (size_t i = 0; i < XS_ARRAY_LEN(sizes); i++) {
        size_t size = sizes[i];
        cr_assert_eq(xs_tag_header_for(size, 63, XISAN_SHORT_SITE_LIMIT - 1), XISAN_SHORT_HEADER,
                     "size %zu", size);
        char *raw = malloc(XISAN_SHORT_HEADER + size);
        void *user = xs_tag_block(raw, XISAN_SHORT_HEADER, size, 63, XISAN_SHORT_SITE_LIMIT - 1);
        cr_assert_eq(user, raw + XISAN_SHORT_HEADER);
        xs_header_t *h = xs_tagged_header(user);
        cr_assert_not_null(h);
        cr_assert_not(xs_tag_is_long(h));
        cr_assert_eq(xs_tag_raw(h, user), (void *)raw);
        check_short_word(h, size, XISAN_OWNER_QUARANTINE);
        free(raw);
    }
    xs_tag_short = false;
}

/* The short form only where it saves a 16-byte size class and its fields
 * fit; never when turned off. */
Test(tags, short_form_only_where_it_fits)
{
    xs_tag_short = true;
    static const size_t long_sizes[] = {0, 9, 16, 28, 32, 465, 504, 505, 512, 4096};
    for (size_t i = 0; i < XS_ARRAY_LEN(long_sizes); i++)
        cr_assert_eq(xs_tag_header_for(long_sizes[i], 1, 1), XISAN_LONG_HEADER, "size %zu",
                     long_sizes[i]);
    cr_assert_eq(xs_tag_header_for(24, 64, 1), XISAN_LONG_HEADER, "owner past 63");
    cr_assert_eq(xs_tag_header_for(24, 1, XISAN_SHORT_SITE_LIMIT), XISAN_LONG_HEADER,
                 "site past the short field");
    cr_assert_eq(xs_tag_header_for(24, 1, 1), XISAN_SHORT_HEADER);
    xs_tag_short = false;
    cr_assert_eq(xs_tag_header_for(24, 1, 1), XISAN_LONG_HEADER, "short_headers=0");
}

/* The slot form: no header; owner, size and site in the block's slot,
 * which the magic of the user pointer makes the block's. */
Test(tags, slot_form_round_trip)
{
    for (size_t size = 25; size <= 48; size++) {
        void *user = unit_new_slot_block(size, 63, XISAN_SHORT_SITE_LIMIT - 1);
        cr_assert_eq((uintptr_t)user & 15, 0);
        xs_header_t *h = xs_tagged_header(user);
        cr_assert_not_null(h);
        cr_assert_neq(h, xs_header_of(user), "the tag is not in front");
        cr_assert(xs_tag_is_slot(h));
        cr_assert_not(xs_tag_is_long(h));
        cr_assert_eq(xs_tag_header_size(h), 0);
        cr_assert_eq(xs_tag_raw(h, user), user);
        cr_assert_eq(xisan_owner(user), 63);
        check_short_word(h, size, XISAN_OWNER_SHAREABLE);
        cr_assert_eq(xisan_untag(user), user, "the block starts where its tag says");
        cr_assert_null(xs_tagged_header(user), "an untagged slot-form block is no block");
        free((char *)user - 32);
    }
}

/* A slot is a block's only at the address whose magic it holds: the
 * other 16-byte mark of the same 32 bytes, or an address without a leaf,
 * has none. */
Test(tags, a_slot_names_one_address)
{
    char *user = unit_new_slot_block(32, 3, 1);
    uintptr_t granule = (uintptr_t)user & ~(uintptr_t)31;
    char *other = (uintptr_t)user == granule ? user + 16 : user - 16;
    cr_assert_null(xs_tagged_header(other));
    static char outside[64] __attribute__((aligned(32)));
    cr_assert_null(xs_tagged_header(outside + 16), "no slot-form block there");
    const xs_header_t *slot = xs_tagged_header(user);
    uintptr_t covers = granule & ~(((uintptr_t)1 << XISAN_SLOT_LEAF_SHIFT) - 1);
    size_t index = (granule >> XISAN_SLOT_GRANULE_SHIFT) & (XS_SLOT_LEAF_SLOTS - 1);
    cr_assert_eq(xs_tag_slot_user(covers, index, slot->magic), (uintptr_t)user,
                 "the slot's place and magic give the block back");
    unit_free_slot_block(user);
}

/* The slot form where a header would cost a size class and the ids fit;
 * never when it is off. */
Test(tags, slot_form_only_where_it_fits)
{
    xs_tag_slots_enable();
    static const size_t no[] = {0, 16, 24, 49, 64, 512};
    for (size_t i = 0; i < XS_ARRAY_LEN(no); i++)
        cr_assert_not(xs_tag_slot_fits(no[i], 1, 1), "size %zu", no[i]);
    cr_assert(xs_tag_slot_fits(25, 1, 1));
    cr_assert(xs_tag_slot_fits(32, 63, XISAN_SHORT_SITE_LIMIT - 1));
    cr_assert(xs_tag_slot_fits(48, 1, 1));
    cr_assert_not(xs_tag_slot_fits(32, 64, 1), "owner past 63");
    cr_assert_not(xs_tag_slot_fits(32, 1, XISAN_SHORT_SITE_LIMIT), "site past the short field");
    xs_tag_slot_on = false;
    cr_assert_not(xs_tag_slot_fits(32, 1, 1), "slot_tags=0, or the site ids outgrew the word");
}

/* What does not fit a short header is dropped to the safe side: a site as
 * unknown, an owner as unowned (which no check reports). */
Test(tags, short_form_drops_what_does_not_fit)
{
    char *raw = malloc(XISAN_SHORT_HEADER + 24);
    void *user = xs_tag_block(raw, XISAN_SHORT_HEADER, 24, 2, 9);
    xs_header_t *h = xs_tagged_header(user);
    xs_tag_set_site(h, XISAN_SHORT_SITE_LIMIT);
    cr_assert_eq(xs_tag_site(h), 0);
    xs_tag_set_word(h, 64);
    cr_assert_eq(xs_tag_owner(h), XISAN_UNOWNED);
    cr_assert_eq(xs_tag_size(h), 24);
    free(raw);
}

/* The long form keeps every owner id below 2^29 and its flags. */
Test(tags, long_form_owner_and_flags)
{
    char *raw = malloc(XISAN_LONG_HEADER + 8);
    void *user = xs_tag_block(raw, XISAN_LONG_HEADER, 8, XISAN_OWNER_MASK - 1, 3);
    xs_header_t *h = xs_tagged_header(user);
    cr_assert_eq(xs_tag_owner(h), XISAN_OWNER_MASK - 1);
    cr_assert(xs_owner_allows(h->word, XISAN_OWNER_MASK - 1));
    cr_assert_not(xs_owner_allows(h->word, 1));
    xs_tag_set_word(h, xs_tag_word(h) | XISAN_OWNER_SHAREABLE);
    cr_assert(xs_owner_allows(h->word, 1));
    cr_assert_eq(xs_tag_owner(h), XISAN_OWNER_MASK - 1);
    free(raw);
}

Test(tags, public_tag_drops_flag_bits)
{
    char *raw = malloc(XISAN_HEADER_SIZE + 8);
    void *user = xisan_tag(raw, 8, 5 | XISAN_OWNER_SHAREABLE | XISAN_OWNER_QUARANTINE);
    cr_assert_eq(xs_tag_word(xs_tagged_header(user)), XISAN_WORD_LONG | 5,
                 "callers cannot set internal flags");
    free(raw);
}

Test(tags, untagged_heap_block)
{
    /* The bytes in front of the pointer belong to the same allocation, so
     * reading the would-be header is defined (and quiet under valgrind). */
    char *raw = malloc(XISAN_HEADER_SIZE + 8);
    memset(raw, 0xab, XISAN_HEADER_SIZE + 8);
    cr_assert_null(xs_tagged_header(raw + XISAN_HEADER_SIZE));
    cr_assert_eq(xisan_owner(raw + XISAN_HEADER_SIZE), XISAN_UNOWNED);
    memset(raw, 0, XISAN_HEADER_SIZE);
    cr_assert_null(xs_tagged_header(raw + XISAN_HEADER_SIZE), "a zeroed header never matches");
    free(raw);
}

static struct {
    char before[XISAN_HEADER_SIZE];
    int object[4];
} static_object = {.before = {1, 2, 3}, .object = {42}};

Test(tags, static_object_is_not_tagged)
{
    cr_assert_null(xs_tagged_header(static_object.object));
    cr_assert_eq(xisan_owner(static_object.object), XISAN_UNOWNED);
    xisan_set_shareable(static_object.object, true);
    cr_assert_null(xisan_untag(static_object.object));
    cr_assert_arr_eq(static_object.before, ((char[XISAN_HEADER_SIZE]){1, 2, 3}),
                     XISAN_HEADER_SIZE, "foreign memory was written");
}

Test(tags, header_is_bound_to_its_address)
{
    /* A header copied in front of another pointer does not pass: the magic
     * is a keyed hash of the user pointer. */
    char *a = malloc(XISAN_HEADER_SIZE + 8), *b = malloc(XISAN_HEADER_SIZE + 8);
    void *ua = xisan_tag(a, 8, 2);
    memcpy(b, a, XISAN_HEADER_SIZE);
    cr_assert_not_null(xs_tagged_header(ua));
    cr_assert_null(xs_tagged_header(b + XISAN_HEADER_SIZE));
    free(a);
    free(b);
}

Test(tags, untag_clears)
{
    char *raw = malloc(XISAN_HEADER_SIZE + 8);
    void *user = xisan_tag(raw, 8, 2);
    cr_assert_eq(xisan_untag(user), (void *)raw);
    cr_assert_null(xisan_untag(user), "a second untag must not find the tag");
    cr_assert_eq(xisan_owner(user), XISAN_UNOWNED);
    cr_assert_null(xisan_untag(NULL));
    free(raw);
}

Test(tags, shareable_flag)
{
    char *raw = malloc(XISAN_HEADER_SIZE + 8);
    void *user = xisan_tag(raw, 8, 2);
    xisan_set_shareable(user, true);
    cr_assert(xs_tagged_header(user)->word & XISAN_OWNER_SHAREABLE);
    cr_assert_eq(xisan_owner(user), 2, "the flag is not part of the owner");
    cr_assert(xs_owner_allows(xs_tagged_header(user)->word, 3));
    xisan_set_shareable(user, false);
    cr_assert_eq(xs_tag_word(xs_tagged_header(user)), XISAN_WORD_LONG | 2);
    cr_assert_not(xs_owner_allows(xs_tagged_header(user)->word, 3));
    free(raw);
}

Test(tags, owner_allows_truth_table)
{
    cr_assert(xs_owner_allows(2, 2), "same owner");
    cr_assert(xs_owner_allows(XISAN_UNOWNED, 2), "unowned block");
    cr_assert(xs_owner_allows(2, XISAN_UNOWNED), "thread runs no interpreter");
    cr_assert(xs_owner_allows(2 | XISAN_OWNER_SHAREABLE, 3), "shareable block");
    cr_assert_not(xs_owner_allows(2, 3), "different owner");
    cr_assert_not(xs_owner_allows(2 | XISAN_OWNER_QUARANTINE, 3), "quarantine is not a pass");
    cr_assert(xs_owner_allows(2 | XISAN_OWNER_QUARANTINE, 2), "flags do not change the owner");
    cr_assert_not(xs_owner_allows(XISAN_WORD_LONG | 66, 2), "long form: all of the owner id");
    cr_assert_not(xs_owner_allows(66, 66), "short form: six bits of owner id (2 here)");
    cr_assert(xs_owner_allows(XISAN_WORD_LONG | 66, 66));
}

Test(tags, size_saturates)
{
    char *raw = malloc(XISAN_HEADER_SIZE);
    void *user = xs_tag_block(raw, XISAN_LONG_HEADER, (size_t)UINT32_MAX + 10, 1, 0);
    cr_assert_eq(xs_tag_size(xs_tagged_header(user)), UINT32_MAX);
    xs_tag_block(raw, XISAN_LONG_HEADER, UINT32_MAX - 1, 1, 0);
    cr_assert_eq(xs_tag_size(xs_tagged_header(user)), UINT32_MAX - 1);
    free(raw);
}
