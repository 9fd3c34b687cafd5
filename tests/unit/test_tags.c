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
    cr_assert_eq((void *)h, (void *)raw);
    cr_assert_eq(h->size, 24);
    cr_assert_eq(h->site, 0);
    cr_assert_null(xisan_tag(NULL, 24, 5));
    free(raw);
}

Test(tags, tag_block_keeps_site)
{
    char *raw = malloc(XISAN_HEADER_SIZE + 8);
    void *user = xs_tag_block(raw, 8, 3, 77);
    cr_assert_eq(xs_tagged_header(user)->site, 77);
    cr_assert_eq(xs_tagged_header(user)->owner, 3);
    free(raw);
}

Test(tags, public_tag_drops_flag_bits)
{
    char *raw = malloc(XISAN_HEADER_SIZE + 8);
    void *user = xisan_tag(raw, 8, 5 | XISAN_OWNER_SHAREABLE | XISAN_OWNER_QUARANTINE);
    cr_assert_eq(xs_tagged_header(user)->owner, 5, "callers cannot set internal flags");
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
    cr_assert(xs_tagged_header(user)->owner & XISAN_OWNER_SHAREABLE);
    cr_assert_eq(xisan_owner(user), 2, "the flag is not part of the owner");
    cr_assert(xs_owner_allows(xs_tagged_header(user)->owner, 3));
    xisan_set_shareable(user, false);
    cr_assert_eq(xs_tagged_header(user)->owner, 2);
    cr_assert_not(xs_owner_allows(xs_tagged_header(user)->owner, 3));
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
}

Test(tags, size_saturates)
{
    char *raw = malloc(XISAN_HEADER_SIZE);
    void *user = xs_tag_block(raw, (size_t)UINT32_MAX + 10, 1, 0);
    cr_assert_eq(xs_tagged_header(user)->size, UINT32_MAX);
    xs_tag_block(raw, UINT32_MAX - 1, 1, 0);
    cr_assert_eq(xs_tagged_header(user)->size, UINT32_MAX - 1);
    free(raw);
}
