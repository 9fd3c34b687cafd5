/* Native stacks, captured with libunwind (symbolize.c names the frames). */
#include "stack.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <pthread.h>
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
    /* libunwind opens a pipe when it starts (it validates the addresses it
     * reads by writing them to it) and keeps it: in a program started with
     * stdin, stdout or stderr closed the pipe took that slot, and CPython
     * took the pipe for its standard stream.  So it starts here, with the
     * free standard slots held by /dev/null meanwhile. */
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
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    void *first[2];
    unw_backtrace(first, 2);
    while (n_held > 0)
        close(held[--n_held]);
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

/* Frames walked first when the stack may end at the root: the hooks' own
 * few, and the runtime's between an allocation and its interpreter loop,
 * which are rarely more than eight. */
enum { ROOT_WALK = 16 };

__attribute__((noinline)) size_t xs_unwind_to(uintptr_t *pcs, size_t max, bool to_root)
{
    void *raw[XS_MAX_NATIVE + 32];
    pthread_once(&self_once, init_self);
    uintptr_t hi = to_root ? atomic_load_explicit(&root_hi, memory_order_acquire) : 0;
    uintptr_t lo = atomic_load_explicit(&root_lo, memory_order_relaxed);
    /* Walking a frame costs; xisan's own frames on top are few (a hook, a
     * capture), so walk `max` plus a few (fewer when the root is likely
     * near), and walk again deeper only when that was not enough. */
    int want = (int)(hi && max + 8 > ROOT_WALK ? ROOT_WALK : max + 8);
    for (;;) {
        want = want < (int)XS_ARRAY_LEN(raw) ? want : (int)XS_ARRAY_LEN(raw);
        int n = unw_backtrace(raw, want);
        int i = 1; /* raw[0] is this function */
        while (i < n && in_self((uintptr_t)raw[i]))
            i++;
        bool more = n == want && want < (int)XS_ARRAY_LEN(raw); /* not the bottom yet */
        if (i == n && more) {
            want += 32;
            continue;
        }
        size_t out = 0;
        bool rooted = false;
        for (; i < n && out < max && !rooted; i++) {
            pcs[out++] = (uintptr_t)raw[i];
            rooted = (uintptr_t)raw[i] >= lo && (uintptr_t)raw[i] < hi;
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
