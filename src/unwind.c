/* Native stacks, captured with libunwind (symbolize.c names the frames). */
#include "stack.h"

#include "cfi.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

/* Address ranges of xisan's own shared libraries (libxisan*.so), so the
 * runtime's frames can be dropped from the top of captured stacks.  They
 * are all loaded before the first stack is captured. */
typedef struct range {
    uintptr_t lo, hi;
} range_t;
static range_t self_ranges[16];
static size_t self_count;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;
/* Tests: every fast walk is compared with libunwind's (check_walk). */
static bool cross_check;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    const char *slash = strrchr(info->dlpi_name, '/');
    const char *base = slash ? slash + 1 : info->dlpi_name;
    if (strncmp(base, "libxisan", 8) != 0)
        return 0;
    for (int i = 0; i < info->dlpi_phnum && self_count < XS_ARRAY_LEN(self_ranges); i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            self_ranges[self_count++] = (range_t){lo, lo + ph->p_memsz};
        }
    }
    return 0;
}

static void init_self(void)
{
    dl_iterate_phdr(find_self, NULL);
    cross_check = getenv("XISAN_TEST_UNWIND_CROSSCHECK") != NULL;
}

/* libunwind opens a pipe when it starts (it validates the addresses it
 * reads by writing them to it) and keeps it.  It starts at its first use (a
 * stack cfi.c cannot walk, a crash, the tests' cross-check), not with the
 * runtime: a program that never needs it never has the pipe among its
 * descriptors (CPython's test_subprocess lists a child's and wants exactly
 * those it passed; the preload library moves the pipe above the descriptor
 * limit, which a hard limit equal to the soft one forbids).  In a program
 * with stdin, stdout or stderr closed the pipe took that slot, and CPython
 * took the pipe for its standard stream: the free standard slots are held
 * by /dev/null meanwhile (a program that closed one and has another thread
 * open it again at that moment gets another slot).  One thread starts it;
 * the others wait for it, but in a crash handler, which goes on (libunwind's
 * own lock orders its start) and leaves out the cache policy (not safe
 * there); a wait ends after about a second (a fork in the middle of a
 * start leaves the child's flag set). */
static atomic_bool libunwind_started;
static atomic_flag libunwind_starting = ATOMIC_FLAG_INIT;

void xs_libunwind_start(bool in_signal_handler)
{
    if (atomic_load_explicit(&libunwind_started, memory_order_acquire))
        return;
    if (atomic_flag_test_and_set(&libunwind_starting)) {
        for (int i = 0; i < 100000 && !in_signal_handler &&
                        !atomic_load_explicit(&libunwind_started, memory_order_acquire);
             i++)
            sched_yield();
        return;
    }
    int held[3], n_held = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            break;
        if (fd > STDERR_FILENO || n_held == 3) {
            close(fd);
            break;
        }
        held[n_held++] = fd;
    }
    /* libunwind's default, a global cache, blocks all signals with a
     * sigprocmask() call around each use: two syscalls per frame it has
     * not traced before.  A cache per thread needs no lock. */
    if (!in_signal_handler)
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    /* a cursor starts libunwind (and its pipe); a backtrace would also
     * make this thread's 256 KiB frame cache, which only threads whose
     * stacks cfi.c cannot walk need */
    unw_context_t context;
    unw_cursor_t cursor;
    unw_getcontext(&context);
    unw_init_local(&cursor, &context);
    while (n_held > 0)
        close(held[--n_held]);
    atomic_store_explicit(&libunwind_started, true, memory_order_release);
}

void xs_unwind_init(void)
{
    pthread_once(&self_once, init_self);
}

static bool in_self(uintptr_t pc)
{
    for (size_t i = 0; i < self_count; i++) {
        if (pc >= self_ranges[i].lo && pc < self_ranges[i].hi)
            return true;
    }
    return false;
}

/* Is pc in [lo, hi) (hi 0: an empty range)? */
static inline bool in_range(uintptr_t pc, uintptr_t lo, uintptr_t hi)
{
    return pc - lo < (hi ? hi - lo : 0);
}

/* The first frame outside xisan's libraries and libunwind's (a walk's
 * own frames differ between the two walkers). */
static int first_outside(void **raw, int n)
{
    int i = 0;
    while (i < n) {
        Dl_info info;
        if (in_self((uintptr_t)raw[i]) ||
            (dladdr(raw[i], &info) && info.dli_fname && strstr(info.dli_fname, "libunwind")))
            i++;
        else
            break;
    }
    return i;
}

/* XISAN_TEST_UNWIND_CROSSCHECK: the fast walk must give libunwind's
 * frames, or the process stops with both. */
static __attribute__((noinline)) void check_walk(void **fast, int n_fast, int want, bool rooted)
{
    void *slow[XS_MAX_NATIVE + 64];
    xs_libunwind_start(false);
    int n_slow = unw_backtrace(slow, want < (int)XS_ARRAY_LEN(slow) ? want : (int)XS_ARRAY_LEN(slow));
    int f = first_outside(fast, n_fast), s = first_outside(slow, n_slow);
    int len_f = n_fast - f, len_s = n_slow - s;
    /* a walk that stopped at `want` may hold a frame less than the other */
    bool bottom_f = n_fast < want && !rooted, bottom_s = n_slow < want;
    int common = len_f < len_s ? len_f : len_s;
    /* a walk that reached the bottom holds no fewer frames than the other */
    bool same = !(bottom_s && len_f > len_s) && !(bottom_f && len_s > len_f);
    for (int i = 0; same && i < common; i++)
        same = fast[f + i] == slow[s + i];
    if (same)
        return;
    fprintf(stderr, "xisan: unwind cross-check: fast walk differs from libunwind's\n");
    for (int i = 0; i < n_fast || i < n_slow; i++)
        fprintf(stderr, "  %2d  %18p  %18p\n", i, i < n_fast ? fast[i] : NULL,
                i < n_slow ? slow[i] : NULL);
    abort();
}

static _Atomic unsigned long slow_walks;

unsigned long xs_unwind_slow_walks(void)
{
    return atomic_load_explicit(&slow_walks, memory_order_relaxed);
}

/* The innermost frame outside xisan's libraries, found along the chain of
 * frame pointers from `fp` (xisan is built with frame pointers, so each of
 * its frames on the way holds the caller's frame pointer and the return
 * address above it): the frame's return address, the stack pointer after
 * that return and the frame pointer register there.  False when the chain
 * leaves the thread's stack or does not go outwards; the walk then starts
 * from its own frame. */
static bool past_self(uintptr_t fp, uintptr_t *ra, uintptr_t *sp, uintptr_t *bp)
{
    uintptr_t lo, hi;
    if (!xs_thread_stack(&lo, &hi))
        return false;
    for (int k = 0; k < 32; k++) {
        if (fp < lo || fp > hi - 16 || (fp & 7))
            return false;
        const uintptr_t *frame = (const uintptr_t *)fp;
        if (!in_self(frame[1])) {
            *ra = frame[1];
            *sp = fp + 16;
            *bp = frame[0];
            return true;
        }
        if (frame[0] <= fp)
            return false;
        fp = frame[0];
    }
    return false;
}

/* Up to want return addresses, innermost first, xisan's own frames first
 * of all (*first: the first outside them); the fast walk ends at a return
 * address in [stop_lo, stop_hi).  `fp`: the frame pointer of the caller. */
static inline int walk(void **raw, int want, uintptr_t stop_lo, uintptr_t stop_hi, uintptr_t fp,
                       int *first)
{
    uintptr_t ra, sp, bp;
    int n = -1;
    *first = 0;
    if (past_self(fp, &ra, &sp, &bp))
        n = xs_cfi_backtrace_from(ra, sp, bp, raw, want, stop_lo, stop_hi);
    if (n < 0) {
        n = xs_cfi_backtrace(raw, want, stop_lo, stop_hi);
        *first = 1; /* raw[0] is in the caller (or in libunwind) */
    }
    if (XS_UNLIKELY(n < 0)) {
        atomic_fetch_add_explicit(&slow_walks, 1, memory_order_relaxed);
        xs_libunwind_start(false);
        n = unw_backtrace(raw, want);
    }
    if (XS_UNLIKELY(cross_check))
        check_walk(raw, n, want, n > 0 && in_range((uintptr_t)raw[n - 1], stop_lo, stop_hi));
    while (*first < n && in_self((uintptr_t)raw[*first]))
        (*first)++;
    return n;
}

/* The embedding's interpreter loop, where a stack with an interpreted
 * stack of its own may end (xs_unwind_set_root). */
static _Atomic uintptr_t root_lo, root_hi;

/* Set once, before stacks are captured (a reader loads hi first, so a
 * range being set reads as none or as the whole new one). */
void xs_unwind_set_root(uintptr_t lo, uintptr_t hi)
{
    atomic_store(&root_hi, 0);
    atomic_store(&root_lo, lo);
    atomic_store(&root_hi, hi);
}

__attribute__((noinline)) size_t xs_unwind_to(uintptr_t *pcs, size_t max, bool to_root)
{
    void *raw[XS_MAX_NATIVE + 32];
    pthread_once(&self_once, init_self);
    uintptr_t hi = to_root ? atomic_load_explicit(&root_hi, memory_order_acquire) : 0;
    uintptr_t lo = hi ? atomic_load_explicit(&root_lo, memory_order_relaxed) : 0;
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    /* Walking a frame costs: walk `max` plus a few (xisan's own frames, on
     * top when the frame pointers could not be followed past them), and
     * walk again deeper only when that was not enough.  The fast walk ends
     * at the root by itself. */
    int want = (int)max + 8;
    for (;;) {
        want = want < (int)XS_ARRAY_LEN(raw) ? want : (int)XS_ARRAY_LEN(raw);
        int i;
        int n = walk(raw, want, lo, hi, fp, &i);
        bool more = n == want && want < (int)XS_ARRAY_LEN(raw); /* not the bottom yet */
        if (i == n && more) {
            want += 32;
            continue;
        }
        size_t out = 0;
        bool rooted = false;
        for (; i < n && out < max && !rooted; i++) {
            pcs[out++] = (uintptr_t)raw[i];
            rooted = in_range((uintptr_t)raw[i], lo, hi);
        }
        if (rooted || out == max || !more)
            return out;
        want = i + (int)(max - out) + 1;
    }
}

size_t xs_unwind(uintptr_t *pcs, size_t max)
{
    return xs_unwind_to(pcs, max, false);
}
