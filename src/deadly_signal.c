/* The deadly-signal handler: SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT.
 *
 * It stays first however the program sets its own handlers: under `xisan
 * run` the preload library routes sigaction() of these signals here, and
 * the program's handler is recorded, not installed.  A signal goes first to
 * that handler, which may resolve it (a handler of a signal some process
 * sent, a runtime that traps faults on purpose): then the program goes on
 * and nothing is reported.  When it cannot (faulthandler prints its
 * traceback, then raises the signal again; a handler returns from a fault
 * that comes straight back), or there is none, the crash is reported, with
 * the fault as the program's handler was handed it, and the process dies of
 * the signal's default action: the exit status is the crash's.  Without the
 * preload library a handler installed later runs first and raises the
 * signal again, and the report has the raise instead of the fault.
 *
 * What it must never do is make things worse:
 * - it runs on an alternate stack (each thread that runs interpreted code
 *   gets one), and the report itself on a stack of its own, large enough
 *   for the unwinder and the symbolizer, whatever alternate stack the
 *   thread has (faulthandler installs a small one);
 * - one crash is reported at a time: a second thread that crashes waits
 *   for the first, which ends the process;
 * - a fault inside the report prints one line and hands the original
 *   signal on;
 * - it takes no lock that may stay held: when the crashing thread was
 *   inside xisan, or another thread keeps one of its locks, the report
 *   leaves out what needs them (names, symbols, allocation sites);
 * - a watchdog ends a report that does not finish (a crash inside malloc
 *   leaves the symbolizer waiting for a lock) with the original signal;
 * - nothing is allocated through the hooked allocators. */
#include "crash.h"

#include "collect.h"
#include "log.h"
#include "options.h"
#include "registry.h"
#include "report.h"
#include "runtime.h"
#include "site.h"
#include "stack.h"
#include "suppress.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

enum {
    ALT_STACK = 64 << 10,      /* per thread: the handler's own frames */
    REPORT_STACK = 2 << 20,    /* once: the report, unwinder and symbolizer */
    WATCHDOG_SECONDS = 30,
    STACK_SCAN = 2048,         /* bytes of the crashing stack looked at for held objects */
};

/* glibc's own name for sigaction(), which the preload library does not
 * shadow: the handler's calls reach the kernel. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

static const int deadly[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
/* The action the program set for each signal, as it believes it is; the
 * report is followed by it. */
static struct sigaction program_action[XS_ARRAY_LEN(deadly)];
static _Atomic bool installed;
static char *report_stack;

static _Atomic long crashing_tid;  /* the thread reporting a crash, 0: none */
static _Atomic long aborting_tid;  /* the thread aborting after its own report */
static volatile sig_atomic_t in_report;

/* The crash being reported, in static storage: the report runs on another
 * stack and a nested fault must still reach the original signal. */
static int crash_sig;
static siginfo_t crash_info;
static ucontext_t crash_uc;
static ucontext_t report_ctx, handler_ctx;
static xs_crash_t crash_storage;
static char text_storage[64 * 1024];
static char json_storage[96 * 1024];

static long gettid_now(void)
{
    return (long)syscall(SYS_gettid);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[256];
    int n = snprintf(line, sizeof(line), "==%d==XISan: ", (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    xs_write_all(2, line, (size_t)n);
}

void xs_crash_expect_abort(void)
{
    atomic_store(&aborting_tid, gettid_now());
}

static struct sigaction *program_action_for(int sig)
{
    for (size_t i = 0; i < XS_ARRAY_LEN(deadly); i++)
        if (deadly[i] == sig)
            return &program_action[i];
    return NULL;
}

static bool is_sent(const siginfo_t *info)
{
    return info->si_code <= 0; /* SI_USER, SI_TKILL, SI_QUEUE: kill(), raise(), abort() */
}

/* The default action, raised again: returning to the faulting instruction
 * is no way to die of it once the report has run, which may have mapped
 * memory at the fault address. */
static void die_by_default(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    __sigaction(sig, &dfl, NULL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, sig);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    raise(sig);
    _exit(128 + sig);
}

static uintptr_t context_pc(const ucontext_t *uc)
{
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

static uintptr_t context_sp(const ucontext_t *uc)
{
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

static bool is_function(const struct sigaction *act)
{
    if (act->sa_flags & SA_SIGINFO)
        return act->sa_sigaction != NULL;
    return act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

static void call(const struct sigaction *act, int sig, siginfo_t *info, void *uc)
{
    if (act->sa_flags & SA_SIGINFO)
        act->sa_sigaction(sig, info, uc);
    else
        act->sa_handler(sig);
}

/* What the program's handler was handed, kept per thread (a few threads
 * at once), for the report when it raises the signal again. */
typedef struct handed {
    _Atomic long tid;
    siginfo_t info;
    ucontext_t uc;
} handed_t;
static handed_t handed[8];
static XS_TLS int handing;           /* the signal handed to the program's handler, 0: none */
static XS_TLS uintptr_t handing_frame; /* this handler's frame when it handed it */
/* The last fault the program's handler returned from, and how many times in
 * a row: the same fault coming back again and again means the handler does
 * not resolve it (without the checker the process would loop forever).  A
 * handler that resolves faults (a runtime that traps on purpose, an
 * mprotect-based write barrier) meets the same one again only now and then. */
enum { UNRESOLVED_AFTER = 64 };
static XS_TLS int last_sig;
static XS_TLS uintptr_t last_pc, last_addr;
static XS_TLS unsigned last_times;

static handed_t *handed_slot(long tid, bool claim)
{
    for (size_t i = 0; i < XS_ARRAY_LEN(handed); i++)
        if (atomic_load(&handed[i].tid) == tid)
            return &handed[i];
    for (size_t i = 0; claim && i < XS_ARRAY_LEN(handed); i++) {
        long none = 0;
        if (atomic_compare_exchange_strong(&handed[i].tid, &none, tid))
            return &handed[i];
    }
    return NULL;
}

/* The program's handler, when it has one: true when it returned (the
 * signal is resolved, or ignored), false when the crash is to be
 * reported. */
static bool hand_to_program(int sig, siginfo_t *info, ucontext_t *uc, long tid)
{
    struct sigaction *mine = program_action_for(sig);
    if (!is_function(mine))
        return !(mine->sa_flags & SA_SIGINFO) && mine->sa_handler == SIG_IGN && is_sent(info);
    uintptr_t pc = context_pc(uc), addr = (uintptr_t)info->si_addr;
    bool again = !is_sent(info) && last_sig == sig && last_pc == pc && last_addr == addr;
    if (again && last_times >= UNRESOLVED_AFTER)
        return false;
    struct sigaction act = *mine;
    if (mine->sa_flags & SA_RESETHAND) {
        memset(mine, 0, sizeof(*mine));
        mine->sa_handler = SIG_DFL;
    }
    handed_t *h = handed_slot(tid, true);
    if (h != NULL) {
        h->info = *info;
        h->uc = *uc;
    }
    handing = sig;
    handing_frame = (uintptr_t)__builtin_frame_address(0);
    call(&act, sig, info, uc);
    handing = 0;
    if (h != NULL)
        atomic_store(&h->tid, 0);
    /* it returned (a handler that jumps away never gets here) */
    last_times = again ? last_times + 1 : 1;
    last_sig = is_sent(info) ? 0 : sig;
    last_pc = pc;
    last_addr = addr;
    return true;
}

/* The program's handler raised the signal it was handed again, from
 * inside its call (a deeper frame): it could not resolve it. */
static bool raised_again(int sig, const siginfo_t *info)
{
    return handing == sig && is_sent(info) &&
           (uintptr_t)__builtin_frame_address(0) < handing_frame;
}

static void watchdog(int unused)
{
    (void)unused;
    say("the crash report did not finish in %d s: stopping it\n", WATCHDOG_SECONDS);
    die_by_default(crash_sig);
}

static void start_watchdog(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = watchdog;
    sigemptyset(&sa.sa_mask);
    __sigaction(SIGALRM, &sa, NULL);
    alarm(WATCHDOG_SECONDS);
}

/* ---- collecting ---------------------------------------------------------- */

/* The crashed thread's stack, from the interrupted context. */
static size_t unwind_context(ucontext_t *uc, uintptr_t *pcs, size_t max)
{
    unw_cursor_t cursor;
    xs_libunwind_start(true);
    if (unw_init_local2(&cursor, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0) {
        pcs[0] = context_pc(uc);
        return pcs[0] != 0;
    }
    size_t n = 0;
    do {
        unw_word_t ip;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        pcs[n++] = (uintptr_t)ip;
    } while (n < max && unw_step(&cursor) > 0);
    return n;
}

static void native_stack(xs_crash_t *c, ucontext_t *uc, bool symbolize)
{
    uintptr_t pcs[XS_MAX_NATIVE];
    size_t max = (size_t)xs_opt.stack_depth;
    size_t n = unwind_context(uc, pcs, max < XS_MAX_NATIVE ? max : XS_MAX_NATIVE);
    if (n == 0)
        return;
    if (!symbolize) {
        for (size_t i = 0; i < n; i++) {
            memset(&c->native[i], 0, sizeof(c->native[i]));
            c->native[i].pc = pcs[i];
        }
        c->n_native = n;
        return;
    }
    /* frame #0 is where the fault happened, not a return address: the
     * symbolizer looks up pc - 1 */
    pcs[0] += 1;
    c->n_native = xs_symbolize(pcs, n, c->native, XS_MAX_NATIVE);
    if (c->n_native > 0)
        c->native[0].pc -= 1;
}

static void interp_name(uint32_t owner, bool locks, char *out, size_t len)
{
    if (locks)
        xs_interp_name(owner, out, len);
    else if (owner == XISAN_UNOWNED)
        snprintf(out, len, "none");
    else
        snprintf(out, len, "interpreter %u", owner - 1);
}

/* "interpreter 1", or "interpreter 0 (main)" when it has another name. */
static void owner_label(uint32_t owner, bool locks, char *out, size_t len)
{
    char name[64], plain[32];
    interp_name(owner, locks, name, sizeof(name));
    snprintf(plain, sizeof(plain), "interpreter %ld", xs_interp_number(owner));
    xs_buf_t b;
    xs_buf_init(&b, out, len);
    if (strcmp(name, plain) == 0)
        xs_buf_puts(&b, plain);
    else
        xs_buf_printf(&b, "%s (%s)", plain, name);
}

/* Whose is the memory a value points into, when it is worth telling: a
 * block of another interpreter than the crashing thread's, or of an ended
 * one, or memory an interpreter gave back when it ended. */
static bool worth_telling(const xs_place_t *p, uint32_t current)
{
    switch (p->kind) {
    case XS_PLACE_BLOCK:
    case XS_PLACE_QUARANTINED:
        if (p->owner_ended || p->kind == XS_PLACE_QUARANTINED)
            return true;
        /* a thread outside every interpreter (its GIL released) holds
         * whatever it last worked on: nothing to tell by owner */
        if (p->owner == XISAN_UNOWNED || p->owner == current || current == XISAN_UNOWNED)
            return false;
        return !(xs_interp_shares_heap(p->owner) && xs_interp_shares_heap(current));
    case XS_PLACE_RELEASED:
        return p->owner_ended;
    case XS_PLACE_UNKNOWN:
    case XS_PLACE_NULL:
        return false;
    }
    return false;
}

static void note_held(xs_crash_t *c, const char *where, uintptr_t value, bool locks)
{
    if (c->n_held >= XS_CRASH_HELD_MAX || value < 65536 || (value & 7))
        return;
    xs_place_t p;
    xs_place_of(value, 256, &p);
    if (!worth_telling(&p, c->current))
        return;
    for (size_t i = 0; i < c->n_held; i++)
        if (c->held[i].place.start == p.start)
            return;
    xs_crash_held_t *h = &c->held[c->n_held++];
    snprintf(h->where, sizeof(h->where), "%s", where);
    h->value = value;
    h->place = p;
    owner_label(p.owner, locks, h->owner_name, sizeof(h->owner_name));
    h->alloc_site[0] = '\0';
    if (locks && p.site)
        xs_site_describe(p.site, h->alloc_site, sizeof(h->alloc_site));
}

static void held_values(xs_crash_t *c, const ucontext_t *uc, bool locks)
{
#if defined(__x86_64__)
    static const struct {
        int reg;
        const char *name;
    } regs[] = {{REG_RAX, "rax"}, {REG_RBX, "rbx"}, {REG_RCX, "rcx"}, {REG_RDX, "rdx"},
                {REG_RSI, "rsi"}, {REG_RDI, "rdi"}, {REG_RBP, "rbp"}, {REG_R8, "r8"},
                {REG_R9, "r9"},   {REG_R10, "r10"}, {REG_R11, "r11"}, {REG_R12, "r12"},
                {REG_R13, "r13"}, {REG_R14, "r14"}, {REG_R15, "r15"}};
    for (size_t i = 0; i < XS_ARRAY_LEN(regs); i++)
        note_held(c, regs[i].name, (uintptr_t)uc->uc_mcontext.gregs[regs[i].reg], locks);
#elif defined(__aarch64__)
    for (int i = 0; i < 31; i++) {
        char name[8];
        snprintf(name, sizeof(name), "x%d", i);
        note_held(c, name, (uintptr_t)uc->uc_mcontext.regs[i], locks);
    }
#endif
    uintptr_t words[STACK_SCAN / sizeof(uintptr_t)];
    size_t got = xs_safe_read(c->sp, words, sizeof(words)) / sizeof(uintptr_t);
    for (size_t i = 0; i < got; i++) {
        char where[32];
        snprintf(where, sizeof(where), "stack sp+0x%zx", i * sizeof(uintptr_t));
        note_held(c, where, words[i], locks);
    }
}

static void explain_fault(xs_crash_t *c, bool locks)
{
    xs_place_of(c->fault_address, 4096, &c->fault);
    owner_label(c->fault.owner, locks, c->fault_owner_name, sizeof(c->fault_owner_name));
    if (!locks || c->fault.site == 0 || c->fault.kind == XS_PLACE_UNKNOWN ||
        c->fault.kind == XS_PLACE_NULL)
        return;
    size_t py_max = (size_t)xs_opt.python_stack_depth;
    c->n_alloc_python = xs_site_stacks(c->fault.site, c->alloc_native, &c->n_alloc_native,
                                       c->alloc_python,
                                       py_max < XS_MAX_PYTHON ? py_max : XS_MAX_PYTHON);
}

/* A crash inside a function that crashes on purpose (the adapter's list):
 * its name. */
static const char *deliberate(const xs_crash_t *c)
{
    const char *const *names = xs_adapter()->deliberate_crashes;
    for (size_t i = 0; names && i < c->n_native && i < 8; i++) {
        const char *fn = c->native[i].function;
        for (const char *const *n = names; *n; n++) {
            size_t len = strlen(*n);
            if (strncmp(fn, *n, len) == 0 && (fn[len] == '\0' || fn[len] == '.'))
                return *n;
        }
    }
    return NULL;
}

static uint32_t current_owner(void)
{
    const struct xisan_adapter *a = xs_adapter();
    return a->current_owner ? a->current_owner() : xisan_current();
}

/* Which parts of the report can run: none of xisan's locks may be held by
 * this thread (a crash inside xisan) or stay held by another. */
static const char *why_short(void)
{
    if (xs_in_runtime || xs_report_in_progress_here())
        return "the crash happened inside xisan's own code";
    if (!xs_locks_probe())
        return "another thread keeps one of xisan's locks";
    return NULL;
}

static void collect(xs_crash_t *c, int sig, siginfo_t *info, ucontext_t *uc,
                    const char *short_reason)
{
    memset(c, 0, sizeof(*c));
    c->signal = sig;
    c->code = info->si_code;
    c->sent = is_sent(info);
    c->sender = c->sent ? (int)info->si_pid : 0;
    c->has_address = !c->sent && sig != SIGABRT;
    c->fault_address = c->has_address ? (uintptr_t)info->si_addr : 0;
    c->pc = context_pc(uc);
    c->sp = context_sp(uc);
    c->pid = (int)getpid();
    c->thread = (unsigned long)gettid_now();
    c->runtime = xs_runtime_code();
    c->short_reason = short_reason;
    bool locks = c->short_reason == NULL;
    c->current = current_owner();
    interp_name(c->current, locks, c->current_name, sizeof(c->current_name));
    c->current_config = locks ? xs_interp_config(c->current) : NULL;
    native_stack(c, uc, locks);
    c->deliberate = deliberate(c);
    size_t py_max = (size_t)xs_opt.python_stack_depth;
    const struct xisan_adapter *a = xs_adapter();
    if (a->python_stack && py_max > 0)
        c->n_python = a->python_stack(c->python, c->python_strings,
                                      py_max < XS_MAX_PYTHON ? py_max : XS_MAX_PYTHON,
                                      &c->python_info);
    if (c->has_address)
        explain_fault(c, locks);
    held_values(c, uc, locks);
}

/* ---- reporting ----------------------------------------------------------- */

static void write_text(const xs_crash_t *c)
{
    xs_buf_t text;
    xs_buf_init(&text, text_storage, sizeof(text_storage));
    xs_crash_render_head(c, &text);
    xs_write_all(2, text.p, text.len);
    const struct xisan_adapter *a = xs_adapter();
    if (a->dump_threads)
        a->dump_threads(2);
    xs_buf_init(&text, text_storage, sizeof(text_storage));
    xs_crash_render_tail(c, &text);
    xs_write_all(2, text.p, text.len);
}

static void emit(xs_crash_t *c)
{
    bool serialised = xs_report_lock_bounded();
    /* a program that crashes on purpose to test its own crash handler
     * expects that handler's output alone */
    if (!c->deliberate)
        write_text(c);
    xs_buf_t json;
    xs_buf_init(&json, json_storage, sizeof(json_storage));
    xs_crash_render_json(c, &json);
    if (!json.truncated)
        xs_log_write_unlocked(json.p, json.len);
    if (serialised)
        xs_report_unlock();
    if (!c->deliberate)
        xs_run_state_note("crash %d %s\n", c->pid, xs_signal_name(c->signal));
}

/* Runs on the report stack. */
static void report_main(void)
{
    const char *short_reason = why_short();
    xs_in_runtime++; /* the hooks stay out of what the report allocates */
    xs_crash_t *c = &crash_storage;
    collect(c, crash_sig, &crash_info, &crash_uc, short_reason);
    xs_suppress_subject_t subject = {
        .kind = "crash",
        .native = {c->native, c->alloc_native},
        .n_native = {c->n_native, c->n_alloc_native},
        .python = {c->python, c->alloc_python},
        .n_python = {c->n_python, c->n_alloc_python},
        .object_type = c->fault.type,
    };
    if (!xs_suppressions_match_subject(xs_collect_suppressions(), &subject))
        emit(c);
    xs_in_runtime--;
}

static void report(void)
{
    in_report = 1;
    start_watchdog();
    if (report_stack != NULL && getcontext(&report_ctx) == 0) {
        report_ctx.uc_stack.ss_sp = report_stack;
        report_ctx.uc_stack.ss_size = REPORT_STACK;
        report_ctx.uc_link = &handler_ctx;
        makecontext(&report_ctx, report_main, 0);
        swapcontext(&handler_ctx, &report_ctx);
    } else {
        report_main();
    }
    alarm(0);
    in_report = 0;
}

/* One crash reported at a time, by the first thread that crashes. */
static void crash(int sig, const siginfo_t *info, const ucontext_t *uc)
{
    long tid = gettid_now(), none = 0;
    if (!atomic_compare_exchange_strong(&crashing_tid, &none, tid)) {
        if (none == tid && in_report) {
            /* a fault inside the report: the original signal goes on; the
             * frames the report ran from are gone */
            in_report = 0;
            say("%s while writing the crash report: stopping it\n", xs_signal_short_name(sig));
            die_by_default(crash_sig);
        }
        if (none != tid) {
            /* another thread reports a crash, then ends the process */
            struct timespec pause = {0, 100 * 1000 * 1000};
            for (int i = 0; i < 10 * (WATCHDOG_SECONDS + 5); i++)
                nanosleep(&pause, NULL);
        }
        return;
    }
    crash_sig = sig;
    crash_info = *info;
    crash_uc = *uc;
    report();
}

static void handler(int sig, siginfo_t *info, void *context)
{
    int saved_errno = errno;
    ucontext_t *uc = context;
    long tid = gettid_now();
    if (sig == SIGABRT && atomic_load(&aborting_tid) == tid) {
        /* the runtime's own abort after its report */
        if (is_function(program_action_for(sig)))
            call(program_action_for(sig), sig, info, uc);
        die_by_default(sig);
    }
    if (raised_again(sig, info)) {
        handed_t *h = handed_slot(tid, false);
        if (h != NULL)
            crash(sig, &h->info, &h->uc);
        else
            crash(sig, info, uc);
        die_by_default(sig);
    }
    if (atomic_load(&crashing_tid) == 0 && hand_to_program(sig, info, uc, tid)) {
        errno = saved_errno;
        return;
    }
    crash(sig, info, uc);
    die_by_default(sig);
}

/* ---- installing ---------------------------------------------------------- */

static pthread_key_t alt_stack_key;
static pthread_once_t alt_stack_once = PTHREAD_ONCE_INIT;
static XS_TLS bool alt_stack_checked;

static void alt_stack_free(void *mapping)
{
    stack_t off = {.ss_flags = SS_DISABLE};
    stack_t now;
    if (sigaltstack(NULL, &now) == 0 && now.ss_sp == (char *)mapping + 4096 &&
        !(now.ss_flags & SS_ONSTACK))
        sigaltstack(&off, NULL);
    munmap(mapping, ALT_STACK + 4096);
}

static void alt_stack_key_create(void)
{
    pthread_key_create(&alt_stack_key, alt_stack_free);
}

void xs_crash_thread_init(void)
{
    if (alt_stack_checked || !atomic_load(&installed))
        return;
    alt_stack_checked = true;
    stack_t now;
    if (sigaltstack(NULL, &now) == 0 && !(now.ss_flags & SS_DISABLE))
        return; /* the thread has one (faulthandler's, say) */
    pthread_once(&alt_stack_once, alt_stack_key_create);
    char *m = mmap(NULL, ALT_STACK + 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return;
    mprotect(m, 4096, PROT_NONE); /* a guard page below */
    stack_t ss = {.ss_sp = m + 4096, .ss_size = ALT_STACK, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(m, ALT_STACK + 4096);
        return;
    }
    pthread_setspecific(alt_stack_key, m);
}

void xs_deadly_signals_install(void)
{
    if (!xs_opt.handle_deadly_signals || atomic_exchange(&installed, true))
        return;
    char *m = mmap(NULL, REPORT_STACK + 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m != MAP_FAILED) {
        mprotect(m, 4096, PROT_NONE);
        report_stack = m + 4096;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < XS_ARRAY_LEN(deadly); i++)
        __sigaction(deadly[i], &sa, &program_action[i]);
    xs_crash_thread_init();
}

int xs_deadly_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    struct sigaction *mine = program_action_for(sig);
    if (mine == NULL || !atomic_load(&installed) || atomic_load(&crashing_tid) != 0)
        return __sigaction(sig, act, old);
    /* no lock: programs set these once, at start-up */
    if (old)
        *old = *mine;
    if (act)
        *mine = *act;
    return 0;
}
