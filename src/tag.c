/* Ownership tags: a header in front of every block the runtime allocates
 * (16 bytes, or 8 in the short form of <xisan/abi.h>), or a slot in the
 * table beside the heap (the slot form).  The magic is a keyed hash of the
 * user pointer, so a block xisan did not allocate (a static object, a
 * block from before the runtime started) does not pass for a tagged one;
 * frees clear the magic so stale tags never match either. */
#include "tag.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t xs_tag_secret = 0x9e3779b97f4a7c15ull;
_Atomic bool xs_tag_short;
_Atomic bool xs_tag_pool_on;
xs_header_t *xs_tag_slots[XS_SLOT_TOP_ENTRIES];
_Atomic bool xs_tag_slot_on;

/* The slot table: a top table of leaf pointers, one per 64 MiB of address
 * space (16 MiB of .bss), and the leaves (16 MiB reserved each), made at a
 * leaf's first slot-form block and never freed.  Both are backed a page at
 * a time as slots are written, so a leaf costs what its pages of slots
 * cost: 4 KiB per 16 KiB of heap in which slot-form blocks live.  The
 * leaves are listed for the exit scan. */
static xs_tag_leaf_t leaves[XS_SLOT_LEAVES_MAX];
static _Atomic size_t n_leaves;
static pthread_mutex_t leaves_lock = PTHREAD_MUTEX_INITIALIZER;

void xs_tag_slots_enable(void)
{
    xs_tag_slot_on = true;
}

xs_header_t *xs_tag_slot_make_slow(const void *user)
{
    uintptr_t a = (uintptr_t)user;
    if ((a >> XISAN_SLOT_ADDRESS_BITS) != 0)
        return NULL;
    size_t top = a >> XISAN_SLOT_LEAF_SHIFT;
    pthread_mutex_lock(&leaves_lock);
    if (xs_tag_slots[top] == NULL) {
        xs_header_t *slots = MAP_FAILED;
        if (n_leaves < XS_SLOT_LEAVES_MAX)
            slots = mmap(NULL, XS_SLOT_LEAF_SLOTS * sizeof(xs_header_t), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (slots != MAP_FAILED) {
            leaves[n_leaves].covers = (uintptr_t)top << XISAN_SLOT_LEAF_SHIFT;
            leaves[n_leaves].slots = slots;
            atomic_fetch_add(&n_leaves, 1);
            __atomic_store_n(&xs_tag_slots[top], slots, __ATOMIC_RELEASE);
        } else {
            /* no more leaves: from now on new blocks take headers, rather
             * than each asking again */
            xs_tag_slot_on = false;
        }
    }
    pthread_mutex_unlock(&leaves_lock);
    return xisan_block_slot(xs_tag_slots, user);
}

bool xs_tag_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&leaves_lock, phase);
}

void xs_tag_slot_leaves(void (*visit)(const xs_tag_leaf_t *leaf, void *arg), void *arg)
{
    size_t n = atomic_load(&n_leaves);
    for (size_t i = 0; i < n; i++)
        visit(&leaves[i], arg);
}

void xs_tag_init(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    }
    xs_tag_secret = s;
}

void *xisan_tag(void *raw, size_t size, xisan_owner_t owner)
{
    return raw ? xs_tag_block(raw, XISAN_LONG_HEADER, size, owner & XISAN_OWNER_MASK, 0) : NULL;
}

void *xisan_untag(void *user)
{
    if (user == NULL)
        return NULL;
    xs_header_t *h = xs_tagged_header(user);
    if (h == NULL || xs_tag_is_pool(h)) /* a pool's block is not xisan_tag()'s */
        return NULL;
    h->magic = 0;
    return xs_tag_raw(h, user);
}

xisan_owner_t xisan_owner(const void *user)
{
    const xs_header_t *h = user ? xs_tagged_header(user) : NULL;
    return h ? xs_tag_owner(h) : XISAN_UNOWNED;
}

void xisan_set_shareable(void *user, bool shareable)
{
    xs_header_t *h = user ? xs_tagged_header(user) : NULL;
    if (h == NULL)
        return;
    /* the flags sit at the same bits in both forms */
    if (shareable)
        h->word |= XISAN_OWNER_SHAREABLE;
    else
        h->word &= ~XISAN_OWNER_SHAREABLE;
}
