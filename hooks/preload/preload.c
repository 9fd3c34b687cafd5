/* Loaded into every process `xisan run` starts (LD_PRELOAD).  In a process
 * that runs a supported CPython it loads the matching adapter before main(),
 * so the allocator hooks are in place before the first object exists; in
 * any other process it does nothing at all. */
#include "xisan/abi.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* A warning: to stderr, or under `xisan run` to its state file, for the
 * command to print once at the end of the run (src/log.c does the same). */
static void say(const char *msg, const char *detail)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "message\txisan: warning: %s%s\n", msg,
                     detail ? detail : "");
    if (n <= 0)
        return;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    line[len - 1] = '\n'; /* a truncated line still ends its line */
    const char *state = getenv("XISAN_RUN_STATE");
    int fd = state && state[0]
                 ? open(state, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
                 : -1;
    ssize_t written = fd >= 0 ? write(fd, line, len) : write(2, line + 8, len - 8);
    (void)written;
    if (fd >= 0)
        close(fd);
}

/* Read by the inline checks of instrumented extensions (xisan/python.h);
 * defined here because this library is loaded in every process xisan runs,
 * before the program, so the thread-local can be initial-exec. */
__attribute__((visibility("default"))) struct xisan_python_state xisan_python_state;
__attribute__((visibility("default"), tls_model("initial-exec"))) __thread struct xisan_python_thread
    xisan_python_thread;

/* CPython 3.12 has no object creation/destruction hook, but libpython and
 * extensions call these two through the PLT, so a preloaded definition
 * comes first.  The 3.12 adapter fills the slots it is handed at
 * activation; until then, and in every other process, the calls go
 * straight on. */
static struct xisan_object_hooks hooks;
static void (*real_new_reference)(void *op);
static void (*real_dealloc)(void *op);

static int find_libpython(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const char *slash = strrchr(info->dlpi_name, '/');
    const char *base = slash ? slash + 1 : info->dlpi_name;
    if (strncmp(base, "libpython3", 10) != 0)
        return 0;
    snprintf(data, 4096, "%s", info->dlpi_name);
    return 1;
}

/* The definition this file shadows: the next one in the global scope, or,
 * when libpython was loaded with RTLD_LOCAL, the one inside it. */
static void *resolve_real(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    char path[4096];
    if (fn == NULL && dl_iterate_phdr(find_libpython, path)) {
        void *lib = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
        fn = lib ? dlsym(lib, name) : NULL;
    }
    return fn;
}

__attribute__((visibility("default"))) void _Py_NewReference(void *op)
{
    if (__builtin_expect(real_new_reference == NULL, 0))
        real_new_reference = (void (*)(void *))resolve_real("_Py_NewReference");
    real_new_reference(op);
    if (hooks.new_reference)
        hooks.new_reference(op, __builtin_return_address(0));
}

__attribute__((visibility("default"))) void _Py_Dealloc(void *op)
{
    if (hooks.dealloc)
        hooks.dealloc(op);
    if (__builtin_expect(real_dealloc == NULL, 0))
        real_dealloc = (void (*)(void *))resolve_real("_Py_Dealloc");
    real_dealloc(op);
}

/* CPython's typed allocation functions: each names the type of the object
 * whose memory its first PyObject_Malloc is, and libpython calls them
 * through the PLT too.  The type is left for the allocator hooks in
 * xisan_python_thread.alloc_type (hooks/short_headers.h: blocks whose
 * contents are known to need no 16-byte alignment may take the 8-byte
 * header).  X(name, parameters, arguments) */
#define XISAN_TYPED_ALLOCS(X)                                      \
    X(_PyObject_GC_New, (void *tp), (tp))                          \
    X(_PyObject_GC_NewVar, (void *tp, ssize_t n), (tp, n))         \
    X(_PyObject_New, (void *tp), (tp))                             \
    X(_PyObject_NewVar, (void *tp, ssize_t n), (tp, n))            \
    X(PyType_GenericAlloc, (void *tp, ssize_t n), (tp, n))

#define XISAN_TYPED_ALLOC(name, params, args)                                   \
    __attribute__((visibility("default"))) void *name params                   \
    {                                                                           \
        static void *(*real) params;                                           \
        if (__builtin_expect(real == NULL, 0))                                 \
            real = (void *(*)params)resolve_real(#name);                       \
        struct xisan_python_thread *t = &xisan_python_thread;                  \
        const void *outer = t->alloc_type;                                     \
        t->alloc_type = tp;                                                    \
        void *op = real args;                                                  \
        t->alloc_type = outer;                                                 \
        return op;                                                             \
    }
XISAN_TYPED_ALLOCS(XISAN_TYPED_ALLOC)
#undef XISAN_TYPED_ALLOC

/* The deadly-signal handler stays first however the program sets its own
 * (faulthandler, say): the adapter routes sigaction() of those signals to
 * the core, which calls the program's handler after its report.  glibc's
 * __sigaction is the real one, not shadowed here. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act,
                                                     struct sigaction *old)
{
    if (hooks.sigaction)
        return hooks.sigaction(sig, act, old);
    return __sigaction(sig, act, old);
}

/* signal() with glibc's BSD semantics, through the sigaction() above. */
__attribute__((visibility("default"))) sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof(act));
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, sig);
    if (sigaction(sig, &act, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* CPython's PyStatus (3.12, 3.13), returned by value. */
typedef struct py_status {
    int type;
    const char *func;
    const char *err_msg;
    int exitcode;
} py_status_t;

__attribute__((visibility("default"))) py_status_t Py_InitializeFromConfig(const void *config)
{
    static py_status_t (*real)(const void *);
    if (real == NULL)
        real = (py_status_t(*)(const void *))resolve_real("Py_InitializeFromConfig");
    if (hooks.before_initialize)
        hooks.before_initialize();
    return real(config);
}

__attribute__((visibility("default"))) void Py_EndInterpreter(void *tstate)
{
    static void (*real)(void *);
    if (real == NULL)
        real = (void (*)(void *))resolve_real("Py_EndInterpreter");
    if (hooks.before_end_interpreter)
        hooks.before_end_interpreter(tstate);
    real(tstate);
    if (hooks.after_end_interpreter)
        hooks.after_end_interpreter();
}

__attribute__((visibility("default"))) int _PyObject_DebugMallocStats(void *out)
{
    static int (*real)(void *);
    if (real == NULL)
        real = (int (*)(void *))resolve_real("_PyObject_DebugMallocStats");
    if (hooks.malloc_stats)
        return hooks.malloc_stats(real, out);
    return real(out);
}

__attribute__((visibility("default"))) const char *_PyMem_GetCurrentAllocatorName(void)
{
    static const char *(*real)(void);
    if (real == NULL)
        real = (const char *(*)(void))resolve_real("_PyMem_GetCurrentAllocatorName");
    if (hooks.allocator_name)
        return hooks.allocator_name(real);
    return real();
}

/* libunwind (xisan's unwinder) keeps a pipe it checks addresses with, by
 * writing their bytes to it; it makes a new one only when reading the old
 * one fails.  At the lowest free descriptors (3 and 4) the pipe showed up
 * in a program's list of its descriptors (test_subprocess checks a child
 * has exactly the ones it passed), and a program that closed every
 * descriptor above 2 and opened files there had libunwind read and write a
 * byte of them.  So its ends move above the descriptor limit, raised for
 * the moment of the move when the hard limit allows: there a program
 * neither looks nor opens files.  Else they go just under the limit, out
 * of the way of the low numbers programs reuse.  One thread moves at a
 * time; another making a pipe meanwhile (libunwind makes one when it
 * starts, and again only after a program closed it) keeps it where it is. */
static atomic_flag moving = ATOMIC_FLAG_INIT;

static void move_above_limit(int fds[2])
{
    if (atomic_flag_test_and_set(&moving))
        return;
    struct rlimit was;
    if (getrlimit(RLIMIT_NOFILE, &was) == 0 && was.rlim_cur != RLIM_INFINITY &&
        was.rlim_cur >= 64 && was.rlim_cur <= INT_MAX - 64) {
        rlim_t target = was.rlim_cur;
        bool raised = false;
        if (was.rlim_max == RLIM_INFINITY || was.rlim_max >= was.rlim_cur + 64) {
            struct rlimit up = {was.rlim_cur + 64, was.rlim_max};
            raised = setrlimit(RLIMIT_NOFILE, &up) == 0;
        }
        if (!raised)
            target = was.rlim_cur - 32;
        for (int i = 0; i < 2; i++) {
            int high = fcntl(fds[i], F_DUPFD_CLOEXEC, (int)target);
            if (high >= 0) {
                close(fds[i]);
                fds[i] = high;
            }
        }
        if (raised)
            setrlimit(RLIMIT_NOFILE, &was);
    }
    atomic_flag_clear(&moving);
}

/* libc's, found by the constructor: libunwind may first start in a crash
 * handler, where dlsym could wait for the loader's lock */
static int (*real_pipe2)(int *, int);

__attribute__((visibility("default"))) int pipe2(int fds[2], int flags)
{
    int (*real)(int *, int) = real_pipe2;
    if (real == NULL)
        real = real_pipe2 = (int (*)(int *, int))dlsym(RTLD_NEXT, "pipe2");
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    int result = real(fds, flags);
    Dl_info caller;
    if (result == 0 && dladdr(__builtin_return_address(0), &caller) && caller.dli_fname) {
        const char *slash = strrchr(caller.dli_fname, '/');
        if (strncmp(slash ? slash + 1 : caller.dli_fname, "libunwind", 9) == 0)
            move_above_limit(fds);
    }
    return result;
}

__attribute__((constructor)) static void xisan_preload(void)
{
    real_pipe2 = (int (*)(int *, int))dlsym(RTLD_NEXT, "pipe2");
    /* Py_Version (3.11+) is the interpreter's own PY_VERSION_HEX. */
    const unsigned long *version = dlsym(RTLD_DEFAULT, "Py_Version");
    if (version == NULL)
        return;
    real_new_reference = (void (*)(void *))resolve_real("_Py_NewReference");
    real_dealloc = (void (*)(void *))resolve_real("_Py_Dealloc");
    unsigned major = (unsigned)(*version >> 24) & 0xff, minor = (unsigned)(*version >> 16) & 0xff;
    if (major != 3 || (minor != 12 && minor != 13))
        return;
    Dl_info self;
    if (!dladdr((void *)xisan_preload, &self) || self.dli_fname == NULL)
        return;
    char path[4096];
    const char *slash = strrchr(self.dli_fname, '/');
    int dir_len = slash ? (int)(slash - self.dli_fname) : 1;
    snprintf(path, sizeof(path), "%.*s/libxisan_py3%u.so", dir_len, slash ? self.dli_fname : ".",
             minor);
    void *adapter = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (adapter == NULL) {
        say("checker inactive in this process: ", dlerror());
        return;
    }
    xisan_adapter_activate_fn activate =
        (xisan_adapter_activate_fn)dlsym(adapter, XISAN_ADAPTER_ENTRY);
    struct xisan_preload_info info = {XISAN_ABI_VERSION, *version, &hooks};
    if (activate == NULL || activate(&info) != 0)
        say("checker inactive in this process: the adapter did not start", NULL);
}
