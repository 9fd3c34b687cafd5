/* Interpreter registry: owner ids, names, lifecycle, flags, the current
 * interpreter of a thread. */
#include "unit.h"

#include <pthread.h>

static char name[64];

Test(registry, owner_is_external_id_plus_one)
{
    cr_assert_eq(xs_interp_register(0, "main"), 1);
    cr_assert_eq(xs_interp_register(7, "sub"), 8);
    /* Ids that do not fit an owner word are refused, not wrapped. */
    cr_assert_eq(xs_interp_register(-1, "neg"), XISAN_UNOWNED);
    cr_assert_eq(xs_interp_register(XISAN_OWNER_MASK, "big"), XISAN_UNOWNED);
    cr_assert_eq(xs_interp_register(XISAN_OWNER_MASK - 1, "last"), XISAN_OWNER_MASK);
}

Test(registry, names)
{
    uint32_t main_owner = xs_interp_register(0, "main");
    uint32_t anon = xs_interp_register(4, NULL);
    xs_interp_name(main_owner, name, sizeof(name));
    cr_assert_str_eq(name, "main");
    xs_interp_name(anon, name, sizeof(name));
    cr_assert_str_eq(name, "interpreter 4");
    xs_interp_name(10, name, sizeof(name));
    cr_assert_str_eq(name, "interpreter 9", "an owner never registered");
    xs_interp_name(XISAN_UNOWNED, name, sizeof(name));
    cr_assert_str_eq(name, "none");
    char small[5];
    xs_interp_name(main_owner, small, 3);
    cr_assert_str_eq(small, "ma", "names are cut to the buffer");
}

Test(registry, rename_keeps_owner)
{
    uint32_t owner = xs_interp_register(2, "first");
    cr_assert_eq(xs_interp_register(2, "second"), owner);
    xs_interp_name(owner, name, sizeof(name));
    cr_assert_str_eq(name, "second");
}

Test(registry, lifecycle)
{
    cr_assert_eq(xs_interp_state(3), XS_INTERP_UNKNOWN);
    uint32_t owner = xs_interp_register(2, "sub");
    cr_assert_eq(xs_interp_state(owner), XS_INTERP_ALIVE);
    cr_assert(xisan_interp_alive(owner));
    uint32_t gen = atomic_load(&xs_interp_generation);
    xs_interp_end(owner);
    cr_assert_eq(xs_interp_state(owner), XS_INTERP_ENDED);
    cr_assert_not(xisan_interp_alive(owner));
    cr_assert_eq(atomic_load(&xs_interp_generation), gen + 1);
    /* Ending "no interpreter" is ignored and invalidates no thread cache. */
    xs_interp_end(XISAN_UNOWNED);
    cr_assert_eq(atomic_load(&xs_interp_generation), gen + 1);
    /* The name outlives the interpreter: reports name ended owners. */
    xs_interp_name(owner, name, sizeof(name));
    cr_assert_str_eq(name, "sub");
}

Test(registry, claim_and_release_flags)
{
    uint32_t owner = xs_interp_register(1, "sub");
    cr_assert(xs_interp_claim_flag(owner, 1u));
    cr_assert_not(xs_interp_claim_flag(owner, 1u), "a flag is claimed once");
    cr_assert(xs_interp_claim_flag(owner, 2u), "flags are independent");
    xs_interp_release_flag(owner, 1u);
    cr_assert(xs_interp_claim_flag(owner, 1u));
    cr_assert_not(xs_interp_claim_flag(owner, 2u));
    uint32_t other = xs_interp_register(2, "other");
    cr_assert(xs_interp_claim_flag(other, 1u), "flags are per interpreter");
}

Test(registry, public_api)
{
    xisan_owner_t owner = xisan_interp_created(5, "worker");
    cr_assert_eq(owner, 6);
    cr_assert(xisan_interp_alive(owner));
    cr_assert_not(xisan_interp_alive(7), "never created");
    xisan_interp_ended(owner);
    cr_assert_not(xisan_interp_alive(owner));
    cr_assert_eq(xisan_interp_created(-5, "bad"), XISAN_UNOWNED);
}

static void *other_thread(void *arg)
{
    xisan_owner_t *seen = arg;
    seen[0] = xisan_current();
    xisan_set_current(9);
    seen[1] = xisan_current();
    return NULL;
}

Test(registry, current_is_per_thread)
{
    cr_assert_eq(xisan_current(), XISAN_UNOWNED);
    xisan_set_current(4);
    cr_assert_eq(xisan_current(), 4);
    xisan_owner_t seen[2] = {99, 99};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, seen), 0);
    pthread_join(t, NULL);
    cr_assert_eq(seen[0], XISAN_UNOWNED, "a new thread runs no interpreter");
    cr_assert_eq(seen[1], 9);
    cr_assert_eq(xisan_current(), 4, "another thread's set_current leaked here");
}
