/* The xisan command: run a program under the checker, list the options. */
#include "log.h"
#include "collect.h"
#include "sites.h"
#include "options.h"
#include "python_options.h"
#include "report.h"
#include "run_state.h"
#include "symbolizer_server.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "usage: xisan run [-o name=value]... [--] PROGRAM [ARGS...]\n"
    "       xisan report [--format text|json|sarif] [--output FILE] [--suppressions FILE]\n"
    "                    [--source-root DIR] LOG...\n"
    "       xisan config --cflags | --libs | --includedir\n"
    "       xisan help [--markdown]\n"
    "       xisan version\n";

static int fail(int status, const char *fmt, const char *arg)
{
    fprintf(stderr, "xisan: error: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return status;
}

/* `xisan help`; with --markdown, the options tables of docs/options.md. */
static int cmd_help(int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "--markdown") == 0) {
        xs_options_print_markdown(1);
        return 0;
    }
    if (argc > 0)
        return fail(2, "unknown flag '%s' for `xisan help` (--markdown)", argv[0]);
    fputs("xisan " XISAN_VERSION " - the cross-interpreter sanitizer\n\n", stdout);
    fputs(usage, stdout);
    fputs("\n`xisan run` checks every CPython 3.12/3.13 process PROGRAM starts, child processes\n"
          "included. Options come from XISAN_OPTIONS (name=value:name=value) and -o flags\n"
          "(which win). Exit status: PROGRAM's own; `exitcode` when it exits 0 after reports.\n"
          "`xisan report` merges the JSON logs of a run (log_path) into one list of sites,\n"
          "as text, JSON or SARIF 2.1.0; exit status 0: nothing found, 1: findings, 2: bad\n"
          "input. Suppressions (option suppressions, --suppressions) are KIND:PATTERN lines:\n"
          "docs/suppressions.md.\n\n",
          stdout);
    fflush(stdout);
    xs_options_print_help(1);
    fputs("\n", stdout);
    fflush(stdout);
    xs_kinds_print_help(1);
    return 0;
}

/* libxisan_preload.so beside this executable's directory: the install's
 * library directory (XISAN_BIN_TO_LIB: ../lib, ../lib64,
 * ../lib/<multiarch>...), the build tree's ../lib, or the same one. */
static int find_preload(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0)
        return -1;
    exe[n] = '\0';
    const char *dir = dirname(exe);
    static const char *const places[] = {XISAN_BIN_TO_LIB, "../lib", "."};
    for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
        snprintf(out, len, "%s/%s/libxisan_preload.so", dir, places[i]);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

/* The include directory: <prefix>/include next to an installed command,
 * else the source tree this command was built from. */
static void include_dir(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        snprintf(out, len, "%s/../include", dirname(exe));
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof(probe), "%s/xisan/python.h", out);
        if (access(probe, R_OK) == 0) {
            char *real = realpath(out, NULL);
            if (real) {
                snprintf(out, len, "%s", real);
                free(real);
            }
            return;
        }
    }
    snprintf(out, len, "%s", XISAN_SOURCE_INCLUDE_DIR);
}

/* Flags for building an instrumented extension:
 *   gcc ... $(xisan config --cflags) mod.c $(xisan config --libs) */
static int cmd_config(int argc, char **argv)
{
    if (argc == 0)
        return fail(2, "%s", "xisan config needs --cflags, --libs or --includedir");
    char dir[PATH_MAX];
    include_dir(dir, sizeof(dir));
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--cflags") == 0)
            printf("-I%s -include xisan/python.h\n", dir);
        else if (strcmp(argv[i], "--libs") == 0)
            /* nothing to link: the checks find the runtime `xisan run` preloads */
            printf("\n");
        else if (strcmp(argv[i], "--includedir") == 0)
            printf("%s\n", dir);
        else
            return fail(2, "unknown flag '%s' for `xisan config` (--cflags, --libs, --includedir)",
                        argv[i]);
    }
    return 0;
}

/* Answers the run's symbolizer requests until the program exits (the
 * processes it leaves behind symbolize alone then), or until the socket
 * fails. */
static void serve_symbolizer(pid_t pid, int listener)
{
    int exited = (int)syscall(SYS_pidfd_open, pid, 0);
    if (exited < 0)
        return; /* no pidfd (Linux before 5.3): no server */
    for (;;) {
        struct pollfd fds[2] = {{.fd = exited, .events = POLLIN}, {.fd = listener, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents || (fds[1].revents & (POLLERR | POLLHUP | POLLNVAL)))
            break;
        if (fds[1].revents & POLLIN) {
            int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (conn >= 0)
                xs_symserver_serve(conn);
            else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
                break; /* out of descriptors, say: the processes symbolize alone */
        }
    }
    close(exited);
}

static int cmd_run(int argc, char **argv)
{
    char options[8192];
    const char *env = getenv("XISAN_OPTIONS");
    snprintf(options, sizeof(options), "%s", env ? env : "");
    int i = 0;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-o") == 0) {
            if (i + 1 >= argc)
                return fail(2, "%s needs name=value", "-o");
            const char *item = argv[++i];
            if (strchr(item, '=') == NULL || strchr(item, ':') != NULL)
                return fail(2, "-o '%s' is not one name=value", item);
            size_t len = strlen(options);
            snprintf(options + len, sizeof(options) - len, "%s%s", len ? ":" : "", item);
            continue;
        }
        if (argv[i][0] == '-')
            return fail(2, "unknown flag '%s' for `xisan run`", argv[i]);
        break;
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    char err[512];
    if (xs_options_parse(options, &xs_opt, err, sizeof(err)) < 0)
        return fail(2, "%s", err);
    xs_log_check_path(xs_opt.log_path); /* once for the whole run */
    if (xs_collect_load_suppressions(xs_opt.suppressions, err, sizeof(err)) < 0)
        return fail(2, "%s", err);
    char absolute[PATH_MAX];
    if (xs_opt.suppressions[0] && realpath(xs_opt.suppressions, absolute) &&
        strcmp(absolute, xs_opt.suppressions) != 0) {
        /* the program's processes may run in other directories */
        size_t len = strlen(options);
        snprintf(options + len, sizeof(options) - len, "%ssuppressions=%s", len ? ":" : "",
                 absolute);
    }

    char preload[PATH_MAX + 64];
    if (find_preload(preload, sizeof(preload)) < 0)
        return fail(2, "%s", "cannot find libxisan_preload.so next to the xisan command");
    char ld_preload[2 * PATH_MAX];
    const char *old = getenv("LD_PRELOAD");
    snprintf(ld_preload, sizeof(ld_preload), "%s%s%s", preload, old && *old ? ":" : "",
             old ? old : "");

    const char *tmp = getenv("TMPDIR");
    char state_path[PATH_MAX];
    snprintf(state_path, sizeof(state_path), "%s/xisan-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int state_fd = mkstemp(state_path);
    if (state_fd < 0)
        return fail(2, "cannot create the run state file: %s", strerror(errno));
    close(state_fd);

    setenv("LD_PRELOAD", ld_preload, 1);
    setenv("XISAN_OPTIONS", options, 1);
    setenv("XISAN_RUN_STATE", state_path, 1);
    /* The run's symbolizer: without one, each process symbolizes alone. */
    char symbolizer_dir[PATH_MAX], symbolizer_path[PATH_MAX] = "";
    int symbolizer = -1;
    unsetenv(XS_SYMBOLIZER_ENV);
    snprintf(symbolizer_dir, sizeof(symbolizer_dir), "%s/xisan-run-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    /* a directory of this user's alone (0700) holds the socket */
    if (xs_opt.symbolize && xs_opt.symbolize_server && mkdtemp(symbolizer_dir)) {
        symbolizer = xs_symserver_listen(symbolizer_dir, symbolizer_path, sizeof(symbolizer_path));
        if (symbolizer >= 0)
            setenv(XS_SYMBOLIZER_ENV, symbolizer_path, 1);
        else
            rmdir(symbolizer_dir);
    }

    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        unlink(state_path);
        if (symbolizer >= 0) {
            unlink(symbolizer_path);
            rmdir(symbolizer_dir);
        }
        return fail(2, "fork: %s", strerror(saved));
    }
    if (pid == 0) {
        execvp(argv[i], &argv[i]);
        fprintf(stderr, "xisan: error: cannot run '%s': %s\n", argv[i], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    /* The terminal's signals reach the program; xisan waits to report. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    if (symbolizer >= 0) {
        serve_symbolizer(pid, symbolizer);
        close(symbolizer);
        unlink(symbolizer_path);
        rmdir(symbolizer_dir);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            unlink(state_path);
            return fail(2, "waitpid: %s", strerror(errno));
        }
    }
    run_state_t *state = run_state_read(state_path);
    unlink(state_path);
    unsigned long active = state ? run_state_active(state) : 0;
    unsigned long reports = state ? run_state_reports(state) : 0;
    bool crash_reported = run_state_crashed(state, (long)pid);
    if (state)
        run_state_print(state, stderr);
    run_state_free(state);
    if (active == 0)
        fprintf(stderr, "xisan: note: no supported Python (CPython 3.12 or 3.13) ran under the "
                        "checker\n");

    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (crash_reported && xs_opt.log_path[0])
            fprintf(stderr, "xisan: '%s' was killed by signal %d (%s): its crash report is "
                            "above (==%d==ERROR) and in %s.%d.jsonl\n",
                    argv[i], sig, strsignal(sig), (int)pid, xs_opt.log_path, (int)pid);
        else if (crash_reported)
            fprintf(stderr, "xisan: '%s' was killed by signal %d (%s): its crash report is "
                            "above (==%d==ERROR)\n",
                    argv[i], sig, strsignal(sig), (int)pid);
        else if (!(sig == SIGABRT && reports > 0))
            fprintf(stderr, "xisan: '%s' was killed by signal %d (%s)%s\n", argv[i], sig,
                    strsignal(sig), reports ? " after xisan reports" : "");
        /* Die the same way, without a second core dump. */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        return 128 + sig;
    }
    int code = WEXITSTATUS(status);
    if (code == 0 && reports > 0)
        return xs_opt.exitcode;
    return code;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    xh_options_register();
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "config") == 0)
        return cmd_config(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0)
        return report_main(argc - 2, argv + 2);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return cmd_help(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        puts("xisan " XISAN_VERSION);
        return 0;
    }
    fprintf(stderr, "xisan: error: unknown command '%s'\n%s", cmd, usage);
    return 2;
}
