/* Symbolization of native pcs (src/symbolize.c): function, file and line
 * from libdw, module by module, each pc's frames kept for the next call. */
#include "unit.h"

#include <dlfcn.h>
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
