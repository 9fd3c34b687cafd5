/* A fast walk of the calling thread's native stack on x86-64 Linux: each
 * frame's call-frame rule (where its caller's stack pointer, return address
 * and frame pointer are) is read once from the module's .eh_frame, cached
 * by code address in one table for all threads, and a walk is then a
 * lookup and a load or two per frame.
 *
 * libunwind (unwind.c) stays the reference and the fallback: a frame whose
 * rule this file does not read (signal trampolines, rules written as DWARF
 * expressions such as a PLT's, code without .eh_frame) or a stack pointer
 * outside the thread's stack make xs_cfi_backtrace answer -1, and
 * libunwind walks that stack instead.  Why a walker of its own: at a
 * site's first allocation, libunwind's walk costs about 150 instructions a
 * frame it has seen and 4,600 instructions and ten signal-mask system
 * calls a frame it has not, and each thread that walks keeps a 256 KiB
 * frame cache of its own (docs/performance.md).
 *
 * Rules are cached by code address for the life of the process, as
 * libunwind's caches keep them: a module unloaded with dlclose() and
 * another loaded at its addresses would be walked with the old module's
 * rules (CPython never unloads an extension module). */
#include "cfi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

/* The calling thread's stack [lo, hi), read once per thread (hi 1: not
 * known). */
static XS_TLS uintptr_t stack_lo, stack_hi;

static bool thread_stack(void)
{
    pthread_attr_t attr;
    stack_hi = 1; /* unknown: an empty stack, asked once */
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return false;
    void *addr;
    size_t size;
    bool ok = pthread_attr_getstack(&attr, &addr, &size) == 0;
    pthread_attr_destroy(&attr);
    if (!ok)
        return false;
    stack_lo = (uintptr_t)addr;
    stack_hi = (uintptr_t)addr + size;
    return true;
}

bool xs_thread_stack(uintptr_t *lo, uintptr_t *hi)
{
    if (stack_hi == 0)
        thread_stack();
    *lo = stack_lo;
    *hi = stack_hi;
    return stack_hi > 1;
}

#if defined(__x86_64__) && defined(XISAN_HAVE_DL_FIND_OBJECT)

/* A rule, packed in a word (0: this file cannot walk the frame):
 *   bits  0-31  the CFA's offset from its base register
 *   bits 32-39  where the return address is, from the CFA, in words
 *   bits 40-47  where the caller's frame pointer is, in words (0: the
 *               frame leaves it as it was)
 *   bit  48     the CFA's base is the frame pointer (rbp), not rsp
 *   bit  49     walkable
 *   bit  50     the outermost frame: its return address or its caller's
 *               frame pointer is undefined (libunwind ends a stack at
 *               either) */
#define RULE_CFA_RBP (1ull << 48)
#define RULE_WALKABLE (1ull << 49)
#define RULE_LAST (1ull << 50)

static inline int32_t rule_cfa_off(uint64_t r)
{
    return (int32_t)(uint32_t)r;
}
static inline int64_t rule_ra_off(uint64_t r)
{
    return (int64_t)(int8_t)(r >> 32) * 8;
}
static inline int64_t rule_rbp_off(uint64_t r)
{
    return (int64_t)(int8_t)(r >> 40) * 8;
}

/* ---- reading .eh_frame ------------------------------------------------ */

/* Reads stay inside the module's mapping [lo, hi). */
typedef struct reader {
    const uint8_t *p, *lo, *hi;
    bool ok;
} reader_t;

static bool avail(reader_t *r, size_t n)
{
    if (r->ok && r->p >= r->lo && (size_t)(r->hi - r->p) >= n)
        return true;
    r->ok = false;
    return false;
}

static uint64_t read_u(reader_t *r, size_t n)
{
    if (!avail(r, n))
        return 0;
    uint64_t v = 0;
    memcpy(&v, r->p, n); /* little-endian */
    r->p += n;
    return v;
}

static uint64_t read_uleb(reader_t *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; avail(r, 1); shift += 7) {
        uint8_t b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return 0;
}

static int64_t read_sleb(reader_t *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    while (avail(r, 1)) {
        uint8_t b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~0ull << shift;
            return (int64_t)v;
        }
    }
    return 0;
}

enum {
    PE_OMIT = 0xff,
    PE_ABSPTR = 0x00,
    PE_ULEB = 0x01,
    PE_UDATA2 = 0x02,
    PE_UDATA4 = 0x03,
    PE_UDATA8 = 0x04,
    PE_SLEB = 0x09,
    PE_SDATA2 = 0x0a,
    PE_SDATA4 = 0x0b,
    PE_SDATA8 = 0x0c,
    PE_PCREL = 0x10,
    PE_DATAREL = 0x30,
    PE_INDIRECT = 0x80,
};

/* A pointer encoded as `enc` says (DW_EH_PE_*); datarel is relative to
 * `data` (the .eh_frame_hdr); an indirect pointer is not followed (only
 * personality routines use one, and they are skipped). */
static uint64_t read_encoded(reader_t *r, uint8_t enc, uintptr_t data)
{
    uintptr_t at = (uintptr_t)r->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case PE_ABSPTR: v = read_u(r, 8); break;
    case PE_ULEB: v = read_uleb(r); break;
    case PE_UDATA2: v = read_u(r, 2); break;
    case PE_UDATA4: v = read_u(r, 4); break;
    case PE_UDATA8: v = read_u(r, 8); break;
    case PE_SLEB: v = (uint64_t)read_sleb(r); break;
    case PE_SDATA2: v = (uint64_t)(int64_t)(int16_t)read_u(r, 2); break;
    case PE_SDATA4: v = (uint64_t)(int64_t)(int32_t)read_u(r, 4); break;
    case PE_SDATA8: v = read_u(r, 8); break;
    default: r->ok = false; return 0;
    }
    switch (enc & 0x70) {
    case 0: break;
    case PE_PCREL: v += at; break;
    case PE_DATAREL: v += data; break;
    default: r->ok = false; return 0;
    }
    return v;
}

/* The end of the CIE or FDE whose length word r is at (r then past it);
 * NULL for an empty entry, one past the module, or 64-bit DWARF's length
 * escape (x86-64 toolchains do not write it). */
static const uint8_t *entry_end(reader_t *r)
{
    uint64_t len = read_u(r, 4);
    if (len == 0xffffffffu || len == 0 || !avail(r, len))
        return NULL;
    return r->p + len;
}

/* ---- running a frame's CFA program ------------------------------------- */

enum { DWARF_RBP = 6, DWARF_RSP = 7 }; /* x86-64 DWARF register numbers */
typedef enum { RULE_SAME, RULE_UNDEFINED, RULE_OFFSET, RULE_UNREAD } reg_kind_t;
typedef struct reg_rule {
    reg_kind_t kind;
    int64_t off;
} reg_rule_t;
typedef struct frame_state {
    uint64_t cfa_reg;
    int64_t cfa_off;
    bool cfa_unread; /* an expression */
    reg_rule_t rbp, ra;
} frame_state_t;

typedef struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    bool signal_frame, has_aug_data;
    const uint8_t *program, *end;
} cie_t;

static reg_rule_t *tracked(frame_state_t *s, const cie_t *c, uint64_t reg)
{
    if (reg == c->ra_reg)
        return &s->ra;
    return reg == DWARF_RBP ? &s->rbp : NULL;
}

enum { STATE_STACK = 8 };

/* Runs the instructions [p, end) from *loc on, up to the first one that
 * applies past `target`; `initial` is the state DW_CFA_restore goes back
 * to (NULL while running the CIE's own instructions).  False: an
 * instruction this reader does not know, or a malformed program. */
static bool run_program(reader_t *r, const uint8_t *end, const cie_t *c, frame_state_t *s,
                        const frame_state_t *initial, uint64_t *loc, uint64_t target,
                        uintptr_t data)
{
    frame_state_t saved[STATE_STACK];
    int depth = 0;
    reader_t in = *r;
    in.hi = end < in.hi ? end : in.hi;
    while (in.ok && in.p < in.hi) {
        uint8_t op = *in.p++;
        uint64_t reg, delta = 0;
        int64_t off;
        reg_rule_t *rule;
        switch (op & 0xc0) {
        case 0x40: /* advance_loc */
            delta = op & 0x3f;
            goto advance;
        case 0x80: /* offset */
            reg = op & 0x3f;
            off = (int64_t)read_uleb(&in) * c->data_align;
            goto set_offset;
        case 0xc0: /* restore */
            reg = op & 0x3f;
            goto restore;
        }
        switch (op) {
        case 0x00: /* nop */
            continue;
        case 0x01: /* set_loc */
            *loc = read_encoded(&in, c->fde_enc, data);
            if (*loc > target)
                return in.ok;
            continue;
        case 0x02: delta = read_u(&in, 1); goto advance;
        case 0x03: delta = read_u(&in, 2); goto advance;
        case 0x04: delta = read_u(&in, 4); goto advance;
        case 0x05: /* offset_extended */
            reg = read_uleb(&in);
            off = (int64_t)read_uleb(&in) * c->data_align;
            goto set_offset;
        case 0x06: /* restore_extended */
            reg = read_uleb(&in);
            goto restore;
        case 0x07: /* undefined */
        case 0x08: /* same_value */
            if ((rule = tracked(s, c, read_uleb(&in))) != NULL)
                *rule = (reg_rule_t){op == 0x07 ? RULE_UNDEFINED : RULE_SAME, 0};
            continue;
        case 0x09: /* register */
            if ((rule = tracked(s, c, read_uleb(&in))) != NULL)
                rule->kind = RULE_UNREAD;
            read_uleb(&in);
            continue;
        case 0x0a: /* remember_state */
            if (depth == STATE_STACK)
                return false;
            saved[depth++] = *s;
            continue;
        case 0x0b: /* restore_state */
            if (depth == 0)
                return false;
            *s = saved[--depth];
            continue;
        case 0x0c: /* def_cfa */
            s->cfa_reg = read_uleb(&in);
            s->cfa_off = (int64_t)read_uleb(&in);
            s->cfa_unread = false;
            continue;
        case 0x0d: /* def_cfa_register */
            s->cfa_reg = read_uleb(&in);
            continue;
        case 0x0e: /* def_cfa_offset */
            s->cfa_off = (int64_t)read_uleb(&in);
            continue;
        case 0x0f: { /* def_cfa_expression */
            uint64_t len = read_uleb(&in);
            if (avail(&in, len))
                in.p += len;
            s->cfa_unread = true;
            continue;
        }
        case 0x10:   /* expression */
        case 0x16: { /* val_expression */
            if ((rule = tracked(s, c, read_uleb(&in))) != NULL)
                rule->kind = RULE_UNREAD;
            uint64_t len = read_uleb(&in);
            if (avail(&in, len))
                in.p += len;
            continue;
        }
        case 0x11: /* offset_extended_sf */
            reg = read_uleb(&in);
            off = read_sleb(&in) * c->data_align;
            goto set_offset;
        case 0x12: /* def_cfa_sf */
            s->cfa_reg = read_uleb(&in);
            s->cfa_off = read_sleb(&in) * c->data_align;
            s->cfa_unread = false;
            continue;
        case 0x13: /* def_cfa_offset_sf */
            s->cfa_off = read_sleb(&in) * c->data_align;
            continue;
        case 0x14: /* val_offset */
        case 0x15: /* val_offset_sf */
            if ((rule = tracked(s, c, read_uleb(&in))) != NULL)
                rule->kind = RULE_UNREAD;
            if (op == 0x14)
                read_uleb(&in);
            else
                read_sleb(&in);
            continue;
        case 0x2e: /* GNU_args_size */
            read_uleb(&in);
            continue;
        case 0x2f: /* GNU_negative_offset_extended */
            reg = read_uleb(&in);
            off = -(int64_t)read_uleb(&in) * c->data_align;
            goto set_offset;
        default:
            return false;
        }
    advance:
        *loc += delta * c->code_align;
        if (*loc > target)
            return in.ok;
        continue;
    set_offset:
        if ((rule = tracked(s, c, reg)) != NULL)
            *rule = (reg_rule_t){RULE_OFFSET, off};
        continue;
    restore:
        if (initial == NULL)
            return false;
        if ((rule = tracked(s, c, reg)) != NULL)
            *rule = *tracked((frame_state_t *)initial, c, reg);
        continue;
    }
    return in.ok;
}

static bool read_cie(reader_t r, cie_t *c)
{
    const uint8_t *end = entry_end(&r);
    if (end == NULL || read_u(&r, 4) != 0) /* a CIE's id */
        return false;
    uint8_t version = (uint8_t)read_u(&r, 1);
    if (version != 1 && version != 3)
        return false;
    const char *aug = (const char *)r.p;
    size_t aug_len = strnlen(aug, (size_t)(end - r.p));
    if (aug_len == (size_t)(end - r.p))
        return false;
    r.p += aug_len + 1;
    if (strstr(aug, "eh") != NULL)
        return false;
    *c = (cie_t){.fde_enc = PE_ABSPTR};
    c->code_align = read_uleb(&r);
    c->data_align = read_sleb(&r);
    c->ra_reg = version == 1 ? read_u(&r, 1) : read_uleb(&r);
    if (c->ra_reg == DWARF_RBP || c->ra_reg == DWARF_RSP)
        return false;
    if (aug[0] == 'z') {
        c->has_aug_data = true;
        uint64_t data_len = read_uleb(&r);
        if (!avail(&r, data_len))
            return false;
        const uint8_t *data_end = r.p + data_len;
        for (const char *a = aug + 1; *a && r.ok; a++) {
            if (*a == 'R')
                c->fde_enc = (uint8_t)read_u(&r, 1);
            else if (*a == 'L')
                read_u(&r, 1);
            else if (*a == 'P')
                read_encoded(&r, (uint8_t)read_u(&r, 1) & (uint8_t)~PE_INDIRECT, 0);
            else if (*a == 'S')
                c->signal_frame = true;
            else
                break; /* the rest is skipped by its length */
        }
        r.p = data_end;
    } else if (aug[0] != '\0') {
        return false;
    }
    c->program = r.p;
    c->end = end;
    return r.ok;
}

/* The .eh_frame_hdr's binary search table: the FDE that covers `pc`. */
static const uint8_t *find_fde(const uint8_t *hdr, const uint8_t *lo, const uint8_t *hi,
                               uintptr_t pc)
{
    reader_t r = {hdr, lo, hi, true};
    uint8_t version = (uint8_t)read_u(&r, 1);
    uint8_t ptr_enc = (uint8_t)read_u(&r, 1);
    uint8_t count_enc = (uint8_t)read_u(&r, 1);
    uint8_t table_enc = (uint8_t)read_u(&r, 1);
    if (!r.ok || version != 1 || ptr_enc == PE_OMIT || count_enc == PE_OMIT ||
        table_enc != (PE_DATAREL | PE_SDATA4))
        return NULL;
    read_encoded(&r, ptr_enc, (uintptr_t)hdr);
    uint64_t count = read_encoded(&r, count_enc, (uintptr_t)hdr);
    if (!r.ok || count == 0 || count > (uint64_t)(r.hi - r.p) / 8)
        return NULL;
    const int32_t *table = (const int32_t *)(const void *)r.p;
    uintptr_t base = (uintptr_t)hdr;
    /* the last entry whose initial location is at or below pc */
    uint64_t first = 0, n = count;
    while (n > 1) {
        uint64_t half = n / 2;
        if (base + (intptr_t)table[2 * (first + half)] <= pc) {
            first += half;
            n -= half;
        } else {
            n = half;
        }
    }
    if (base + (intptr_t)table[2 * first] > pc)
        return NULL;
    return (const uint8_t *)(base + (intptr_t)table[2 * first + 1]);
}

/* The rule of the frame whose code is at `pc` (a return address minus one
 * for a caller's frame): 0 when it cannot be read here. */
static uint64_t read_rule(uintptr_t pc)
{
    struct dl_find_object obj;
    if (_dl_find_object((void *)pc, &obj) != 0 || obj.dlfo_eh_frame == NULL)
        return 0;
    const uint8_t *lo = obj.dlfo_map_start, *hi = obj.dlfo_map_end;
    const uint8_t *hdr = obj.dlfo_eh_frame;
    const uint8_t *fde = find_fde(hdr, lo, hi, pc);
    if (fde == NULL)
        return 0;
    reader_t r = {fde, lo, hi, true};
    const uint8_t *end = entry_end(&r);
    if (end == NULL)
        return 0;
    const uint8_t *cie_at = r.p;
    uint32_t cie_off = (uint32_t)read_u(&r, 4);
    if (cie_off == 0)
        return 0; /* a CIE, not an FDE */
    cie_t c;
    if (!read_cie((reader_t){cie_at - cie_off, lo, hi, true}, &c) || c.signal_frame)
        return 0;
    uint64_t begin = read_encoded(&r, c.fde_enc, (uintptr_t)hdr);
    uint64_t range = read_encoded(&r, c.fde_enc & 0x0f, 0);
    if (!r.ok || pc < begin || pc - begin >= range)
        return 0;
    if (c.has_aug_data) {
        uint64_t data_len = read_uleb(&r);
        if (!avail(&r, data_len))
            return 0;
        r.p += data_len;
    }
    frame_state_t s = {.cfa_reg = DWARF_RSP, .rbp = {RULE_SAME, 0}, .ra = {RULE_UNREAD, 0}};
    uint64_t loc = begin;
    reader_t cr = {c.program, lo, hi, true};
    if (!run_program(&cr, c.end, &c, &s, NULL, &loc, UINT64_MAX, (uintptr_t)hdr))
        return 0;
    frame_state_t initial = s;
    if (!run_program(&r, end, &c, &s, &initial, &loc, pc, (uintptr_t)hdr))
        return 0;

    if (s.cfa_unread || (s.cfa_reg != DWARF_RSP && s.cfa_reg != DWARF_RBP))
        return 0;
    if (s.ra.kind == RULE_UNDEFINED || s.rbp.kind == RULE_UNDEFINED)
        return RULE_WALKABLE | RULE_LAST;
    if (s.ra.kind != RULE_OFFSET || s.rbp.kind == RULE_UNREAD)
        return 0;
    int64_t rbp_off = s.rbp.kind == RULE_OFFSET ? s.rbp.off : 0;
    /* the packed widths: words of -128..127, an offset of 32 bits */
    if (s.cfa_off != (int32_t)s.cfa_off || s.ra.off % 8 || rbp_off % 8 ||
        s.ra.off / 8 != (int8_t)(s.ra.off / 8) || rbp_off / 8 != (int8_t)(rbp_off / 8) ||
        (s.rbp.kind == RULE_OFFSET && rbp_off == 0))
        return 0;
    return RULE_WALKABLE | (s.cfa_reg == DWARF_RBP ? RULE_CFA_RBP : 0) |
           (uint64_t)(uint8_t)(int8_t)(rbp_off / 8) << 40 |
           (uint64_t)(uint8_t)(int8_t)(s.ra.off / 8) << 32 | (uint32_t)(int32_t)s.cfa_off;
}

/* ---- the rules, cached ------------------------------------------------- */

/* Open addressing on the code address.  A slot is written once: its rule
 * first, then its key (release), so a reader that sees the key sees the
 * rule; a table that fills is copied into one twice its size and
 * published, the old one stays mapped for walks still reading it.  Only
 * the thread that holds the lock (taken with trylock, so a walk never
 * waits, in a signal handler or a forked child either) writes; a walk that
 * does not get it uses the rule it read, uncached. */
typedef struct rule_slot {
    _Atomic uintptr_t key;
    _Atomic uint64_t rule;
} rule_slot_t;
typedef struct rule_table {
    size_t mask, used;
    rule_slot_t slots[];
} rule_table_t;

static _Atomic(rule_table_t *) rules;
static pthread_mutex_t rules_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned long rules_read;

enum { FIRST_SLOTS = 4096 };

static inline size_t slot_of(uintptr_t pc, size_t mask)
{
    return (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static rule_table_t *new_table(size_t slots)
{
    void *p = mmap(NULL, sizeof(rule_table_t) + slots * sizeof(rule_slot_t),
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    rule_table_t *t = p;
    t->mask = slots - 1;
    return t;
}

static void insert(rule_table_t *t, uintptr_t pc, uint64_t rule)
{
    size_t i = slot_of(pc, t->mask);
    while (atomic_load_explicit(&t->slots[i].key, memory_order_relaxed) != 0)
        i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slots[i].rule, rule, memory_order_relaxed);
    atomic_store_explicit(&t->slots[i].key, pc, memory_order_release);
    t->used++;
}

static __attribute__((noinline)) uint64_t rule_miss(uintptr_t pc)
{
    uint64_t rule = read_rule(pc);
    atomic_fetch_add_explicit(&rules_read, 1, memory_order_relaxed);
    if (pthread_mutex_trylock(&rules_lock) != 0)
        return rule;
    rule_table_t *t = atomic_load_explicit(&rules, memory_order_relaxed);
    if (t == NULL || (t->used + 1) * 2 > t->mask + 1) {
        rule_table_t *grown = new_table(t ? (t->mask + 1) * 2 : FIRST_SLOTS);
        if (grown != NULL) {
            for (size_t i = 0; t && i <= t->mask; i++) {
                uintptr_t key = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
                if (key != 0)
                    insert(grown, key,
                           atomic_load_explicit(&t->slots[i].rule, memory_order_relaxed));
            }
            atomic_store_explicit(&rules, grown, memory_order_release);
            t = grown;
        }
    }
    if (t != NULL && (t->used + 1) * 2 <= t->mask + 1) {
        /* another thread may have cached it meanwhile: a second slot with
         * the same key and the same rule is harmless */
        insert(t, pc, rule);
    }
    pthread_mutex_unlock(&rules_lock);
    return rule;
}

static inline uint64_t rule_for(uintptr_t pc)
{
    rule_table_t *t = atomic_load_explicit(&rules, memory_order_acquire);
    if (XS_LIKELY(t != NULL)) {
        for (size_t i = slot_of(pc, t->mask);; i = (i + 1) & t->mask) {
            uintptr_t key = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
            if (key == pc)
                return atomic_load_explicit(&t->slots[i].rule, memory_order_relaxed);
            if (key == 0)
                break;
        }
    }
    return rule_miss(pc);
}

/* ---- the walk ---------------------------------------------------------- */

/* Walks on from the frame that pc is in (sp and bp its registers), writing
 * return addresses at out[n..max). */
static inline int walk_on(uintptr_t pc, uintptr_t sp, uintptr_t bp, void **out, int n, int max,
                          uintptr_t stop_lo, uintptr_t stop_hi)
{
    uintptr_t hi = stack_hi;
    uintptr_t stop_len = stop_hi ? stop_hi - stop_lo : 0;
    while (n < max) {
        uint64_t rule = rule_for(pc);
        if (XS_UNLIKELY(!(rule & RULE_WALKABLE)))
            return -1;
        if (rule & RULE_LAST)
            break;
        uintptr_t cfa = (rule & RULE_CFA_RBP ? bp : sp) + (intptr_t)rule_cfa_off(rule);
        uintptr_t ra_at = cfa + (uintptr_t)rule_ra_off(rule);
        if (cfa <= sp || cfa > hi || ra_at < sp || ra_at > hi - 8 || (ra_at & 7))
            return -1;
        if (rule_rbp_off(rule) != 0) {
            uintptr_t bp_at = cfa + (uintptr_t)rule_rbp_off(rule);
            if (bp_at < sp || bp_at > hi - 8 || (bp_at & 7))
                return -1;
            bp = *(const uintptr_t *)bp_at;
        }
        uintptr_t ra = *(const uintptr_t *)ra_at;
        sp = cfa;
        if (ra == 0)
            break;
        out[n++] = (void *)ra;
        if (ra - stop_lo < stop_len)
            break;
        pc = ra - 1; /* inside the call, which may be a function's last instruction */
    }
    return n;
}

/* Is the calling thread's stack known, and sp in it? */
static inline bool on_thread_stack(uintptr_t sp)
{
    if (XS_UNLIKELY(stack_hi == 0) && !thread_stack())
        return false;
    return sp >= stack_lo && sp < stack_hi; /* else a signal's stack, a coroutine's */
}

__attribute__((noinline)) int xs_cfi_backtrace(void **out, int max, uintptr_t stop_lo,
                                                uintptr_t stop_hi)
{
    uintptr_t pc, sp, bp;
    __asm__ volatile("lea 0(%%rip), %0\n\t"
                     "mov %%rsp, %1\n\t"
                     "mov %%rbp, %2"
                     : "=r"(pc), "=r"(sp), "=r"(bp));
    if (!on_thread_stack(sp))
        return -1;
    return walk_on(pc, sp, bp, out, 0, max, stop_lo, stop_hi);
}

int xs_cfi_backtrace_from(uintptr_t ra, uintptr_t sp, uintptr_t bp, void **out, int max,
                          uintptr_t stop_lo, uintptr_t stop_hi)
{
    if (max <= 0 || !on_thread_stack(sp))
        return max <= 0 ? 0 : -1;
    out[0] = (void *)ra;
    if (stop_hi && ra - stop_lo < stop_hi - stop_lo)
        return 1;
    return walk_on(ra - 1, sp, bp, out, 1, max, stop_lo, stop_hi);
}

unsigned long xs_cfi_rules_read(void)
{
    return atomic_load_explicit(&rules_read, memory_order_relaxed);
}

bool xs_cfi_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&rules_lock, phase);
}

#else

int xs_cfi_backtrace(void **out, int max, uintptr_t stop_lo, uintptr_t stop_hi)
{
    (void)out;
    (void)max;
    (void)stop_lo;
    (void)stop_hi;
    return -1;
}

int xs_cfi_backtrace_from(uintptr_t ra, uintptr_t sp, uintptr_t bp, void **out, int max,
                          uintptr_t stop_lo, uintptr_t stop_hi)
{
    (void)ra, (void)sp, (void)bp, (void)out, (void)max, (void)stop_lo, (void)stop_hi;
    return -1;
}

unsigned long xs_cfi_rules_read(void)
{
    return 0;
}

bool xs_cfi_fork(xs_fork_phase_t phase)
{
    (void)phase;
    return true;
}

#endif
