/* Standing on the boundary between extensions and libpython: each
 * extension's calls into the C API go through its own PLT, whose GOT
 * entries the dynamic linker fills with libpython's addresses.  xisan
 * points the entries of the functions in api.inc at their wrappers, in
 * every loaded object except libpython itself (whose calls to its own
 * exported functions stay as they are: neither checked nor slowed), libc,
 * the dynamic loader and xisan's own libraries.  Extensions loaded later
 * come through libpython's own call of dlopen(), whose GOT entry points at
 * a hook that patches what was loaded before the module's PyInit function
 * runs.
 *
 * Why the GOT and not symbol interposition in the preload library: an
 * interposed PyList_Append would also catch libpython's calls of its own
 * exported functions (it calls them through its PLT), and would have to
 * test its caller on every call; a GOT entry belongs to one object, so only
 * extension code pays.  Calls through a function pointer (an API function
 * whose address an extension stores, a -fno-plt build's GOT-indirect call)
 * are not redirected. */
#include "api.h"

#include "output.h"
#include "python_options.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Objects already patched (object_key), forgotten when one was unloaded. */
enum { MAX_SEEN = 1024 };
static uint64_t seen[MAX_SEEN];
static size_t n_seen;
static unsigned long long seen_subs;
static pthread_mutex_t patch_lock = PTHREAD_MUTEX_INITIALIZER;
static void *(*real_dlopen)(const char *, int);

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* With no libpython loaded, the runtime is in the main program (a
 * statically linked python). */
static bool runtime_in_main;

/* libpython, or the main program when it contains the runtime. */
static bool is_runtime(const struct dl_phdr_info *info)
{
    if (starts_with(base_name(info->dlpi_name), "libpython3"))
        return true;
    return runtime_in_main && info->dlpi_name[0] == '\0';
}

/* libpython's name as the loader has it (stable while it is loaded, and
 * it never is unloaded), left in *(const char **)name; NULL: none. */
static int find_libpython(struct dl_phdr_info *info, size_t size, void *name)
{
    (void)size;
    if (!starts_with(base_name(info->dlpi_name), "libpython3"))
        return 0;
    *(const char **)name = info->dlpi_name;
    return 1;
}

static void fork_prepare(void)
{
    pthread_mutex_lock(&patch_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&patch_lock);
}

static void fork_child(void)
{
    pthread_mutex_init(&patch_lock, NULL);
}

#if defined(__x86_64__)
#define JUMP_SLOT R_X86_64_JUMP_SLOT
#elif defined(__aarch64__)
#define JUMP_SLOT R_AARCH64_JUMP_SLOT
#else
#error "hooks/api/got.c: the PLT relocation type of this architecture is not known"
#endif

typedef struct dyn_info {
    const ElfW(Sym) *symtab;
    const char *strtab;
    const ElfW(Rela) *jmprel;
    size_t jmprel_size;
    uintptr_t relro_lo, relro_hi;
} dyn_info_t;

static uintptr_t absolute(const struct dl_phdr_info *info, ElfW(Addr) ptr)
{
    /* glibc relocates most d_ptr entries of loaded objects; the vDSO's not */
    return ptr < info->dlpi_addr ? info->dlpi_addr + ptr : ptr;
}

static bool read_dynamic(const struct dl_phdr_info *info, dyn_info_t *d)
{
    memset(d, 0, sizeof(*d));
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO) {
            d->relro_lo = info->dlpi_addr + ph->p_vaddr;
            d->relro_hi = d->relro_lo + ph->p_memsz;
        }
    }
    if (dyn == NULL)
        return false;
    bool rela = true;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB:
            d->symtab = (const ElfW(Sym) *)absolute(info, dyn->d_un.d_ptr);
            break;
        case DT_STRTAB:
            d->strtab = (const char *)absolute(info, dyn->d_un.d_ptr);
            break;
        case DT_JMPREL:
            d->jmprel = (const ElfW(Rela) *)absolute(info, dyn->d_un.d_ptr);
            break;
        case DT_PLTRELSZ:
            d->jmprel_size = dyn->d_un.d_val;
            break;
        case DT_PLTREL:
            rela = dyn->d_un.d_val == DT_RELA;
            break;
        }
    }
    return rela && d->symtab && d->strtab && d->jmprel && d->jmprel_size;
}

/* Writes `value` into the GOT slot, making a RELRO page writable for it. */
static void write_slot(const dyn_info_t *d, void **slot, void *value)
{
    uintptr_t at = (uintptr_t)slot;
    bool relro = at >= d->relro_lo && at < d->relro_hi;
    long page = sysconf(_SC_PAGESIZE);
    void *start = (void *)(at & ~(uintptr_t)(page - 1));
    if (relro && mprotect(start, (size_t)page, PROT_READ | PROT_WRITE) != 0)
        return;
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    if (relro)
        mprotect(start, (size_t)page, PROT_READ);
}

/* Points each JUMP_SLOT of `info` whose symbol `lookup` knows at what it
 * returns. */
static void patch_slots(const struct dl_phdr_info *info, void *(*lookup)(const char *))
{
    dyn_info_t d;
    if (!read_dynamic(info, &d))
        return;
    size_t n = d.jmprel_size / sizeof(ElfW(Rela));
    for (size_t i = 0; i < n; i++) {
        const ElfW(Rela) *r = &d.jmprel[i];
        if (ELF64_R_TYPE(r->r_info) != JUMP_SLOT)
            continue;
        const char *name = d.strtab + d.symtab[ELF64_R_SYM(r->r_info)].st_name;
        void *target = lookup(name);
        void **slot = (void **)(info->dlpi_addr + r->r_offset);
        if (target && *slot != target)
            write_slot(&d, slot, target);
    }
}

/* An object's identity while loaded: its load address and name. */
static uint64_t object_key(const struct dl_phdr_info *info)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)info->dlpi_addr;
    for (const char *c = info->dlpi_name; *c; c++)
        h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    return h | 1;
}

static bool seen_unlocked(uint64_t key)
{
    for (size_t i = 0; i < n_seen; i++)
        if (seen[i] == key)
            return true;
    return false;
}

static bool excluded(const struct dl_phdr_info *info)
{
    const char *base = base_name(info->dlpi_name);
    return is_runtime(info) || starts_with(base, "libxisan") || starts_with(base, "libc.") ||
           starts_with(base, "ld-linux") || starts_with(base, "linux-vdso");
}

/* Objects not patched yet.  Another thread's dlopen() may have mapped an
 * object that the loader is still relocating (dl_iterate_phdr lists it):
 * patching it then would race with the loader, which writes the same GOT
 * and re-protects its RELRO page.  So the candidates are first opened with
 * RTLD_NOLOAD, which waits for the loader and succeeds only for objects it
 * has finished; only those are patched. */
typedef struct candidate {
    char *name;
    uint64_t key;
    void *handle; /* RTLD_NOLOAD handle: the loader is done with it */
} candidate_t;

typedef struct candidates {
    candidate_t *all;
    size_t n, cap;
} candidates_t;

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    candidates_t *c = data;
    if (info->dlpi_subs != seen_subs) { /* something was unloaded: look at all again */
        seen_subs = info->dlpi_subs;
        n_seen = 0;
    }
    uint64_t key = object_key(info);
    if (excluded(info) || seen_unlocked(key) || c->n == c->cap)
        return 0;
    char *name = strdup(info->dlpi_name);
    if (name)
        c->all[c->n++] = (candidate_t){name, key, NULL};
    return 0;
}

static int patch_ready(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    candidates_t *c = data;
    uint64_t key = object_key(info);
    for (size_t i = 0; i < c->n; i++) {
        /* the main program (no name) is relocated before any code runs */
        if (c->all[i].key != key || (c->all[i].handle == NULL && info->dlpi_name[0] != '\0'))
            continue;
        patch_slots(info, xh_api_wrapper);
        if (n_seen < MAX_SEEN)
            seen[n_seen++] = key;
        break;
    }
    return 0;
}

void xh_api_patch_loaded(void)
{
    enum { MAX_ROUND = 256 };
    candidates_t c = {calloc(MAX_ROUND, sizeof(candidate_t)), 0, MAX_ROUND};
    if (c.all == NULL)
        return;
    pthread_mutex_lock(&patch_lock);
    dl_iterate_phdr(collect, &c);
    for (size_t i = 0; real_dlopen && i < c.n; i++)
        if (c.all[i].name[0] != '\0')
            c.all[i].handle = real_dlopen(c.all[i].name, RTLD_LAZY | RTLD_NOLOAD);
    dl_iterate_phdr(patch_ready, &c);
    for (size_t i = 0; i < c.n; i++)
        if (c.all[i].handle)
            dlclose(c.all[i].handle);
    pthread_mutex_unlock(&patch_lock);
    for (size_t i = 0; i < c.n; i++)
        free(c.all[i].name);
    free(c.all);
}

/* libpython loads extension modules with dlopen() (always a path with a
 * slash, so the caller's search path plays no part); what it loaded is
 * patched before the module's init function is looked up. */
static void *dlopen_hook(const char *file, int mode)
{
    void *handle = real_dlopen(file, mode);
    if (handle)
        xh_api_patch_loaded();
    return handle;
}

static void *dlopen_lookup(const char *name)
{
    return strcmp(name, "dlopen") == 0 ? (void *)dlopen_hook : NULL;
}

static int hook_runtime_dlopen(struct dl_phdr_info *info, size_t size, void *unused)
{
    (void)size;
    (void)unused;
    if (is_runtime(info))
        patch_slots(info, dlopen_lookup);
    return 0;
}

/* libpython's own calls of the functions named (through its PLT, so the
 * preload library's definitions come first) pointed at libpython's
 * definitions, for functions whose preload definition only forwards in
 * this process.  The dynamic loader's lookups (dlopen, dlsym) are made
 * outside dl_iterate_phdr, whose callbacks run under the loader's lock
 * that another thread's dlopen() takes in the other order. */
enum { MAX_BYPASSED = 4 };
static const char *bypassed[MAX_BYPASSED];
static void *bypass_target[MAX_BYPASSED];
static size_t n_bypassed;

static void *bypass_lookup(const char *name)
{
    for (size_t i = 0; i < n_bypassed; i++)
        if (strcmp(name, bypassed[i]) == 0)
            return bypass_target[i];
    return NULL;
}

static int bypass_in_runtime(struct dl_phdr_info *info, size_t size, void *name)
{
    (void)size;
    if (strcmp(info->dlpi_name, name) != 0)
        return 0;
    patch_slots(info, bypass_lookup);
    return 1;
}

void xh_api_bypass_preload(const char *const *names, size_t n)
{
    /* only a libpython: a python program's own calls use no PLT */
    const char *name = NULL;
    dl_iterate_phdr(find_libpython, &name);
    void *runtime = name ? dlopen(name, RTLD_LAZY | RTLD_NOLOAD) : NULL;
    if (runtime == NULL)
        return;
    pthread_mutex_lock(&patch_lock);
    n_bypassed = 0;
    for (size_t i = 0; i < n && n_bypassed < MAX_BYPASSED; i++) {
        void *target = dlsym(runtime, names[i]);
        if (target) {
            bypassed[n_bypassed] = names[i];
            bypass_target[n_bypassed++] = target;
        }
    }
    if (n_bypassed)
        dl_iterate_phdr(bypass_in_runtime, (void *)name);
    n_bypassed = 0;
    pthread_mutex_unlock(&patch_lock);
    dlclose(runtime);
}

void xh_api_install(void)
{
    if (!xh_opt.api_checks)
        return;
    const char *libpython = NULL;
    dl_iterate_phdr(find_libpython, &libpython);
    runtime_in_main = libpython == NULL;
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    real_dlopen = (void *(*)(const char *, int))dlsym(RTLD_DEFAULT, "dlopen");
    if (real_dlopen == NULL) {
        xs_message("warning", "cannot find dlopen: extensions loaded later are not API-checked");
    } else {
        pthread_mutex_lock(&patch_lock);
        dl_iterate_phdr(hook_runtime_dlopen, NULL);
        pthread_mutex_unlock(&patch_lock);
    }
    xh_api_patch_loaded();
}
