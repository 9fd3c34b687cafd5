/* Loaded into every process `xisan run` starts (LD_PRELOAD).  In a process
 * that runs a supported CPython it loads the matching adapter before main(),
 * so the allocator hooks are in place before the first object exists; in
 * any other process it does nothing at all. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void say(const char *msg, const char *detail)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "xisan: warning: %s%s\n", msg, detail ? detail : "");
    if (n > 0 && write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
        return;
}

__attribute__((constructor)) static void xisan_preload(void)
{
    /* Py_Version (3.11+) is the interpreter's own PY_VERSION_HEX. */
    const unsigned long *version = dlsym(RTLD_DEFAULT, "Py_Version");
    if (version == NULL)
        return;
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
    int (*activate)(void) = (int (*)(void))dlsym(adapter, "xisan_python_activate");
    if (activate == NULL || activate() != 0)
        say("checker inactive in this process: the adapter did not start", NULL);
}
