/* Symbolization of native frames with libdw (elfutils): function, file and
 * line, inlined calls as frames of their own.  libdw is loaded with
 * dlopen() at the first report, so a process that never reports does not
 * carry it (nor libelf, libz, liblzma, libbz2) in its memory. */
#include "stack.h"

#include "options.h"
#include "output.h"
#include "symbolizer_server.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

#define XS_LIBDW_FUNCTIONS(X)                                                                   \
    X(Dwfl *, dwfl_begin, (const Dwfl_Callbacks *))                                             \
    X(void, dwfl_end, (Dwfl *))                                                                 \
    X(void, dwfl_report_begin, (Dwfl *))                                                        \
    X(int, dwfl_report_end, (Dwfl *, int (*)(Dwfl_Module *, void *, const char *, Dwarf_Addr, \
                                             void *), void *))                                  \
    X(Dwfl_Module *, dwfl_report_elf, (Dwfl *, const char *, const char *, int, GElf_Addr,     \
                                       bool))                                                   \
    X(int, dwfl_linux_proc_find_elf, (Dwfl_Module *, void **, const char *, Dwarf_Addr,        \
                                      char **, Elf **))                                         \
    X(int, dwfl_standard_find_debuginfo, (Dwfl_Module *, void **, const char *, Dwarf_Addr,    \
                                          const char *, const char *, GElf_Word, char **))      \
    X(Dwfl_Module *, dwfl_addrmodule, (Dwfl *, Dwarf_Addr))                                     \
    X(const char *, dwfl_module_info, (Dwfl_Module *, void ***, Dwarf_Addr *, Dwarf_Addr *,    \
                                       Dwarf_Addr *, Dwarf_Addr *, const char **,               \
                                       const char **))                                          \
    X(const char *, dwfl_module_addrname, (Dwfl_Module *, GElf_Addr))                           \
    X(Dwfl_Line *, dwfl_module_getsrc, (Dwfl_Module *, Dwarf_Addr))                             \
    X(const char *, dwfl_lineinfo, (Dwfl_Line *, Dwarf_Addr *, int *, int *, Dwarf_Word *,     \
                                    Dwarf_Word *))                                              \
    X(Dwarf_Die *, dwfl_module_addrdie, (Dwfl_Module *, Dwarf_Addr, Dwarf_Addr *))              \
    X(Dwarf *, dwfl_module_getdwarf, (Dwfl_Module *, Dwarf_Addr *))                             \
    X(int, dwarf_getscopes, (Dwarf_Die *, Dwarf_Addr, Dwarf_Die **))                            \
    X(int, dwarf_getscopes_die, (Dwarf_Die *, Dwarf_Die **))                                    \
    X(int, dwarf_tag, (Dwarf_Die *))                                                            \
    X(Dwarf_Off, dwarf_dieoffset, (Dwarf_Die *))                                                \
    X(Dwarf_Die *, dwarf_offdie, (Dwarf *, Dwarf_Off, Dwarf_Die *))                             \
    X(Dwarf_Attribute *, dwarf_attr, (Dwarf_Die *, unsigned int, Dwarf_Attribute *))            \
    X(Dwarf_Attribute *, dwarf_attr_integrate, (Dwarf_Die *, unsigned int, Dwarf_Attribute *))  \
    X(const char *, dwarf_formstring, (Dwarf_Attribute *))                                      \
    X(int, dwarf_formudata, (Dwarf_Attribute *, Dwarf_Word *))                                  \
    X(int, dwarf_getsrcfiles, (Dwarf_Die *, Dwarf_Files **, size_t *))                          \
    X(const char *, dwarf_filesrc, (Dwarf_Files *, size_t, Dwarf_Word *, Dwarf_Word *))

static struct libdw {
#define XS_LIBDW_FIELD(ret, name, args) ret(*name) args;
    XS_LIBDW_FUNCTIONS(XS_LIBDW_FIELD)
#undef XS_LIBDW_FIELD
} dw;
static bool dw_ok;
static pthread_once_t dw_once = PTHREAD_ONCE_INIT;
static Dwfl_Callbacks dwfl_callbacks;

static void load_libdw(void)
{
    void *lib = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return;
    bool ok = true;
#define XS_LIBDW_LOAD(ret, name, args) \
    ok = ok && (*(void **)&dw.name = dlsym(lib, #name)) != NULL;
    XS_LIBDW_FUNCTIONS(XS_LIBDW_LOAD)
#undef XS_LIBDW_LOAD
    dwfl_callbacks.find_elf = dw.dwfl_linux_proc_find_elf;
    dwfl_callbacks.find_debuginfo = dw.dwfl_standard_find_debuginfo;
    dw_ok = ok;
}

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : (path ? path : "");
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}


static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dw.dwarf_attr_integrate(die, DW_AT_linkage_name, &attr))
        name = dw.dwarf_formstring(&attr);
    if (name == NULL && dw.dwarf_attr_integrate(die, DW_AT_name, &attr))
        name = dw.dwarf_formstring(&attr);
    return name;
}

/* Source file and line of an inlined call, from the inlined scope's
 * DW_AT_call_file/DW_AT_call_line. */
static bool call_site(Dwarf_Die *cu, Dwarf_Die *inlined, const char **file, int *line)
{
    Dwarf_Attribute attr;
    Dwarf_Word file_idx = 0, line_no = 0;
    Dwarf_Files *files;
    size_t nfiles;
    if (!dw.dwarf_attr(inlined, DW_AT_call_file, &attr) || dw.dwarf_formudata(&attr, &file_idx) != 0)
        return false;
    if (!dw.dwarf_attr(inlined, DW_AT_call_line, &attr) || dw.dwarf_formudata(&attr, &line_no) != 0)
        return false;
    if (dw.dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || file_idx >= nfiles)
        return false;
    *file = dw.dwarf_filesrc(files, file_idx, NULL, NULL);
    *line = (int)line_no;
    return *file != NULL;
}

static void set_frame(xs_native_frame_t *f, uintptr_t pc, const char *module, const char *fn,
                      const char *file, int line)
{
    f->pc = pc;
    copy(f->module, sizeof(f->module), module);
    copy(f->function, sizeof(f->function), fn);
    copy(f->file, sizeof(f->file), file);
    f->line = file ? line : 0;
}

/* Frames for the inlined subroutines in `scopes` (innermost first): each
 * continues in its caller at its call site, up to the real function. */
static size_t inline_frames(Dwarf_Die *cu, Dwarf_Die *scopes, int nscopes, uintptr_t pc,
                            const char *module, const char **file, int *line,
                            xs_native_frame_t *out, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < nscopes && n + 1 < max; i++) {
        int tag = dw.dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram)
            break;
        if (tag != DW_TAG_inlined_subroutine)
            continue;
        set_frame(&out[n++], pc, module, die_name(&scopes[i]), *file, *line);
        if (!call_site(cu, &scopes[i], file, line))
            *file = NULL;
    }
    return n;
}

/* One pc: its innermost inlined functions first, then the function that
 * holds them, each with its own source line.  Returns frames written. */
static size_t symbolize_pc(Dwfl *dwfl, uintptr_t pc, xs_native_frame_t *out, size_t max)
{
    uintptr_t addr = pc ? pc - 1 : 0; /* a return address: look up the call */
    Dwfl_Module *m = dwfl ? dw.dwfl_addrmodule(dwfl, addr) : NULL;
    if (m == NULL) {
        Dl_info info;
        bool ok = dladdr((void *)addr, &info) != 0;
        set_frame(&out[0], pc, ok ? base_name(info.dli_fname) : "", ok ? info.dli_sname : "",
                  NULL, 0);
        return 1;
    }
    const char *module = base_name(dw.dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
    const char *symbol = dw.dwfl_module_addrname(m, addr);
    Dwfl_Line *dl = dw.dwfl_module_getsrc(m, addr);
    int line = 0;
    const char *file = dl ? dw.dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL) : NULL;

    /* The scopes around the innermost inlined body (as eu-addr2line -i
     * finds them): each inlined subroutine continues in its caller at its
     * call site, up to the real function. */
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dw.dwfl_module_addrdie(m, addr, &bias);
    Dwarf_Die *scopes = NULL;
    int nscopes = cu ? dw.dwarf_getscopes(cu, addr - bias, &scopes) : 0;
    size_t n = 0;
    int first = 0; /* the innermost inlined subroutine, lexical blocks skipped */
    while (first < nscopes && dw.dwarf_tag(&scopes[first]) != DW_TAG_inlined_subroutine &&
           dw.dwarf_tag(&scopes[first]) != DW_TAG_subprogram)
        first++;
    if (first < nscopes && dw.dwarf_tag(&scopes[first]) == DW_TAG_inlined_subroutine) {
        Dwarf_Die inner;
        Dwarf_Addr dwbias;
        Dwarf *dwarf = dw.dwfl_module_getdwarf(m, &dwbias);
        Dwarf_Die *chain = NULL;
        int nchain = 0;
        if (dwarf && dw.dwarf_offdie(dwarf, dw.dwarf_dieoffset(&scopes[first]), &inner) != NULL)
            nchain = dw.dwarf_getscopes_die(&inner, &chain);
        const char *file0 = file;
        int line0 = line;
        n = inline_frames(cu, chain, nchain, pc, module, &file, &line, out, max);
        if (n == 0) { /* the DIE did not resolve in this module's Dwarf */
            file = file0;
            line = line0;
            n = inline_frames(cu, scopes, nscopes, pc, module, &file, &line, out, max);
        }
        free(chain);
    }
    free(scopes);
    set_frame(&out[n++], pc, module, symbol, file, line);
    return n;
}

/* libdw's data for a module is large (the line table of CPython's
 * evaluation loop alone is 11 MB; a separate debug file with compressed
 * sections, glibc's, is decompressed whole: 15 MB), so one module is open
 * at a time, the pcs of a call are symbolized module by module, and each
 * pc's frames are kept: a process's memory grows by its largest module's
 * share, not by the sum of them all, and the frames a report shows again
 * (the outer ones of every stack) are not looked up again.  All of it is
 * dropped when a module was loaded or unloaded since, and in a forked
 * child. */
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *session;
static uintptr_t session_base; /* the open module's load address */
static char session_path[PATH_MAX];
static pid_t session_pid;
static unsigned long long session_adds, session_subs;

typedef struct known_pc {
    UT_hash_handle hh;
    uintptr_t pc;
    size_t n;
    xs_native_frame_t frames[];
} known_pc_t;
static known_pc_t *known;
static size_t known_count;
enum { KNOWN_MAX = 4096 };

static int read_generation(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    unsigned long long *gen = data;
    gen[0] = info->dlpi_adds;
    gen[1] = info->dlpi_subs;
    return 1; /* the counts are the same in every entry */
}

bool xs_symbolize_fork(xs_fork_phase_t phase)
{
    return xs_mutex_fork(&session_lock, phase);
}

static void close_session_unlocked(void)
{
    if (session)
        dw.dwfl_end(session);
    session = NULL;
    session_path[0] = '\0';
}

static void forget_unlocked(void)
{
    known_pc_t *k, *tmp;
    HASH_ITER(hh, known, k, tmp) {
        HASH_DEL(known, k);
        free(k);
    }
    known_count = 0;
}

/* Drops everything when the process's modules changed. */
static void refresh_unlocked(void)
{
    unsigned long long gen[2] = {0, 0};
    dl_iterate_phdr(read_generation, gen);
    if (session_pid == getpid() && gen[0] == session_adds && gen[1] == session_subs)
        return;
    close_session_unlocked();
    forget_unlocked();
    session_pid = getpid();
    session_adds = gen[0];
    session_subs = gen[1];
}

/* The module holding `addr`: its file and load address; false if none. */
static bool module_of(uintptr_t addr, char *path, size_t len, uintptr_t *base)
{
    Dl_info info;
    struct link_map *map = NULL;
    if (dladdr1((void *)addr, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 || map == NULL)
        return false;
    *base = map->l_addr;
    if (map->l_name && map->l_name[0]) {
        snprintf(path, len, "%s", map->l_name);
        return true;
    }
    ssize_t n = readlink("/proc/self/exe", path, len - 1); /* the main program */
    if (n <= 0)
        return false;
    path[n] = '\0';
    return true;
}

/* A libdw session of one module file, loaded at `base`; NULL on failure. */
static Dwfl *open_module(const char *path, uintptr_t base)
{
    Dwfl *dwfl = dw.dwfl_begin(&dwfl_callbacks);
    if (dwfl == NULL)
        return NULL;
    dw.dwfl_report_begin(dwfl);
    if (dw.dwfl_report_elf(dwfl, base_name(path), path, -1, base, false) == NULL ||
        dw.dwfl_report_end(dwfl, NULL, NULL) != 0) {
        dw.dwfl_end(dwfl);
        return NULL;
    }
    return dwfl;
}

/* The session of the module holding `addr`, opening it (and closing the
 * previous one) when needed; NULL when there is none. */
static Dwfl *session_for_unlocked(uintptr_t addr)
{
    char path[PATH_MAX];
    uintptr_t base;
    if (!module_of(addr, path, sizeof(path), &base))
        return NULL;
    if (session && base == session_base && strcmp(path, session_path) == 0)
        return session;
    close_session_unlocked();
    Dwfl *dwfl = open_module(path, base);
    if (dwfl == NULL)
        return NULL;
    session = dwfl;
    session_base = base;
    snprintf(session_path, sizeof(session_path), "%s", path);
    return session;
}

static void remember_unlocked(uintptr_t pc, const xs_native_frame_t *frames, size_t n)
{
    if (known_count >= KNOWN_MAX)
        return;
    known_pc_t *k = malloc(sizeof(*k) + n * sizeof(frames[0]));
    if (k == NULL)
        return;
    k->pc = pc;
    k->n = n;
    memcpy(k->frames, frames, n * sizeof(frames[0]));
    HASH_ADD(hh, known, pc, sizeof(k->pc), k);
    known_count++;
}

/* The frames of the pcs of one call: pcs[i]'s at frames_of_call[i * PER_PC],
 * count[i] of them (0: not symbolized yet; a pc has at least one frame). */
enum { MAX_PCS = 128, PER_PC = 8 };
static xs_native_frame_t frames_of_call[MAX_PCS * PER_PC]; /* under session_lock */

static void symbolize_into(Dwfl *dwfl, uintptr_t pc, size_t i, size_t *count)
{
    count[i] = symbolize_pc(dwfl, pc, &frames_of_call[i * PER_PC], PER_PC);
    remember_unlocked(pc, &frames_of_call[i * PER_PC], count[i]);
}

/* Every pc of the call that lies in dwfl's module. */
static void take_module(Dwfl *dwfl, const uintptr_t *pcs, size_t n, size_t *count)
{
    for (size_t i = 0; i < n; i++) {
        if (count[i] == 0 && dw.dwfl_addrmodule(dwfl, pcs[i] ? pcs[i] - 1 : 0) != NULL)
            symbolize_into(dwfl, pcs[i], i, count);
    }
}

/* The symbolizer server's sessions (symbolizer_server.h): one per module
 * file, kept open, as the server answers every process of a run and their
 * stacks cross the same few modules (libpython, libc, the extensions);
 * the least recently used one is closed when a new module needs a slot. */
enum { SERVER_SESSIONS = 8 };
static struct server_session {
    Dwfl *dwfl;
    char path[PATH_MAX];
    struct stat file; /* a module rebuilt at the same path is another */
    unsigned long used;
} server_sessions[SERVER_SESSIONS];

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}
static unsigned long server_clock;

static Dwfl *server_session(const char *path)
{
    struct stat file;
    if (stat(path, &file) != 0)
        return NULL;
    struct server_session *victim = &server_sessions[0];
    for (size_t i = 0; i < SERVER_SESSIONS; i++) {
        struct server_session *s = &server_sessions[i];
        if (s->dwfl && strcmp(s->path, path) == 0 && same_file(&s->file, &file)) {
            s->used = ++server_clock;
            return s->dwfl;
        }
        if (s->used < victim->used)
            victim = s;
    }
    if (victim->dwfl)
        dw.dwfl_end(victim->dwfl);
    victim->dwfl = NULL;
    victim->used = ++server_clock;
    /* at the module's link address: the client sends offsets from it */
    Dwfl *dwfl = open_module(path, 0);
    if (dwfl == NULL)
        return NULL;
    victim->dwfl = dwfl;
    victim->file = file;
    snprintf(victim->path, sizeof(victim->path), "%s", path);
    return dwfl;
}

size_t xs_symbolize_file(const char *path, uintptr_t offset, xs_native_frame_t *out, size_t max)
{
    pthread_once(&dw_once, load_libdw);
    if (!dw_ok || max == 0)
        return 0;
    Dwfl *dwfl = server_session(path);
    if (dwfl == NULL || dw.dwfl_addrmodule(dwfl, offset ? offset - 1 : 0) == NULL)
        return 0;
    return symbolize_pc(dwfl, offset, out, max);
}

/* The run's symbolizer server, while it answers (XISAN_SYMBOLIZER, read
 * once per process). */
static const char *server_path;
static bool server_tried, server_down;

/* Asks the server for every pc of the call not known yet.  A pc in no
 * module gets the loader's names (as without libdw); what the server does
 * not answer (no server, one that fails, a module loaded by a relative
 * path or one it could not read) stays for libdw in this process.  Under
 * session_lock; its buffers are static, as the crash handler must not
 * allocate. */
static void server_take(const uintptr_t *pcs, size_t n, size_t *count)
{
    if (!server_tried) {
        server_tried = true;
        const char *env = getenv(XS_SYMBOLIZER_ENV);
        server_path = env && env[0] ? env : NULL;
    }
    if (server_path == NULL || server_down)
        return;
    static xs_symserver_item_t items[MAX_PCS];
    static size_t index_of[MAX_PCS];
    static char paths[16384]; /* the items' module paths, one after another */
    size_t m = 0, used = 0;
    for (size_t i = 0; i < n; i++) {
        uintptr_t base;
        char *path = paths + used;
        if (count[i] != 0)
            continue;
        if (!module_of(pcs[i] ? pcs[i] - 1 : 0, path, sizeof(paths) - used, &base)) {
            count[i] = symbolize_pc(NULL, pcs[i], &frames_of_call[i * PER_PC], PER_PC);
            continue;
        }
        size_t len = strlen(path);
        if (path[0] != '/' || strchr(path, '\n') || used + len + 1 >= sizeof(paths))
            continue;
        items[m] = (xs_symserver_item_t){.path = path, .offset = pcs[i] - base,
                                         .frames = &frames_of_call[i * PER_PC], .max = PER_PC};
        index_of[m++] = i;
        used += len + 1;
    }
    if (m == 0)
        return;
    if (!xs_symserver_query(server_path, items, m)) {
        server_down = true; /* in this process from now on */
        return;
    }
    for (size_t j = 0; j < m; j++) {
        size_t i = index_of[j];
        if (items[j].n == 0)
            continue;
        for (size_t k = 0; k < items[j].n; k++) {
            xs_native_frame_t *f = &frames_of_call[i * PER_PC + k];
            f->pc = pcs[i];
            copy(f->module, sizeof(f->module), base_name(items[j].path));
        }
        count[i] = items[j].n;
        remember_unlocked(pcs[i], &frames_of_call[i * PER_PC], count[i]);
    }
}

static size_t loader_names(const uintptr_t *pcs, size_t n, xs_native_frame_t *out, size_t max)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < max; i++)
        o += symbolize_pc(NULL, pcs[i], out + o, max - o);
    return o;
}

size_t xs_symbolize(const uintptr_t *pcs, size_t n, xs_native_frame_t *out, size_t max)
{
    if (!xs_opt.symbolize)
        return loader_names(pcs, n, out, max);
    size_t count[MAX_PCS];
    if (n > MAX_PCS)
        n = MAX_PCS;
    pthread_mutex_lock(&session_lock);
    refresh_unlocked();
    for (size_t i = 0; i < n; i++) {
        known_pc_t *k = NULL;
        HASH_FIND(hh, known, &pcs[i], sizeof(pcs[i]), k);
        count[i] = k ? (k->n < PER_PC ? k->n : PER_PC) : 0;
        if (k)
            memcpy(&frames_of_call[i * PER_PC], k->frames, count[i] * sizeof(k->frames[0]));
    }
    /* The run's server first; libdw in this process for what it leaves
     * (not under `xisan run`, symbolize_server=0, a server that does not
     * answer, a pc it cannot answer for). */
    if (xs_opt.symbolize_server)
        server_take(pcs, n, count);
    bool left = false;
    for (size_t i = 0; i < n; i++)
        left = left || count[i] == 0;
    if (left) {
        pthread_once(&dw_once, load_libdw);
        if (!dw_ok) {
            pthread_mutex_unlock(&session_lock);
            return loader_names(pcs, n, out, max);
        }
        /* the open module's pcs first, then each other module once */
        if (session)
            take_module(session, pcs, n, count);
        for (size_t i = 0; i < n; i++) {
            if (count[i] != 0)
                continue;
            Dwfl *dwfl = session_for_unlocked(pcs[i] ? pcs[i] - 1 : 0);
            symbolize_into(dwfl, pcs[i], i, count);
            if (dwfl)
                take_module(dwfl, pcs, n, count);
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o < max; i++) {
        size_t take = count[i] < max - o ? count[i] : max - o;
        memcpy(out + o, &frames_of_call[i * PER_PC], take * sizeof(out[0]));
        o += take;
    }
    pthread_mutex_unlock(&session_lock);
    return o;
}
