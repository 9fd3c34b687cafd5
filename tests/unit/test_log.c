/* The JSON log: files safe to write in shared directories; the run state
 * file of `xisan run`. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/xisan-unit-log-XXXXXX";
static char prefix[256], path[300], out[4096];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(prefix, sizeof(prefix), "%s/log", dir);
    snprintf(path, sizeof(path), "%s.%d.jsonl", prefix, (int)getpid());
    char err[256];
    char options[300];
    snprintf(options, sizeof(options), "log_path=%s", prefix);
    cr_assert_eq(xs_options_parse(options, &xs_opt, err, sizeof(err)), 0, "%s", err);
    unsetenv("XISAN_RUN_STATE");
    cr_redirect_stderr();
}

static void teardown(void)
{
    char command[64];
    snprintf(command, sizeof(command), "rm -rf %s", dir);
    cr_assert_eq(system(command), 0);
}

TestSuite(log, .init = setup, .fini = teardown);

Test(log, new_file_is_the_users_alone)
{
    xs_log_write_unlocked("{}\n", 3);
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
    xs_log_write_unlocked("{\"a\":1}\n", 8);
    unit_read_file(path, out, sizeof(out));
    cr_assert_str_eq(out, "{}\n{\"a\":1}\n");
}

Test(log, symlink_is_not_followed)
{
    char target[300];
    snprintf(target, sizeof(target), "%s/target", dir);
    FILE *f = fopen(target, "w");
    cr_assert_not_null(f);
    fputs("precious\n", f);
    fclose(f);
    cr_assert_eq(symlink(target, path), 0);
    xs_log_write_unlocked("{}\n", 3);
    xs_log_write_unlocked("{}\n", 3);
    unit_read_file(target, out, sizeof(out));
    cr_assert_str_eq(out, "precious\n", "the symlink's target was written");
    unit_read_stderr(out, sizeof(out));
    cr_assert_eq(unit_count(out, "xisan: warning: cannot open log file"), 1, "%s", out);
    unit_assert_contains(out, "(it is a symbolic link); reports go to stderr only\n");
}

Test(log, another_users_file_is_not_written)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(chown(path, 65534, 65534), 0, "the unit tests run as root");
    xs_log_write_unlocked("{}\n", 3);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 0, "another user's file was written");
    unit_read_stderr(out, sizeof(out));
    unit_assert_contains(out, "(it belongs to another user); reports go to stderr only\n");
}

Test(log, run_state_gets_warnings_for_the_command)
{
    char state[300];
    snprintf(state, sizeof(state), "%s/state", dir);
    FILE *f = fopen(state, "w");
    cr_assert_not_null(f);
    fclose(f);
    setenv("XISAN_RUN_STATE", state, 1);
    xs_message("warning", "something %d", 42);
    xs_run_state_note("report %d %s\n", 7, "cross-interpreter-access");
    unit_read_file(state, out, sizeof(out));
    cr_assert_str_eq(out, "message\txisan: warning: something 42\n"
                          "report 7 cross-interpreter-access\n");
    char err[64];
    unit_read_stderr(err, sizeof(err));
    cr_assert_str_eq(err, "", "a warning under `xisan run` is the command's to print");
}

/* A process started with stdin closed: the log the first report opens
 * must not take descriptor 0 (the program's stdin slot), and the slot
 * stays free for the program. */
Test(log, file_is_not_opened_in_a_standard_slot)
{
    int saved = dup(STDIN_FILENO);
    cr_assert_geq(saved, 0);
    close(STDIN_FILENO);
    xs_log_write_unlocked("{}\n", 3);
    errno = 0;
    int free_slot = fcntl(STDIN_FILENO, F_GETFD) == -1 && errno == EBADF;
    dup2(saved, STDIN_FILENO);
    close(saved);
    cr_expect(free_slot, "the log took descriptor 0");
    unit_read_file(path, out, sizeof(out));
    cr_expect_str_eq(out, "{}\n");
}

Test(log, descriptor_moves_above_the_standard_three)
{
    int saved = dup(STDIN_FILENO);
    close(STDIN_FILENO);
    int fd = open("/dev/null", O_RDONLY);
    cr_assert_eq(fd, 0);
    int moved = xs_fd_above_std(fd);
    errno = 0;
    int free_slot = fcntl(STDIN_FILENO, F_GETFD) == -1 && errno == EBADF;
    dup2(saved, STDIN_FILENO);
    close(saved);
    cr_expect_gt(moved, STDERR_FILENO);
    cr_expect(free_slot, "descriptor 0 is free again");
    cr_expect(fcntl(moved, F_GETFD) & FD_CLOEXEC, "closed on exec");
    close(moved);
    int high = open("/dev/null", O_RDONLY);
    cr_expect_eq(xs_fd_above_std(high), high, "a descriptor above 2 stays");
    close(high);
}
