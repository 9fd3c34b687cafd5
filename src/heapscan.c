/* Finds the live tagged blocks of given owners by scanning the process's
 * anonymous writable memory, where every allocator the hooks chain to keeps
 * its blocks (malloc heap, mmap()ed chunks and arenas).
 *
 * A header passes only when its magic is the keyed hash of the address it
 * sits at, and frees clear the magic: a copy of a header elsewhere, a stale
 * header of a freed block and random data do not pass (a 32-bit hash; the
 * owner filter comes first, so a collision also needs a plausible owner).
 * Memory is read with process_vm_readv(), so a region unmapped while the
 * scan runs gives a short read, never a fault; pages that are not resident
 * (never touched, or swapped out) are skipped without being read.  The
 * slot table's leaves are read as slots (each names the block at one of
 * two addresses, which its magic tells), not as memory holding headers;
 * the pools' arenas are walked pool by pool (src/pool.h), their tags exact. */
#include "heapscan.h"

#include "address.h"
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

enum { WINDOW = 128 << 10 }; /* bytes read at once */

typedef struct scan {
    const uint8_t *owners; /* bitmap over owner ids */
    uint32_t n_owners;
    /* bit i: some wanted owner id is i modulo 64.  Both forms keep an
     * owner id's low 6 bits in the word's low 6 bits, so one shift and
     * test passes over most words before wanted() looks closer. */
    uint64_t low_bits;
    xs_heap_visit_fn visit;
    void *arg;
    char *window;
    /* Memory not to be read for headers: the window and the slot table. */
    struct {
        uintptr_t lo, hi;
    } skip[2 + XS_SLOT_LEAVES_MAX];
    size_t n_skip;
    size_t page; /* bytes */
    size_t pages, blocks;
    int denied; /* errno of a read the kernel refused (seccomp, say) */
} scan_t;

static inline bool in_bitmap(const uint8_t *owners, uint32_t owner)
{
    return owners[owner >> 3] & (1u << (owner & 7));
}

static inline bool wanted(const scan_t *s, uint32_t owner_word)
{
    uint32_t owner = xisan_word_owner(owner_word);
    return owner < s->n_owners && in_bitmap(s->owners, owner) &&
           !(owner_word & XISAN_OWNER_QUARANTINE);
}

/* The offset of the first header at or after `off` (below `end`) whose
 * owner word's low 6 bits are a wanted owner id's (low_bits), or `end`:
 * the scan's inner loop, a load, a shift and a test a word. */
static inline size_t next_candidate(const scan_t *s, size_t off, size_t end)
{
    uint64_t low = s->low_bits;
    for (; off < end; off += sizeof(xs_header_t)) {
        uint32_t word;
        memcpy(&word, s->window + off + offsetof(xs_header_t, word), sizeof(word));
        if (XS_UNLIKELY((low >> (word & 63)) & 1))
            break;
    }
    return off;
}

/* Scan [lo, hi), both page aligned, all resident, copied into s->window. */
static void scan_resident(scan_t *s, uintptr_t lo, uintptr_t hi)
{
    uint64_t secret = xs_tag_secret; /* not reloaded a word */
    while (lo < hi) {
        size_t len = hi - lo < WINDOW ? hi - lo : WINDOW;
        struct iovec local = {s->window, len};
        struct iovec remote = {(void *)lo, len};
        ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        if (got < 0 && (errno == EPERM || errno == ENOSYS))
            s->denied = errno;
        if (got <= 0)
            return; /* unmapped meanwhile, or refused */
        s->pages += (size_t)got / s->page;
        /* a tag sits 8 bytes before its user pointer, which is 16-byte
         * aligned (long form) or 8 bytes off (short form) */
        size_t end = (size_t)got / sizeof(xs_header_t) * sizeof(xs_header_t);
        for (size_t off = next_candidate(s, 0, end); off < end;
             off = next_candidate(s, off + sizeof(xs_header_t), end)) {
            const xs_header_t *h = (const xs_header_t *)(s->window + off);
            void *user = (void *)(lo + off + sizeof(xs_header_t));
            /* the magic first: once the ended owners' ids cover every low
             * 6 bits (a test suite's hundreds of interpreters), nearly
             * every word is a candidate, and the hash rejects more for
             * less than the owner's bitmap */
            if (h->magic != xisan_block_magic(user, secret) || !wanted(s, h->word))
                continue;
            uint32_t prefix[2] = {0, 0};
            if (xs_tag_is_long(h)) {
                if (off >= sizeof(prefix))
                    memcpy(prefix, s->window + off - sizeof(prefix), sizeof(prefix));
                else if (xs_safe_read(lo + off - sizeof(prefix), prefix, sizeof(prefix)) !=
                         sizeof(prefix))
                    continue; /* before the window, and unreadable: not a block to name */
            }
            xs_block_t b = xs_tag_decode(h->word, prefix);
            size_t after = (size_t)got - off - sizeof(xs_header_t);
            s->blocks++;
            s->visit(user, &b, (const char *)(h + 1), after < b.size ? after : b.size, s->arg);
        }
        lo += (uintptr_t)got;
    }
}

/* Calls scan(s, lo, hi, arg) for the resident runs of pages of [lo, hi). */
static void resident_runs(scan_t *s, uintptr_t lo, uintptr_t hi,
                          void (*scan)(scan_t *, uintptr_t, uintptr_t, const void *),
                          const void *arg)
{
    size_t page = s->page;
    unsigned char resident[WINDOW / 4096];
    for (uintptr_t at = lo; at < hi;) {
        size_t len = hi - at < WINDOW ? hi - at : WINDOW;
        size_t n = len / page;
        if (n > sizeof(resident) || mincore((void *)at, len, resident) != 0) {
            at += len; /* unmapped meanwhile, or odd page size */
            continue;
        }
        for (size_t i = 0; i < n;) {
            if (!(resident[i] & 1)) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < n && (resident[j] & 1))
                j++;
            scan(s, at + i * page, at + j * page, arg);
            i = j;
        }
        at += len;
    }
}

static void scan_headers(scan_t *s, uintptr_t lo, uintptr_t hi, const void *arg)
{
    scan_resident(s, lo, hi);
}

/* [lo, hi) less the ranges in s->skip. */
static void scan_region(scan_t *s, uintptr_t lo, uintptr_t hi)
{
    if (s->denied || lo >= hi)
        return;
    for (size_t i = 0; i < s->n_skip; i++) {
        if (hi <= s->skip[i].lo || lo >= s->skip[i].hi)
            continue;
        scan_region(s, lo, s->skip[i].lo > lo ? s->skip[i].lo : lo);
        scan_region(s, s->skip[i].hi < hi ? s->skip[i].hi : hi, hi);
        return;
    }
    /* less the pools' arenas (1 MiB aligned), which are walked */
    uintptr_t run = lo;
    for (uintptr_t at = lo & ~(uintptr_t)(XS_ARENA_SIZE - 1); at < hi; at += XS_ARENA_SIZE) {
        if (xs_pool_of((const void *)at) == NULL)
            continue;
        if (at > run)
            resident_runs(s, run, at, scan_headers, NULL);
        run = at + XS_ARENA_SIZE;
    }
    if (run < hi)
        resident_runs(s, run, hi, scan_headers, NULL);
}

/* A block of the pools: its word is in its pool's array; read in place
 * (the arenas are xisan's, never unmapped). */
static void scan_pool_block(xs_pool_t *pool, void *block, uint32_t *word, void *arg)
{
    (void)pool;
    scan_t *s = arg;
    const xs_header_t *h = xs_pool_word_header(word);
    if (!wanted(s, h->word))
        return;
    xs_block_t b = xs_tag_read(h);
    char bytes[XS_POOL_MAX_BLOCK];
    size_t n = b.size < sizeof(bytes) ? b.size : sizeof(bytes);
    memcpy(bytes, block, n);
    s->blocks++;
    s->visit(block, &b, bytes, n, s->arg);
}

/* The resident slots [lo, hi) of a leaf: read in place (the table is
 * xisan's and never unmapped); a named block's bytes are read safely. */
static void scan_slots(scan_t *s, uintptr_t lo, uintptr_t hi, const void *arg)
{
    const xs_tag_leaf_t *leaf = arg;
    s->pages += (hi - lo) / s->page;
    for (const xs_header_t *h = (const xs_header_t *)lo; h < (const xs_header_t *)hi; h++) {
        uint32_t word = h->word;
        if (h->magic == 0 || !wanted(s, word))
            continue;
        uintptr_t user = xs_tag_slot_user(leaf->covers, (size_t)(h - leaf->slots), h->magic);
        if (user == 0)
            continue;
        xs_block_t b = xs_tag_decode(word, NULL);
        char bytes[64];
        size_t n = xs_safe_read(user, bytes, b.size);
        s->blocks++;
        s->visit((void *)user, &b, bytes, n, s->arg);
    }
}

static void skip_leaf(const xs_tag_leaf_t *leaf, void *arg)
{
    scan_t *s = arg;
    if (s->n_skip < XS_ARRAY_LEN(s->skip)) {
        s->skip[s->n_skip].lo = (uintptr_t)leaf->slots;
        s->skip[s->n_skip++].hi = (uintptr_t)(leaf->slots + XS_SLOT_LEAF_SLOTS);
    }
}

static void scan_leaf(const xs_tag_leaf_t *leaf, void *arg)
{
    resident_runs(arg, (uintptr_t)leaf->slots, (uintptr_t)(leaf->slots + XS_SLOT_LEAF_SLOTS),
                  scan_slots, leaf);
}

/* Anonymous private writable mappings: no file, the heap, or named anon. */
static bool scanned_mapping(const char *perms, const char *path)
{
    if (strncmp(perms, "rw", 2) != 0 || perms[3] != 'p')
        return false;
    return path[0] == '\0' || strcmp(path, "[heap]") == 0 || strncmp(path, "[anon:", 6) == 0;
}

static void scan_line(scan_t *s, char *line)
{
    unsigned long lo, hi;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &path_at) < 3)
        return;
    const char *path = path_at > 0 ? line + path_at : "";
    if (!scanned_mapping(perms, path))
        return;
    /* the window and the table may have been merged into neighbouring
     * mappings: scan_region leaves them out */
    scan_region(s, lo, hi);
}

size_t xs_heap_scan(const uint8_t *owners, uint32_t n_owners, xs_heap_visit_fn visit, void *arg,
                    size_t *pages_read)
{
    scan_t s = {.owners = owners, .n_owners = n_owners, .visit = visit, .arg = arg,
                .page = (size_t)sysconf(_SC_PAGESIZE)};
    for (uint32_t owner = 0; owner < n_owners; owner++)
        if (in_bitmap(owners, owner))
            s.low_bits |= 1ull << (owner & 63);
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    /* mmap, not malloc: the window is ours alone and never a heap chunk */
    s.window = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s.window == MAP_FAILED) {
        close(fd);
        return 0;
    }
    s.skip[s.n_skip].lo = (uintptr_t)s.window;
    s.skip[s.n_skip++].hi = (uintptr_t)s.window + WINDOW;
    s.skip[s.n_skip].lo = (uintptr_t)xs_tag_slots;
    s.skip[s.n_skip++].hi = (uintptr_t)(xs_tag_slots + XS_SLOT_TOP_ENTRIES);
    xs_tag_slot_leaves(skip_leaf, &s);
    /* Lines are read whole into `text`; a region is scanned as soon as its
     * line is complete (scanning adds no mappings but the window's). */
    char text[8192];
    size_t have = 0;
    for (;;) {
        ssize_t got = read(fd, text + have, sizeof(text) - 1 - have);
        if (got <= 0)
            break;
        have += (size_t)got;
        text[have] = '\0';
        char *start = text, *nl;
        while ((nl = memchr(start, '\n', have - (size_t)(start - text))) != NULL) {
            *nl = '\0';
            scan_line(&s, start);
            start = nl + 1;
        }
        have -= (size_t)(start - text);
        memmove(text, start, have);
        if (have == sizeof(text) - 1)
            have = 0; /* a line longer than the buffer: not a mapping we scan */
    }
    close(fd);
    if (!s.denied) /* the slots name blocks whose bytes could not be read either */
        xs_tag_slot_leaves(scan_leaf, &s);
    xs_pool_walk(scan_pool_block, &s);
    munmap(s.window, WINDOW);
    if (s.denied)
        xs_message("warning", "cannot scan memory for blocks of ended interpreters: "
                              "process_vm_readv: %s", strerror(s.denied));
    if (pages_read)
        *pages_read = s.pages;
    return s.blocks;
}
