/* Crashes: the deadly-signal handler (deadly_signal.c) collects a crash
 * into this struct; crash_report.c renders it as text and as the JSON
 * record of kind "crash". */
#ifndef XS_CRASH_H
#define XS_CRASH_H

#include "address.h"
#include "depot.h"
#include "output.h"
#include "stack.h"

#include <signal.h>

#define XS_CRASH_HELD_MAX 8

/* A value the crashing code held that points into memory of an
 * interpreter other than the crashing thread's, or of an ended one. */
typedef struct xs_crash_held {
    char where[32]; /* "rdi", "stack+0x28" */
    uintptr_t value;
    xs_place_t place;
    char owner_name[96]; /* "interpreter 1", "interpreter 0 (main)" */
    char alloc_site[256]; /* "file:line in function", "" when not known */
} xs_crash_held_t;

typedef struct xs_crash {
    int signal;
    int code;               /* siginfo si_code */
    bool sent;              /* sent by a process (kill, raise, abort), not a fault */
    int sender;             /* the sending process, when sent */
    bool has_address;       /* SEGV, BUS, FPE, ILL: the fault address means something */
    uintptr_t fault_address;
    uintptr_t pc, sp;
    int pid;
    unsigned long thread;
    uint32_t current;
    char current_name[64];
    const char *current_config;
    /* the report leaves out what needs a lock that is held, or the
     * symbolizer, when this says why */
    const char *short_reason;
    /* the adapter's function that crashed on purpose, NULL: none */
    const char *deliberate;
    xs_place_t fault;
    char fault_owner_name[96];
    size_t n_native, n_python, n_alloc_native, n_alloc_python, n_held;
    xs_native_frame_t native[XS_MAX_NATIVE];
    xs_pyframe_t python[XS_MAX_PYTHON];
    char python_strings[XS_MAX_PYTHON][2][XISAN_PYNAME_MAX];
    xs_pystack_info_t python_info;
    xs_native_frame_t alloc_native[XS_MAX_NATIVE];
    xs_pyframe_t alloc_python[XS_MAX_PYTHON];
    xs_crash_held_t held[XS_CRASH_HELD_MAX];
    xs_runtime_code_t runtime;
} xs_crash_t;

/* "SEGV", "BUS", ... and "SIGSEGV", ...; "signal N" for others. */
XS_INTERNAL const char *xs_signal_short_name(int sig);
XS_INTERNAL const char *xs_signal_name(int sig);

/* Everything up to the other threads' Python stacks / from the SUMMARY
 * line on: the handler writes the adapter's dump of the other threads in
 * between. */
XS_INTERNAL void xs_crash_render_head(const xs_crash_t *c, xs_buf_t *out);
XS_INTERNAL void xs_crash_render_tail(const xs_crash_t *c, xs_buf_t *out);
XS_INTERNAL void xs_crash_render_json(const xs_crash_t *c, xs_buf_t *out);

/* The deadly-signal handler (handle_deadly_signals): installed once per
 * process by the runtime's start-up; each thread that runs interpreted
 * code gets an alternate signal stack through xs_crash_thread_init(). */
XS_INTERNAL void xs_deadly_signals_install(void);
XS_INTERNAL void xs_crash_thread_init(void);
/* sigaction() for the program, through the preload library: for a deadly
 * signal it records the program's action, called after the report, and
 * keeps the handler first; other signals go to the kernel. */
XS_INTERNAL int xs_deadly_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* The runtime is about to abort() after its own report: no crash report. */
XS_INTERNAL void xs_crash_expect_abort(void);

#endif
