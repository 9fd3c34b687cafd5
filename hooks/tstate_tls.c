/* A direct read of CPython's thread-state TLS variable.  Every hook needs
 * the calling thread's thread state; PyThreadState_GetUnchecked() goes
 * through __tls_get_addr because libpython is position-independent.  When
 * libpython's TLS block is static (it is when the program links libpython
 * or is python itself), the variable sits at a fixed offset from the thread
 * pointer in every thread: find it once by looking for the current thread
 * state's value in that block, then check it against the API once in each
 * thread. */
#include "thread.h"

#include "options.h"
#include "output.h"

#include <link.h>
#include <string.h>

static _Atomic bool fast_disabled;

typedef struct search {
    PyThreadState *value;
    uintptr_t found; /* address of the one matching word */
    int matches;
} search_t;

static int search_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    search_t *s = data;
    const char *slash = strrchr(info->dlpi_name, '/');
    const char *base = slash ? slash + 1 : info->dlpi_name;
    bool main_program = info->dlpi_name[0] == '\0';
    if (!main_program && strncmp(base, "libpython3", 10) != 0)
        return 0;
    if (info->dlpi_tls_data == NULL)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_TLS)
            continue;
        PyThreadState **words = info->dlpi_tls_data;
        for (size_t k = 0; k < ph->p_memsz / sizeof(void *); k++) {
            if (words[k] == s->value) {
                s->found = (uintptr_t)&words[k];
                s->matches++;
            }
        }
    }
    return 0;
}

void xh_tstate_fast_init(void)
{
    if (xisan_python_state.tstate_offset != 0 || atomic_load(&fast_disabled))
        return;
    search_t s = {xh_tstate_api(), 0, 0};
    if (s.value == NULL)
        return;
    dl_iterate_phdr(search_module, &s);
    ptrdiff_t offset = (ptrdiff_t)(s.found - (uintptr_t)__builtin_thread_pointer());
    /* static TLS lies just below the thread pointer (x86-64 variant II) */
    if (s.matches != 1 || offset >= 0 || offset < -(ptrdiff_t)(1 << 20)) {
        atomic_store(&fast_disabled, true);
        return;
    }
    xisan_python_state.tstate_offset = offset;
}

void xh_tstate_fast_verify(void)
{
    ptrdiff_t offset = xisan_python_state.tstate_offset;
    if (offset == 0)
        return;
    PyThreadState *direct = *(PyThreadState **)((char *)__builtin_thread_pointer() + offset);
    if (direct != xh_tstate_api()) {
        atomic_store(&fast_disabled, true);
        xisan_python_state.tstate_offset = 0;
        if (xs_opt.verbosity >= 1)
            xs_message("info", "direct thread-state read disagrees with the API: off");
    }
}
