/* Symbolization of native pcs (src/symbolize.c): function, file and line
 * from libdw, module by module, each pc's frames kept for the next call. */
#include "unit.h"

#include "symbolizer_server.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static int call_line;

static void symbolize_on(void)
{
    xs_options_defaults(&xs_opt);
    xs_opt.symbolize = 1;
}

/* The test program's own name in frames: Criterion's workers run it under
 * another argv[0], which dladdr reports. */
static void expect_own_module(const char *module)
{
    cr_expect(strcmp(module, "unit_symbolize") == 0 || strcmp(module, "boxfort-worker") == 0,
              "module %s", module);
}

static __attribute__((noinline)) uintptr_t return_address(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

static __attribute__((noinline)) uintptr_t caller_of_return_address(void)
{
    call_line = __LINE__ + 1;
    uintptr_t pc = return_address();
    __asm__ volatile("" ::: "memory"); /* not a tail call */
    return pc;
}

/* The last frame of a pc is the function that holds it (inlined calls come
 * before it). */
static const xs_native_frame_t *outer(const xs_native_frame_t *frames, size_t n)
{
    cr_assert_gt(n, 0);
    return &frames[n - 1];
}

static void expect_same(const xs_native_frame_t *a, const xs_native_frame_t *b)
{
    cr_expect_eq(a->pc, b->pc);
    cr_expect_str_eq(a->module, b->module);
    cr_expect_str_eq(a->function, b->function);
    cr_expect_str_eq(a->file, b->file);
    cr_expect_eq(a->line, b->line);
}

Test(symbolize, function_file_and_line, .init = symbolize_on)
{
    uintptr_t pc = caller_of_return_address();
    xs_native_frame_t frames[8];
    size_t n = xs_symbolize(&pc, 1, frames, 8);
    const xs_native_frame_t *f = outer(frames, n);
    cr_expect_eq(f->pc, pc);
    expect_own_module(f->module);
    cr_expect_str_eq(f->function, "caller_of_return_address");
    const char *slash = strrchr(f->file, '/');
    cr_expect_str_eq(slash ? slash + 1 : f->file, "test_symbolize.c");
    cr_expect_eq(f->line, call_line);
}

/* pcs of two modules, interleaved: the frames come back in the pcs' order
 * however the modules are visited, and equal to one pc at a time (the
 * second call finds the kept frames). */
Test(symbolize, modules_interleaved, .init = symbolize_on)
{
    uintptr_t own = caller_of_return_address();
    void *sym = dlsym(RTLD_DEFAULT, "getpid");
    cr_assert_not_null(sym);
    uintptr_t libc = (uintptr_t)sym + 4;
    uintptr_t pcs[] = {libc, own, libc, own};
    xs_native_frame_t batch[32];
    size_t n = xs_symbolize(pcs, 4, batch, 32);
    size_t first = 0;
    for (size_t i = 0; i < 4; i++) {
        xs_native_frame_t one[8];
        size_t k = xs_symbolize(&pcs[i], 1, one, 8);
        cr_assert_leq(first + k, n, "pc %zu", i);
        for (size_t j = 0; j < k; j++)
            expect_same(&batch[first + j], &one[j]);
        first += k;
    }
    cr_expect_eq(first, n);
    cr_expect_str_eq(outer(batch, 1)->module, "libc.so.6");
    cr_expect_str_eq(batch[n - 1].function, "caller_of_return_address");
}

Test(symbolize, off_names_the_symbol_only)
{
    xs_options_defaults(&xs_opt);
    xs_opt.symbolize = 0;
    uintptr_t pc = caller_of_return_address();
    xs_native_frame_t frames[8];
    size_t n = xs_symbolize(&pc, 1, frames, 8);
    cr_assert_eq(n, 1);
    expect_own_module(frames[0].module);
    cr_expect_str_eq(frames[0].file, "");
    cr_expect_eq(frames[0].line, 0);
}

/* The run's symbolizer (symbolizer_server.c): a request over its socket
 * gets the frames this process finds itself for the same pc. */
static void *serve_one(void *arg)
{
    int listener = *(int *)arg;
    int conn = accept(listener, NULL, NULL);
    if (conn >= 0)
        xs_symserver_serve(conn);
    return NULL;
}

Test(symbolize, server_answers_as_the_process_does, .init = symbolize_on)
{
    unsetenv(XS_SYMBOLIZER_ENV); /* this process's own frames */
    uintptr_t pc = caller_of_return_address();
    xs_native_frame_t own[8];
    size_t n = xs_symbolize(&pc, 1, own, 8);

    char dir[] = "/tmp/xisan-unit-XXXXXX", path[256];
    cr_assert_not_null(mkdtemp(dir));
    int listener = xs_symserver_listen(dir, path, sizeof(path));
    cr_assert_geq(listener, 0, "%s", strerror(errno));
    pthread_t server;
    pthread_create(&server, NULL, serve_one, &listener);
    Dl_info info;
    struct link_map *map = NULL;
    cr_assert(dladdr1((void *)(pc - 1), &info, (void **)&map, RTLD_DL_LINKMAP));
    char module[PATH_MAX] = "";
    if (map->l_name[0])
        snprintf(module, sizeof(module), "%s", map->l_name);
    else
        cr_assert_gt(readlink("/proc/self/exe", module, sizeof(module) - 1), 0);
    xs_native_frame_t served[8];
    memset(served, 0, sizeof(served));
    xs_symserver_item_t item = {.path = module, .offset = pc - map->l_addr, .frames = served,
                                .max = 8};
    cr_assert(xs_symserver_query(path, &item, 1));
    pthread_join(server, NULL);
    close(listener);
    unlink(path);
    rmdir(dir);
    cr_assert_eq(item.n, n);
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(served[i].function, own[i].function);
        cr_expect_str_eq(served[i].file, own[i].file);
        cr_expect_eq(served[i].line, own[i].line);
    }
    cr_expect_str_eq(served[n - 1].function, "caller_of_return_address");
}

/* Requests it cannot serve get an empty answer, a line longer than any
 * path closes the connection, and a server that is gone is an error. */
Test(symbolize, server_refuses_bad_requests, .init = symbolize_on)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char request[] = "zz\n10 relative/path\n20 /nonexistent/module.so\n\n";
    cr_assert_eq(write(sv[0], request, sizeof(request) - 1), (ssize_t)sizeof(request) - 1);
    xs_symserver_serve(sv[1]);
    char reply[64] = "";
    ssize_t got = read(sv[0], reply, sizeof(reply) - 1);
    cr_assert_eq(got, 6);
    reply[got] = '\0';
    cr_expect_str_eq(reply, "0\n0\n0\n");
    close(sv[0]);

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    static char line[8192];
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    cr_assert_eq(write(sv[0], line, sizeof(line)), (ssize_t)sizeof(line));
    xs_symserver_serve(sv[1]);
    cr_expect_eq(read(sv[0], reply, sizeof(reply)), 0, "no reply, closed");
    close(sv[0]);

    xs_native_frame_t frames[2];
    xs_symserver_item_t item = {.path = "/bin/sh", .offset = 16, .frames = frames, .max = 2};
    cr_expect_not(xs_symserver_query("/nonexistent/xisan/socket", &item, 1));
}

/* xs_unwind_to: a stack ends at its first frame in the root, included,
 * when asked to and a root is set; else it goes on. */
static uintptr_t into_middle;
static uintptr_t unwound[XS_MAX_NATIVE];
static size_t n_unwound;

static __attribute__((noinline)) void unwind_inner(bool to_root)
{
    into_middle = (uintptr_t)__builtin_return_address(0);
    n_unwound = xs_unwind_to(unwound, XS_MAX_NATIVE, to_root);
    __asm__ volatile("" ::: "memory"); /* not a tail call */
}

static __attribute__((noinline)) void unwind_middle(bool to_root)
{
    unwind_inner(to_root);
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void unwind_outer(bool to_root)
{
    unwind_middle(to_root);
    __asm__ volatile("" ::: "memory");
}

static size_t index_of(uintptr_t pc)
{
    for (size_t i = 0; i < n_unwound; i++)
        if (unwound[i] == pc)
            return i;
    return SIZE_MAX;
}

Test(stacks, unwind_ends_at_the_root)
{
    unwind_outer(true); /* no root set: the whole stack */
    size_t at = index_of(into_middle);
    cr_assert_neq(at, SIZE_MAX, "the return address into unwind_middle is in the stack");
    size_t whole = n_unwound;
    cr_assert_gt(whole, at + 2, "frames beneath unwind_middle (the test's caller)");

    xs_unwind_set_root(into_middle, into_middle + 1);
    unwind_outer(true);
    cr_expect_eq(n_unwound, at + 1, "ends at the root's frame");
    cr_expect_eq(index_of(into_middle), at);
    unwind_outer(false); /* not asked to: the whole stack */
    cr_expect_eq(n_unwound, whole);

    xs_unwind_set_root(0, 0);
    unwind_outer(true);
    cr_expect_eq(n_unwound, whole);
}
