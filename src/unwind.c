/* Native stacks: captured with libunwind, symbolized with libdw. */
#include "xs.h"

#define UNW_LOCAL_ONLY
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <libunwind.h>

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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
}

static bool in_self(uintptr_t pc)
{
    for (size_t i = 0; i < self_count; i++) {
        if (pc >= self_ranges[i].lo && pc < self_ranges[i].hi)
            return true;
    }
    return false;
}

__attribute__((noinline)) size_t xs_unwind(uintptr_t *pcs, size_t max)
{
    void *raw[XS_MAX_NATIVE + 32];
    pthread_once(&self_once, init_self);
    int want = (int)(max + 32 < XS_ARRAY_LEN(raw) ? max + 32 : XS_ARRAY_LEN(raw));
    int n = unw_backtrace(raw, want);
    size_t out = 0;
    int i = 1; /* raw[0] is this function */
    while (i < n && in_self((uintptr_t)raw[i]))
        i++;
    for (; i < n && out < max; i++)
        pcs[out++] = (uintptr_t)raw[i];
    return out;
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

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr))
        name = dwarf_formstring(&attr);
    if (name == NULL && dwarf_attr_integrate(die, DW_AT_name, &attr))
        name = dwarf_formstring(&attr);
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
    if (!dwarf_attr(inlined, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &file_idx) != 0)
        return false;
    if (!dwarf_attr(inlined, DW_AT_call_line, &attr) || dwarf_formudata(&attr, &line_no) != 0)
        return false;
    if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || file_idx >= nfiles)
        return false;
    *file = dwarf_filesrc(files, file_idx, NULL, NULL);
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
        int tag = dwarf_tag(&scopes[i]);
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
    Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, addr) : NULL;
    if (m == NULL) {
        Dl_info info;
        bool ok = dladdr((void *)addr, &info) != 0;
        set_frame(&out[0], pc, ok ? base_name(info.dli_fname) : "", ok ? info.dli_sname : "",
                  NULL, 0);
        return 1;
    }
    const char *module = base_name(dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
    const char *symbol = dwfl_module_addrname(m, addr);
    Dwfl_Line *dl = dwfl_module_getsrc(m, addr);
    int line = 0;
    const char *file = dl ? dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL) : NULL;

    /* The scopes around the innermost inlined body (as eu-addr2line -i
     * finds them): each inlined subroutine continues in its caller at its
     * call site, up to the real function. */
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(m, addr, &bias);
    Dwarf_Die *scopes = NULL;
    int nscopes = cu ? dwarf_getscopes(cu, addr - bias, &scopes) : 0;
    size_t n = 0;
    int first = 0; /* the innermost inlined subroutine, lexical blocks skipped */
    while (first < nscopes && dwarf_tag(&scopes[first]) != DW_TAG_inlined_subroutine &&
           dwarf_tag(&scopes[first]) != DW_TAG_subprogram)
        first++;
    if (first < nscopes && dwarf_tag(&scopes[first]) == DW_TAG_inlined_subroutine) {
        Dwarf_Die inner;
        Dwarf_Addr dwbias;
        Dwarf *dw = dwfl_module_getdwarf(m, &dwbias);
        Dwarf_Die *chain = NULL;
        int nchain = 0;
        if (dw && dwarf_offdie(dw, dwarf_dieoffset(&scopes[first]), &inner) != NULL)
            nchain = dwarf_getscopes_die(&inner, &chain);
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

size_t xs_symbolize(const uintptr_t *pcs, size_t n, xs_native_frame_t *out, size_t max)
{
    Dwfl *dwfl = NULL;
    if (xs_opt.symbolize) {
        dwfl = dwfl_begin(&dwfl_callbacks);
        if (dwfl) {
            dwfl_report_begin(dwfl);
            if (dwfl_linux_proc_report(dwfl, getpid()) != 0 ||
                dwfl_report_end(dwfl, NULL, NULL) != 0) {
                dwfl_end(dwfl);
                dwfl = NULL;
            }
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o < max; i++)
        o += symbolize_pc(dwfl, pcs[i], out + o, max - o);
    if (dwfl)
        dwfl_end(dwfl);
    return o;
}
