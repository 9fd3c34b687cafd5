/* The JSON log (log_path) and the run state file `xisan run` reads. */
#include "log.h"

#include "options.h"
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_fd = -1;
static pid_t log_pid;
static bool log_warned; /* one warning per process, whatever fails */

bool xs_run_by_command(void)
{
    const char *path = getenv("XISAN_RUN_STATE");
    return path != NULL && path[0] != '\0';
}

void xs_log_check_path(const char *log_path)
{
    if (log_path == NULL || !log_path[0])
        return;
    char dir[XS_OPT_STR_MAX];
    snprintf(dir, sizeof(dir), "%s", log_path);
    if (access(dirname(dir), W_OK) == 0)
        return;
    if (!xs_run_by_command()) /* else `xisan run` said it, once for the run */
        xs_message("warning", "log_path '%s' is not writable (%s); reports go to stderr only",
                   log_path, strerror(errno));
    log_warned = true;
}

/* Log files may sit in a shared directory (/tmp): a new one is created for
 * the user alone, without following a symlink; an existing one is appended
 * to only when it is a regular file of this user.  Returns the descriptor,
 * or -1 with a reason in why. */
static int open_log(const char *path, const char **why)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) {
        *why = fd < 0 ? strerror(errno) : NULL;
        return fd;
    }
    /* non-blocking: opening a FIFO someone planted there must not hang */
    fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *why = errno == ELOOP ? "it is a symbolic link" : strerror(errno);
        return -1;
    }
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (!regular || st.st_uid != geteuid()) {
        *why = regular ? "it belongs to another user" : "it is not a regular file";
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
    *why = NULL;
    return fd;
}

void xs_log_write_unlocked(const char *line, size_t len)
{
    if (!xs_opt.log_path[0])
        return;
    pid_t pid = getpid();
    if (log_fd >= 0 && log_pid != pid) { /* a forked child writes its own file */
        close(log_fd);
        log_fd = -1;
    }
    if (log_fd < 0) {
        char path[XS_OPT_STR_MAX + 32];
        snprintf(path, sizeof(path), "%s.%d.jsonl", xs_opt.log_path, (int)pid);
        const char *why;
        log_fd = xs_fd_above_std(open_log(path, &why));
        if (log_fd < 0 && why == NULL)
            why = strerror(errno);
        log_pid = pid;
        if (log_fd < 0) {
            if (!log_warned)
                xs_message("warning", "cannot open log file '%s' (%s); reports go to stderr only",
                           path, why);
            log_warned = true;
            return;
        }
    }
    xs_write_all(log_fd, line, len);
}

void xs_run_state_write(const char *lines, size_t len)
{
    const char *path = getenv("XISAN_RUN_STATE");
    if (path == NULL || !path[0] || len == 0)
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        xs_write_all(fd, lines, len);
    close(fd);
}

void xs_run_state_note(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    xs_run_state_write(line, (size_t)n);
}
