/* Crash triage: the record of released memory, what an address is, and the
 * deadly-signal handler in a child that really crashes (its exit status, its
 * report on stderr), also while another thread keeps the report lock, when
 * two threads crash at once and when the report itself faults. */
#include "unit.h"

#include "address.h"
#include "crash.h"
#include "released.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char child_err[64 * 1024];

/* Runs body() in a child whose stderr is captured; returns its wait status. */
static int run_child(void (*body)(void))
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        char err[256];
        cr_assert_eq(xs_options_parse("symbolize=0", &xs_opt, err, sizeof(err)), 0);
        xs_deadly_signals_install();
        body();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t got;
    while ((got = read(fds[0], child_err + len, sizeof(child_err) - 1 - len)) > 0)
        len += (size_t)got;
    child_err[len] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void null_write(void)
{
    *(volatile int *)0 = 1;
}

Test(crash, segv_is_reported_and_the_process_dies_of_it)
{
    int status = run_child(null_write);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
    cr_assert(strstr(child_err, "==ERROR: XISan: SEGV on address 0x0 (pc 0x"), "%s", child_err);
    cr_assert(strstr(child_err, "the address is a NULL pointer plus 0 bytes"), "%s", child_err);
    cr_assert(strstr(child_err, "SUMMARY: XISan: SEGV "), "%s", child_err);
}

static void raise_fpe(void)
{
    raise(SIGFPE);
}

Test(crash, a_sent_signal_has_no_fault_address)
{
    int status = run_child(raise_fpe);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGFPE, "status %#x", status);
    cr_assert(strstr(child_err, "==ERROR: XISan: FPE (pc 0x"), "%s", child_err);
    cr_assert(strstr(child_err, "SIGFPE (sent by a process) from process "), "%s", child_err);
}

static void *hold_report_lock(void *ready)
{
    xs_collect_fork(XS_FORK_PREPARE); /* takes every lock of collect.c: the report lock */
    atomic_store((_Atomic bool *)ready, true);
    pause();
    return NULL;
}

static void crash_while_report_lock_held(void)
{
    static _Atomic bool ready;
    pthread_t t;
    pthread_create(&t, NULL, hold_report_lock, &ready);
    while (!atomic_load(&ready))
        usleep(1000);
    null_write();
}

Test(crash, another_thread_keeps_the_report_lock, .timeout = 30)
{
    int status = run_child(crash_while_report_lock_held);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
    cr_assert(strstr(child_err, "==ERROR: XISan: SEGV on address 0x0"), "%s", child_err);
    cr_assert(strstr(child_err, "(a shorter report: another thread keeps one of xisan's locks)"),
              "%s", child_err);
}

static pthread_barrier_t together;

static void *crash_together(void *unused)
{
    pthread_barrier_wait(&together);
    null_write();
    return NULL;
}

static void two_threads_crash(void)
{
    pthread_barrier_init(&together, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, crash_together, NULL);
    crash_together(NULL);
}

Test(crash, two_threads_crash_at_once_one_report, .timeout = 60)
{
    int status = run_child(two_threads_crash);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
    cr_assert_eq(count(child_err, "==ERROR: XISan: SEGV"), 1, "%s", child_err);
}

static size_t faulting_stack(struct xisan_pyframe *out, char (*names)[2][XISAN_PYNAME_MAX],
                             size_t max, struct xisan_pystack_info *info)
{
    null_write();
    return 0;
}

static const struct xisan_adapter faulting_adapter = {
    .abi_version = XISAN_ABI_VERSION,
    .python_stack = faulting_stack,
};

static void report_faults(void)
{
    xs_runtime_set_adapter(&faulting_adapter);
    raise(SIGILL);
}

Test(crash, a_fault_in_the_report_hands_the_original_signal_on, .timeout = 30)
{
    int status = run_child(report_faults);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGILL, "status %#x", status);
    cr_assert(strstr(child_err, "XISan: SEGV while writing the crash report: stopping it"), "%s",
              child_err);
}

static void set_program_handler(int sig, void (*fn)(int))
{
    struct sigaction sa = {0}, old;
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    /* what sigaction() reaches through the preload library */
    cr_assert_eq(xs_deadly_sigaction(sig, &sa, &old), 0);
}

/* Like faulthandler: says so, restores the default, raises again. */
static void like_faulthandler(int sig)
{
    static const char line[] = "the program's own handler ran\n";
    write(2, line, sizeof(line) - 1);
    set_program_handler(sig, SIG_DFL);
    raise(sig);
}

static void fault_with_faulthandler(void)
{
    set_program_handler(SIGSEGV, like_faulthandler);
    null_write();
}

Test(crash, the_programs_handler_runs_first_and_the_fault_is_kept)
{
    int status = run_child(fault_with_faulthandler);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
    const char *own = strstr(child_err, "the program's own handler ran");
    const char *report = strstr(child_err, "==ERROR: XISan: SEGV on address 0x0 (pc");
    cr_assert(report && own && own < report, "%s", child_err);
    cr_assert(strstr(child_err, "SIGSEGV (address not mapped)"), "%s", child_err);
}

static volatile sig_atomic_t handled;

static void count_signal(int sig)
{
    handled++;
}

static void sent_signal_handled(void)
{
    set_program_handler(SIGABRT, count_signal);
    raise(SIGABRT);
    _exit(handled == 1 ? 7 : 8);
}

Test(crash, a_signal_the_program_handles_is_no_crash)
{
    int status = run_child(sent_signal_handled);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status %#x", status);
    cr_assert_str_eq(child_err, "");
}

static void say_returned(int sig)
{
    static const char line[] = "handler returned\n";
    write(2, line, sizeof(line) - 1);
}

static void fault_not_resolved(void)
{
    set_program_handler(SIGSEGV, say_returned);
    null_write();
}

Test(crash, a_fault_the_handler_does_not_resolve_is_reported_once, .timeout = 30)
{
    int status = run_child(fault_not_resolved);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
    cr_assert_eq(count(child_err, "==ERROR: XISan: SEGV on address 0x0"), 1, "%s", child_err);
    /* after the handler had its 64 tries */
    cr_assert_eq(count(child_err, "handler returned\n"), 64, "%s", child_err);
}

Test(released, blocks_and_ranges_explain_addresses)
{
    xs_released_reset();
    static char memory[8192] __attribute__((aligned(16)));
    uintptr_t base = (uintptr_t)memory;
    xs_released_range(base, sizeof(memory), 3, XS_RELEASED_ARENA);
    xs_released_block(memory + 256, 64, 3, 7, "Payload");
    xs_released_t r;
    cr_assert(xs_released_find(base + 256 + 24, &r));
    cr_assert_eq(r.what, XS_RELEASED_BLOCK);
    cr_assert_eq(r.start, base + 256);
    cr_assert_eq(r.owner, 3);
    cr_assert_eq(r.site, 7);
    cr_assert_str_eq(r.type, "Payload");
    /* past the block's end: the arena it sat in */
    cr_assert(xs_released_find(base + 256 + 64, &r));
    cr_assert_eq(r.what, XS_RELEASED_ARENA);
    cr_assert_eq(r.start, base);
    cr_assert_str_eq(r.type, "");
    cr_assert_not(xs_released_find(base + sizeof(memory), &r));
    /* a later block at the same address replaces the earlier one */
    xs_released_block(memory + 256, 32, 4, 9, "list");
    cr_assert(xs_released_find(base + 256, &r));
    cr_assert_eq(r.owner, 4);
    cr_assert_str_eq(r.type, "list");
}

Test(released, a_large_object_keeps_its_type_through_its_free)
{
    xs_released_reset();
    static char big[4096] __attribute__((aligned(16)));
    xs_released_block(big, sizeof(big), 2, 5, "bytes");
    xs_released_block(big, sizeof(big), 2, 5, NULL); /* the free after the destruction */
    xs_released_t r;
    cr_assert(xs_released_find((uintptr_t)big + 3000, &r));
    cr_assert_str_eq(r.type, "bytes");
    cr_assert_eq(r.site, 5);
}

Test(address, live_blocks_null_and_unknown)
{
    xs_released_reset();
    void *user = unit_new_block(100, 2);
    xs_place_t p;
    xs_place_of((uintptr_t)user + 40, 4096, &p);
    cr_assert_eq(p.kind, XS_PLACE_BLOCK);
    cr_assert_eq(p.start, (uintptr_t)user);
    cr_assert_eq(p.owner, 2);
    xs_place_of((uintptr_t)user + 100, 4096, &p); /* just past it */
    cr_assert_eq(p.kind, XS_PLACE_UNKNOWN);
    xs_place_of(0x10, 4096, &p);
    cr_assert_eq(p.kind, XS_PLACE_NULL);
    char text[256];
    xs_place_describe(&p, "", text, sizeof(text));
    cr_assert_str_eq(text, "a NULL pointer plus 16 bytes");
    xs_place_of(UINTPTR_MAX - 8, 4096, &p);
    cr_assert_eq(p.kind, XS_PLACE_UNKNOWN);
    unit_free_block(user);
}

/* A block whose tag is in its slot is found from an address inside it, and
 * not from one just past it. */
Test(address, a_slot_form_block_is_found)
{
    xs_released_reset();
    char *user = unit_new_slot_block(40, 2, 7);
    xs_place_t p;
    xs_place_of((uintptr_t)user + 39, 4096, &p);
    cr_assert_eq(p.kind, XS_PLACE_BLOCK);
    cr_assert_eq(p.start, (uintptr_t)user);
    cr_assert_eq(p.end, (uintptr_t)user + 40);
    cr_assert_eq(p.owner, 2);
    cr_assert_eq(p.site, 7);
    xs_place_of((uintptr_t)user + 40, 4096, &p);
    cr_assert_neq(p.start, (uintptr_t)user, "an address past the block");
    unit_free_slot_block(user);
}

/* A block with the short header starts 8 bytes past a 16-byte boundary;
 * an address inside it, or in its 8-byte tag, names it too. */
Test(released, a_block_8_bytes_off_16_is_found)
{
    xs_released_reset();
    static char memory[1024] __attribute__((aligned(16)));
    uintptr_t start = (uintptr_t)memory + 264; /* 8 mod 16 */
    xs_released_block(memory + 264, 24, 2, 5, "float");
    xs_released_t r;
    cr_assert(xs_released_find(start + 4, &r));
    cr_assert_eq(r.start, start);
    cr_assert_eq(r.owner, 2);
    cr_assert_str_eq(r.type, "float");
    cr_assert(xs_released_find(start - 8, &r), "its tag");
    cr_assert_eq(r.start, start);
    cr_assert_not(xs_released_find(start + 24, &r));
}

/* An ending interpreter's first 16,384 small blocks are recorded, the ones
 * it frees after them are not (their arena is, when released); the next
 * interpreter to end starts its own count. */
Test(released, an_ending_keeps_its_first_blocks)
{
    xs_released_reset();
    enum { KEPT = 16384, BLOCK = 32 };
    size_t bytes = (size_t)(KEPT + 64) * BLOCK;
    char *memory = aligned_alloc(16, bytes);
    cr_assert_not_null(memory);
    for (size_t i = 0; i < KEPT + 64; i++)
        xs_released_block(memory + i * BLOCK, BLOCK, 3, 7, "float");
    /* the 16,384th, written last in its set (the earlier ones may have
     * replaced each other in a set that filled) */
    xs_released_t r;
    cr_assert(xs_released_find((uintptr_t)(memory + (KEPT - 1) * BLOCK) + 4, &r), "block 16,384");
    cr_assert_eq(r.owner, 3);
    cr_assert_str_eq(r.type, "float");
    size_t last = (size_t)KEPT + 63;
    cr_assert_not(xs_released_find((uintptr_t)(memory + last * BLOCK) + 4, &r),
                  "a block freed after the first 16,384");
    xs_released_block(memory + last * BLOCK, BLOCK, 4, 9, "tuple");
    cr_assert(xs_released_find((uintptr_t)(memory + last * BLOCK) + 4, &r), "another ending");
    cr_assert_eq(r.owner, 4);
    cr_assert_str_eq(r.type, "tuple");
    free(memory);
    xs_released_reset();
}

/* Two interpreters ending at once each count their own blocks. */
Test(released, endings_at_once_count_their_own_blocks)
{
    xs_released_reset();
    enum { KEPT = 16384, BLOCK = 32, EACH = KEPT + 64 };
    char *a = aligned_alloc(16, (size_t)EACH * BLOCK), *b = aligned_alloc(16, (size_t)EACH * BLOCK);
    cr_assert(a && b);
    for (size_t i = 0; i < EACH; i++) {
        xs_released_block(a + i * BLOCK, BLOCK, 5, 1, "float");
        xs_released_block(b + i * BLOCK, BLOCK, 6, 2, "int");
    }
    xs_released_t r;
    cr_assert_not(xs_released_find((uintptr_t)(a + (KEPT + 10) * BLOCK) + 4, &r),
                  "interpreter 5's block past its count");
    cr_assert_not(xs_released_find((uintptr_t)(b + (KEPT + 10) * BLOCK) + 4, &r),
                  "interpreter 6's block past its count");
    free(a);
    free(b);
    xs_released_reset();
}

/* An ending past its count frees a block where an interpreter that ended
 * before had one: the old record goes (the new block would have replaced
 * it), and the arena the new one releases there later names it. */
Test(released, a_record_reused_past_the_count_is_dropped)
{
    xs_released_reset();
    enum { KEPT = 16384, BLOCK = 32 };
    char *memory = aligned_alloc(16, (size_t)(KEPT + 1) * BLOCK);
    cr_assert_not_null(memory);
    char *reused = memory + (size_t)KEPT * BLOCK;
    xs_released_block(reused, BLOCK, 7, 3, "tuple");
    xs_released_t r;
    cr_assert(xs_released_find((uintptr_t)reused + 4, &r));
    cr_assert_eq(r.owner, 7);
    for (size_t i = 0; i < KEPT; i++)
        xs_released_block(memory + i * BLOCK, BLOCK, 8, 4, "float");
    xs_released_block(reused, BLOCK, 8, 4, "float"); /* past interpreter 8's count */
    cr_assert_not(xs_released_find((uintptr_t)reused + 4, &r), "interpreter 7's stale record");
    xs_released_range((uintptr_t)memory, (size_t)(KEPT + 1) * BLOCK, 8, XS_RELEASED_ARENA);
    cr_assert(xs_released_find((uintptr_t)reused + 4, &r));
    cr_assert_eq(r.owner, 8);
    cr_assert_eq(r.what, XS_RELEASED_ARENA);
    free(memory);
    xs_released_reset();
}

/* A range another interpreter released after an ending began is newer
 * than that ending's block at its addresses; the ending's own arena is
 * not. */
Test(released, a_later_range_of_another_interpreter_wins_over_a_block)
{
    xs_released_reset();
    static char memory[4096] __attribute__((aligned(16)));
    xs_released_block(memory + 512, 64, 9, 5, "dict");
    xs_released_range((uintptr_t)memory, sizeof(memory), 9, XS_RELEASED_ARENA);
    xs_released_t r;
    cr_assert(xs_released_find((uintptr_t)memory + 520, &r));
    cr_assert_eq(r.what, XS_RELEASED_BLOCK, "its own arena says less");
    cr_assert_str_eq(r.type, "dict");
    xs_released_range((uintptr_t)memory, sizeof(memory), 10, XS_RELEASED_ARENA);
    cr_assert(xs_released_find((uintptr_t)memory + 520, &r));
    cr_assert_eq(r.what, XS_RELEASED_ARENA);
    cr_assert_eq(r.owner, 10);
    xs_released_reset();
}
