/* The fast stack walk (src/cfi.c) against libunwind's, which stays the
 * reference: the same return addresses from a shared call site to the
 * bottom of the stack, through frames of every shape; -1 where the fast
 * walk must leave a stack to libunwind. */
#include "unit.h"

#include "cfi.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <alloca.h>
#include <pthread.h>
#include <signal.h>

enum { MAX = 256 };

typedef int (*walker_t)(void **out, int max);

/* The return address of the shared call site (see walk_here). */
static uintptr_t call_site;
/* fast_walk ends at this return address (0: at the bottom). */
static uintptr_t stop_at;

static __attribute__((noinline)) int fast_walk(void **out, int max)
{
    call_site = (uintptr_t)__builtin_return_address(0);
    int n = xs_cfi_backtrace(out, max, stop_at, stop_at ? stop_at + 1 : 0);
    __asm__ volatile("" ::: "memory"); /* no tail call */
    return n;
}

static __attribute__((noinline)) int slow_walk(void **out, int max)
{
    int n = unw_backtrace(out, max);
    __asm__ volatile("" ::: "memory");
    return n;
}

/* Both walkers run from this one call site, so both stacks hold the same
 * frames from its return address on. */
static __attribute__((noinline)) int walk_here(walker_t how, void **out)
{
    int n = how(out, MAX);
    __asm__ volatile("" ::: "memory");
    return n;
}

static void *fast[MAX], *slow[MAX];
static int n_fast, n_slow;

static void walk_both(void)
{
    n_fast = walk_here(fast_walk, fast);
    n_slow = walk_here(slow_walk, slow);
}

static int index_of(void **pcs, int n, uintptr_t pc)
{
    for (int i = 0; i < n; i++) {
        if ((uintptr_t)pcs[i] == pc)
            return i;
    }
    return -1;
}

static void expect_same_stacks(const char *where)
{
    cr_assert_gt(n_fast, 0, "%s: the fast walk read the stack (got %d)", where, n_fast);
    cr_assert_lt(n_fast, MAX, "%s: the fast walk reached the stack's bottom", where);
    int f = index_of(fast, n_fast, call_site), s = index_of(slow, n_slow, call_site);
    cr_assert_geq(f, 0, "%s: the call site is in the fast walk", where);
    cr_assert_geq(s, 0, "%s: the call site is in libunwind's walk", where);
    cr_assert_eq(n_fast - f, n_slow - s, "%s: %d frames from the call site, libunwind %d", where,
                 n_fast - f, n_slow - s);
    /* frame 1 is walk_both's, two calls of walk_here: two addresses */
    for (int i = 0; i < n_fast - f; i++)
        cr_assert(i == 1 || fast[f + i] == slow[s + i], "%s: frame %d: %p, libunwind %p", where,
                  i, fast[f + i], slow[s + i]);
}

/* Frames of different shapes: a frame pointer (the build's default), no
 * frame pointer (the CFA from rsp, as in most of libpython), and a frame
 * whose size is only known at run time (alloca). */
static __attribute__((noinline)) void recurse(int depth);

static __attribute__((noinline, optimize("omit-frame-pointer"))) void recurse_no_fp(int depth)
{
    volatile char pad[40];
    pad[depth % 40] = (char)depth;
    (void)pad[0];
    recurse(depth - 1);
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void recurse_alloca(int depth)
{
    volatile char *pad = alloca(16 + (size_t)depth * 24);
    pad[0] = (char)depth;
    recurse(depth - 1);
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void recurse(int depth)
{
    if (depth <= 0)
        walk_both();
    else if (depth % 3 == 0)
        recurse_no_fp(depth);
    else if (depth % 3 == 1)
        recurse_alloca(depth);
    else
        recurse(depth - 1);
    __asm__ volatile("" ::: "memory");
}

Test(cfi, matches_libunwind_through_frames_of_every_shape)
{
    for (int depth = 0; depth < 40; depth += 7) {
        recurse(depth);
        char where[32];
        snprintf(where, sizeof(where), "depth %d", depth);
        expect_same_stacks(where);
    }
}

/* Through libc: qsort calls the comparison back. */
static int compared;
static int compare(const void *a, const void *b)
{
    if (compared++ == 0)
        walk_both();
    return *(const int *)a - *(const int *)b;
}

Test(cfi, matches_libunwind_through_a_library_callback)
{
    int v[64];
    for (int i = 0; i < 64; i++)
        v[i] = (i * 37) % 64;
    qsort(v, 64, sizeof(int), compare);
    expect_same_stacks("qsort");
}

static void *in_thread(void *arg)
{
    (void)arg;
    recurse(9);
    return NULL;
}

Test(cfi, matches_libunwind_in_a_thread)
{
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, in_thread, NULL), 0);
    pthread_join(t, NULL);
    expect_same_stacks("thread");
}

Test(cfi, ends_at_the_stop_address)
{
    recurse(5);
    int at = index_of(fast, n_fast, call_site);
    cr_assert_geq(at, 0);
    cr_assert_gt(n_fast, at + 4);
    int all = n_fast;
    void *whole[MAX];
    memcpy(whole, fast, sizeof(whole));
    /* the same path again, ending at a return address three frames out:
     * it is the last one written */
    stop_at = (uintptr_t)whole[at + 3];
    recurse(5);
    stop_at = 0;
    cr_expect_eq(n_fast, at + 4, "ends at the stop address: %d frames of %d", n_fast, all);
    for (int i = at; i < n_fast; i++)
        cr_expect_eq(fast[i], whole[i]);
}

/* Hand-written code (a fiber's or a coroutine's entry) may mark its
 * caller's frame pointer undefined: libunwind ends the stack at that
 * frame, and so must the fast walk. */
void xisan_test_rbp_undefined(void (*fn)(void));
__asm__(".text\n"
        ".globl xisan_test_rbp_undefined\n"
        ".type xisan_test_rbp_undefined, @function\n"
        "xisan_test_rbp_undefined:\n"
        " .cfi_startproc\n"
        " push %rbp\n"
        " .cfi_def_cfa_offset 16\n"
        " .cfi_undefined rbp\n"
        " call *%rdi\n"
        " pop %rbp\n"
        " .cfi_def_cfa_offset 8\n"
        " .cfi_same_value rbp\n"
        " ret\n"
        " .cfi_endproc\n"
        " .size xisan_test_rbp_undefined, .-xisan_test_rbp_undefined\n");

static void walk_under_trampoline(void)
{
    walk_both();
    __asm__ volatile("" ::: "memory");
}

Test(cfi, ends_where_the_frame_pointer_is_undefined)
{
    xisan_test_rbp_undefined(walk_under_trampoline);
    expect_same_stacks("rbp undefined");
    int at = index_of(fast, n_fast, call_site);
    cr_expect_leq(n_fast - at, 4, "the stack ends at the trampoline: %d frames", n_fast - at);
}

Test(cfi, a_stop_range_without_an_end_stops_nothing)
{
    void *out[MAX];
    int whole = xs_cfi_backtrace(out, MAX, 0, 0);
    cr_assert_gt(whole, 2);
    /* only [lo, hi) stops a walk: hi 0 is none, whatever lo */
    cr_expect_eq(xs_cfi_backtrace(out, MAX, 0x1000, 0), whole);
    cr_expect_eq(xs_cfi_backtrace(out, MAX, UINTPTR_MAX, 0), whole);
}

/* A handler's stack holds the kernel's signal frame, whose rule .eh_frame
 * marks as one ('S'); on an alternate stack the stack pointer is not the
 * thread's.  Either way the fast walk answers -1 and libunwind walks. */
static volatile int in_handler_result = 1;
static void handler(int sig)
{
    (void)sig;
    void *out[MAX];
    in_handler_result = xs_cfi_backtrace(out, MAX, 0, 0);
}

Test(cfi, leaves_signal_frames_to_libunwind)
{
    struct sigaction sa = {.sa_handler = handler};
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    raise(SIGUSR1);
    cr_expect_eq(in_handler_result, -1, "a signal frame: %d", in_handler_result);

    static char alt[1 << 16];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt)};
    cr_assert_eq(sigaltstack(&ss, NULL), 0);
    sa.sa_flags = SA_ONSTACK;
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    in_handler_result = 1;
    raise(SIGUSR1);
    cr_expect_eq(in_handler_result, -1, "an alternate stack: %d", in_handler_result);
}

/* A walk started from a frame further out (its return address, the stack
 * pointer after the return, the frame pointer register there: what
 * unwind.c reads off the frame-pointer chain of xisan's own frames) gives
 * the whole walk's frames from that return address on. */
static __attribute__((noinline)) int walk_from_caller(void **out, int max)
{
    /* this file is built with frame pointers: the caller's frame record */
    const uintptr_t *frame = (const uintptr_t *)__builtin_frame_address(0);
    int n = xs_cfi_backtrace_from(frame[1], (uintptr_t)frame + 16, frame[0], out, max, 0, 0);
    __asm__ volatile("" ::: "memory");
    return n;
}

Test(cfi, a_walk_from_an_outer_frame_is_the_whole_walk_from_there)
{
    void *from[MAX];
    walker_t how[2] = {walk_from_caller, fast_walk};
    void **out[2] = {from, fast};
    int n[2];
    for (volatile int i = 0; i < 2; i++) /* one call site of walk_here for both */
        n[i] = walk_here(how[i], out[i]);
    int n_from = n[0];
    n_fast = n[1];
    cr_assert_gt(n_from, 2);
    int at = index_of(fast, n_fast, (uintptr_t)from[0]);
    cr_assert_geq(at, 0, "the outer frame's return address is in the whole walk");
    cr_expect_eq(n_fast - at, n_from, "frames from there: %d and %d", n_fast - at, n_from);
    for (int i = 0; i < n_from && at + i < n_fast; i++)
        cr_expect_eq(from[i], fast[at + i], "frame %d: %p, %p", i, from[i], fast[at + i]);
    /* a stack pointer off the thread's stack leaves the walk to libunwind */
    cr_expect_eq(xs_cfi_backtrace_from((uintptr_t)from[0], 16, 0, from, MAX, 0, 0), -1);
}
