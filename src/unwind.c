/* Native stacks: captured with libunwind, symbolized with libdw. */
#include "xs.h"

#define UNW_LOCAL_ONLY
#include <elfutils/libdwfl.h>
#include <libunwind.h>

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Address range of the object that holds this code (xisan itself), so the
 * runtime's own frames can be dropped from the top of captured stacks. */
static uintptr_t self_lo, self_hi;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        uintptr_t hi = lo + ph->p_memsz;
        if (probe >= lo && probe < hi) {
            self_lo = lo;
            self_hi = hi;
            return 1;
        }
    }
    return 0;
}

static void init_self(void)
{
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&xs_unwind);
}

size_t xs_unwind(uintptr_t *pcs, size_t max)
{
    void *raw[XS_MAX_NATIVE + 32];
    pthread_once(&self_once, init_self);
    int want = (int)(max + 32 < XS_ARRAY_LEN(raw) ? max + 32 : XS_ARRAY_LEN(raw));
    int n = unw_backtrace(raw, want);
    size_t out = 0;
    int i = 0;
    while (i < n && (uintptr_t)raw[i] >= self_lo && (uintptr_t)raw[i] < self_hi)
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

void xs_symbolize(xs_native_frame_t *frames, size_t n)
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
    for (size_t i = 0; i < n; i++) {
        xs_native_frame_t *f = &frames[i];
        /* every captured pc is a return address: look up the call itself */
        uintptr_t pc = f->pc ? f->pc - 1 : 0;
        f->module[0] = f->function[0] = f->file[0] = '\0';
        f->line = 0;
        Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, pc) : NULL;
        if (m) {
            const char *mname = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            copy(f->module, sizeof(f->module), base_name(mname));
            copy(f->function, sizeof(f->function), dwfl_module_addrname(m, pc));
            Dwfl_Line *line = dwfl_module_getsrc(m, pc);
            int lineno = 0;
            const char *src = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
            if (src) {
                copy(f->file, sizeof(f->file), src);
                f->line = lineno;
            }
        } else {
            Dl_info info;
            if (dladdr((void *)pc, &info)) {
                copy(f->module, sizeof(f->module), base_name(info.dli_fname));
                copy(f->function, sizeof(f->function), info.dli_sname);
            }
        }
    }
    if (dwfl)
        dwfl_end(dwfl);
}
