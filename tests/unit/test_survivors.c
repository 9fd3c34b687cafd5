/* Survivors: the heap scan finds the live blocks of ended interpreters, and
 * the exit summary groups them by interpreter, type and site. */
#include "unit.h"

#include <sys/mman.h>
#include <unistd.h>

static char out[16 * 1024];

static void setup(void)
{
    xs_tag_init();
    char err[256];
    cr_assert_eq(xs_options_parse("halt_on_error=0", &xs_opt, err, sizeof(err)), 0, "%s", err);
}

TestSuite(survivors, .init = setup);

typedef struct seen {
    void *blocks[16];
    uint32_t owners[16];
    size_t n;
} seen_t;

static void remember(void *user, const xs_block_t *h, const void *bytes, size_t n, void *arg)
{
    seen_t *s = arg;
    cr_assert_leq(n, h->size);
    if (h->size == 24) /* the short block */
        cr_assert_eq(h->site, 1234);
    if (h->size == 32) /* the slot-form block */
        cr_assert_eq(h->site, 4321);
    cr_assert_eq(memcmp(bytes, user, n), 0, "the copy differs from the block");
    if (s->n < XS_ARRAY_LEN(s->blocks)) {
        s->blocks[s->n] = user;
        s->owners[s->n] = h->owner & XISAN_OWNER_MASK;
        s->n++;
    }
}

static bool seen_block(const seen_t *s, const void *user)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->blocks[i] == user)
            return true;
    return false;
}

Test(survivors, heap_scan_finds_live_blocks_of_the_given_owners)
{
    void *small = unit_new_block(40, 5);            /* malloc heap */
    void *short_form = unit_new_short_block(24, 5, 1234);
    void *slot_form = unit_new_slot_block(32, 5, 4321);
    void *slot_other = unit_new_slot_block(40, 6, 1);
    void *slot_freed = unit_new_slot_block(40, 5, 1);
    unit_free_slot_block(slot_freed);
    void *large = unit_new_block(1 << 20, 5);       /* its own mmap()ed chunk */
    void *other = unit_new_block(40, 6);            /* another owner */
    void *freed = unit_new_block(40, 5);
    void *quarantined = unit_new_block(40, 5);
    xs_tag_set_word(xs_header_of(quarantined), 5 | XISAN_OWNER_QUARANTINE);
    void *raw_freed = xisan_untag(freed);           /* frees clear the magic */
    /* a copy of a live header at another address is no block */
    char *copy = malloc(2 * XISAN_HEADER_SIZE);
    memcpy(copy + XISAN_HEADER_SIZE, (char *)small - XISAN_HEADER_SIZE, XISAN_HEADER_SIZE);

    uint8_t owners[1] = {1u << 5};
    seen_t seen = {0};
    size_t pages = 0;
    size_t found = xs_heap_scan(owners, 8, remember, &seen, &pages);

    cr_assert(seen_block(&seen, small), "the small block was not found");
    cr_assert(seen_block(&seen, large), "the large block was not found");
    cr_assert(seen_block(&seen, short_form), "the block with a short header was not found");
    cr_assert(seen_block(&seen, slot_form), "the block with its tag in a slot was not found");
    cr_assert_not(seen_block(&seen, slot_other), "a slot-form block of another owner was found");
    cr_assert_not(seen_block(&seen, slot_freed), "a freed slot-form block was found");
    cr_assert_not(seen_block(&seen, other), "a block of another owner was found");
    cr_assert_not(seen_block(&seen, freed), "a freed block was found");
    cr_assert_not(seen_block(&seen, quarantined), "a quarantined block was found");
    cr_assert_not(seen_block(&seen, copy + 2 * XISAN_HEADER_SIZE), "a header copy was found");
    cr_assert_eq(found, seen.n);
    cr_assert_eq(found, 4, "found %zu blocks", found);
    cr_assert_gt(pages, 0);
    for (size_t i = 0; i < seen.n; i++)
        cr_assert_eq(seen.owners[i], 5);
    free(copy);
    free(raw_freed);
    unit_free_block(small);
    unit_free_block(short_form);
    unit_free_slot_block(slot_form);
    unit_free_slot_block(slot_other);
    unit_free_block(large);
    unit_free_block(other);
    free(xs_tag_raw(xs_header_of(quarantined), quarantined));
}

Test(survivors, exit_summary_lists_blocks_of_ended_interpreters)
{
    uint32_t ended = xisan_interp_created(1, "sub-a");  /* owner 2 */
    uint32_t exiting = xisan_interp_created(0, "main"); /* owner 1 */
    uint32_t alive = xisan_interp_created(2, "sub-b");  /* owner 3 */
    void *a = unit_new_block(24, ended);
    void *b = unit_new_block(40, ended);
    void *m = unit_new_block(24, exiting);
    void *c = unit_new_block(24, alive);
    xisan_interp_ended(ended);
    xisan_interp_ended(exiting);
    cr_redirect_stderr();
    xs_print_summary(exiting);
    unit_read_stderr(out, sizeof(out));
    char line[512];
    snprintf(line, sizeof(line),
             "==%d==XISan: 2 blocks of ended interpreters still allocated at exit "
             "(0 objects, 0 found referenced by the shadow GC; immortal objects, "
             "never freed by design, not counted: 0):\n"
             "  interpreter 1 (sub-a): 2 other blocks (64 bytes), allocated at an unknown site\n",
             (int)getpid());
    cr_assert_str_eq(out, line);
    unit_free_block(a);
    unit_free_block(b);
    unit_free_block(m);
    unit_free_block(c);
}

Test(survivors, no_scan_when_disabled_or_no_interpreter_ended)
{
    uint32_t owner = xisan_interp_created(1, "sub-a");
    void *a = unit_new_block(24, owner);
    cr_redirect_stderr();
    xs_print_summary(XISAN_UNOWNED); /* nothing ended */
    char err[256];
    cr_assert_eq(xs_options_parse("survivors=0", &xs_opt, err, sizeof(err)), 0, "%s", err);
    xisan_interp_ended(owner);
    xs_print_summary(XISAN_UNOWNED); /* ended, but survivors=0 */
    unit_read_stderr(out, sizeof(out));
    cr_assert_str_eq(out, "");
    unit_free_block(a);
}
