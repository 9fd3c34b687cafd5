/* XISAN_OPTIONS parsing, option groups (the CPython adapter's, whose table
 * has no Python dependency), the `monitor` event list and the help text. */
#include "unit.h"

#include "python_options.h"

static xs_options_t opt;
static char err[512];

/* Parse `text`, which must fail with exactly `message`. */
static void expect_error(const char *text, const char *message)
{
    err[0] = '\0';
    cr_assert_eq(xs_options_parse(text, &opt, err, sizeof(err)), -1, "'%s' parsed", text);
    cr_assert_str_eq(err, message, "for '%s'", text);
}

static void expect_ok(const char *text)
{
    cr_assert_eq(xs_options_parse(text, &opt, err, sizeof(err)), 0, "'%s': %s", text, err);
}

Test(options, defaults)
{
    xs_options_defaults(&opt);
    cr_assert_eq(opt.halt_on_error, 1);
    cr_assert_eq(opt.exitcode, 66);
    cr_assert_str_eq(opt.log_path, "");
    cr_assert_eq(opt.stack_depth, 32);
    cr_assert_eq(opt.symbolize, 1);
    /* No XISAN_OPTIONS at all, or an empty one, means the defaults. */
    expect_ok(NULL);
    cr_assert_eq(opt.exitcode, 66);
    expect_ok("");
    cr_assert_eq(opt.halt_on_error, 1);
}

Test(options, parses_values)
{
    expect_ok("halt_on_error=0:exitcode=3:log_path=/tmp/x");
    cr_assert_eq(opt.halt_on_error, 0);
    cr_assert_eq(opt.exitcode, 3);
    cr_assert_str_eq(opt.log_path, "/tmp/x");
    cr_assert_eq(opt.verbosity, 0, "options not named keep their defaults");
}

Test(options, parse_starts_from_defaults)
{
    expect_ok("exitcode=3");
    expect_ok("verbosity=2");
    cr_assert_eq(opt.exitcode, 66, "a second parse must not keep the first one's values");
}

Test(options, bool_spellings)
{
    expect_ok("halt_on_error=false:symbolize=0");
    cr_assert_eq(opt.halt_on_error, 0);
    cr_assert_eq(opt.symbolize, 0);
    expect_ok("halt_on_error=true:symbolize=1:print_summary=false");
    cr_assert_eq(opt.halt_on_error, 1);
    cr_assert_eq(opt.symbolize, 1);
    cr_assert_eq(opt.print_summary, 0);
}

Test(options, empty_items_and_trailing_colon)
{
    expect_ok("exitcode=3:");
    cr_assert_eq(opt.exitcode, 3);
    expect_ok("::exitcode=4::verbosity=1:");
    cr_assert_eq(opt.exitcode, 4);
    cr_assert_eq(opt.verbosity, 1);
}

Test(options, int_bounds)
{
    expect_ok("exitcode=0:stack_depth=64");
    cr_assert_eq(opt.exitcode, 0);
    cr_assert_eq(opt.stack_depth, 64);
    expect_ok("exitcode=255");
    cr_assert_eq(opt.exitcode, 255);
}

Test(options, unknown_option)
{
    expect_error("halt_on_error=0:bogus=1",
                 "XISAN_OPTIONS: unknown option 'bogus' (see `xisan help`)");
    /* A prefix of a real name is not that name. */
    expect_error("halt=1", "XISAN_OPTIONS: unknown option 'halt' (see `xisan help`)");
}

Test(options, item_without_equals)
{
    expect_error("exitcode=3:verbose", "XISAN_OPTIONS: 'verbose' is not name=value");
}

Test(options, not_an_integer)
{
    expect_error("exitcode=abc",
                 "XISAN_OPTIONS: invalid value 'abc' for 'exitcode' (expected an integer 0..255)");
    expect_error("exitcode=3x",
                 "XISAN_OPTIONS: invalid value '3x' for 'exitcode' (expected an integer 0..255)");
    expect_error("exitcode=",
                 "XISAN_OPTIONS: invalid value '' for 'exitcode' (expected an integer 0..255)");
}

Test(options, int_out_of_range)
{
    expect_error("exitcode=256",
                 "XISAN_OPTIONS: invalid value '256' for 'exitcode' (expected an integer 0..255)");
    expect_error("stack_depth=0",
                 "XISAN_OPTIONS: invalid value '0' for 'stack_depth' (expected an integer 1..64)");
    expect_error("exitcode=99999999999999999999",
                 "XISAN_OPTIONS: invalid value '99999999999999999999' for 'exitcode' "
                 "(expected an integer 0..255)");
}

Test(options, bad_bool)
{
    expect_error("halt_on_error=yes",
                 "XISAN_OPTIONS: invalid value 'yes' for 'halt_on_error' (expected 0 or 1)");
    expect_error("symbolize=2",
                 "XISAN_OPTIONS: invalid value '2' for 'symbolize' (expected 0 or 1)");
}

Test(options, group_parsed_into_its_values)
{
    expect_error("shadow_gc=1", "XISAN_OPTIONS: unknown option 'shadow_gc' (see `xisan help`)");
    xh_options_register();
    xh_options_register(); /* once is enough */
    expect_ok("shadow_gc=1:exitcode=3:monitor=call");
    cr_assert_eq(xh_opt.shadow_gc, 1);
    cr_assert_str_eq(xh_opt.monitor, "call");
    cr_assert_eq(opt.exitcode, 3, "core options still go to the core's struct");
    expect_ok("exitcode=4");
    cr_assert_eq(xh_opt.shadow_gc, 0, "a group starts from its defaults at each parse");
    cr_assert_str_eq(xh_opt.monitor, "py_start,call,raise");
    expect_error("atomic_refcount=2",
                 "XISAN_OPTIONS: invalid value '2' for 'atomic_refcount' (expected 0 or 1)");
}

Test(options, bad_monitor_event)
{
    xh_options_register();
    expect_error("monitor=py_start,bogus",
                 "XISAN_OPTIONS: invalid value 'py_start,bogus' for 'monitor' (unknown event "
                 "'bogus'; expected py_start, call, return, raise or none)");
}

Test(options, value_too_long)
{
    char text[700] = "log_path=";
    memset(text + strlen(text), 'a', 600);
    expect_error(text, "XISAN_OPTIONS: value of 'log_path' is too long (max 511 bytes)");
}

Test(options, known_names)
{
    cr_assert(xs_options_known("halt_on_error"));
    cr_assert(xs_options_known("log_path"));
    cr_assert_not(xs_options_known("monitor"), "the adapter's until it registers");
    xh_options_register();
    cr_assert(xs_options_known("monitor"));
    cr_assert_not(xs_options_known("halt"));
    cr_assert_not(xs_options_known("halt_on_error=1"));
    cr_assert_not(xs_options_known(""));
}

#define BIT(name) (1u << XH_MONITOR_BIT_##name)

Test(options, monitor_masks)
{
    unsigned mask = 99;
    cr_assert_eq(xh_monitor_parse("py_start", &mask, err, sizeof(err)), 0);
    cr_assert_eq(mask, BIT(PY_START));
    cr_assert_eq(xh_monitor_parse("call,return", &mask, err, sizeof(err)), 0);
    cr_assert_eq(mask, BIT(CALL) | BIT(RETURN));
    cr_assert_eq(xh_monitor_parse("raise,py_start,call,return", &mask, err, sizeof(err)), 0);
    cr_assert_eq(mask, BIT(PY_START) | BIT(CALL) | BIT(RETURN) | BIT(RAISE));
    cr_assert_eq(xh_monitor_parse("none", &mask, err, sizeof(err)), 0);
    cr_assert_eq(mask, 0);
    cr_assert_eq(xh_monitor_parse("", &mask, err, sizeof(err)), 0);
    cr_assert_eq(mask, 0);
    cr_assert_eq(xh_monitor_parse("call,,raise,", &mask, err, sizeof(err)), 0);
    cr_assert_eq(mask, BIT(CALL) | BIT(RAISE));
    cr_assert_eq(xh_monitor_parse("call,calls", &mask, err, sizeof(err)), -1);
    unit_assert_contains(err, "unknown event 'calls'");
}

static const char *const all_names[] = {
#define XISAN_OPTION(type, name, def, lo, hi, help) #name,
#include "options.inc"
#include "python_options.inc"
#undef XISAN_OPTION
};

/* What print(fd) writes, into text. */
static void capture(void (*print)(int fd), char *text, size_t cap)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    print(fileno(f));
    rewind(f);
    size_t n = fread(text, 1, cap - 1, f);
    text[n] = '\0';
    fclose(f);
}

Test(options, help_names_every_option)
{
    xh_options_register();
    char text[16384];
    capture(xs_options_print_help, text, sizeof(text));
    for (size_t i = 0; i < XS_ARRAY_LEN(all_names); i++) {
        char line[64];
        snprintf(line, sizeof(line), "\n  %s ", all_names[i]);
        unit_assert_contains(text, line);
    }
    unit_assert_contains(text, "default: 66");
    unit_assert_contains(text, "\nCPython options:\n  monitor ");
    unit_assert_contains(text, "default: \"py_start,call,raise\"");
}

Test(options, markdown_rows_for_every_option)
{
    xh_options_register();
    char text[16384];
    capture(xs_options_print_markdown, text, sizeof(text));
    for (size_t i = 0; i < XS_ARRAY_LEN(all_names); i++) {
        char row[64];
        snprintf(row, sizeof(row), "\n| `%s` | ", all_names[i]);
        cr_assert_eq(unit_count(text, row), 1, "one row for %s in:\n%s", all_names[i], text);
    }
    unit_assert_contains(text, "\n| `exitcode` | int 0..255 | 66 | Exit status");
    unit_assert_contains(text, "\n| `monitor` | string | \"py_start,call,raise\" | ");
}

Test(options, init_reads_environment)
{
    setenv("XISAN_OPTIONS", "halt_on_error=0:exitcode=7", 1);
    cr_assert_eq(xisan_init(), 0);
    cr_assert_eq(xs_opt.halt_on_error, 0);
    cr_assert_eq(xs_opt.exitcode, 7);
    setenv("XISAN_OPTIONS", "exitcode=9", 1);
    cr_assert_eq(xisan_init(), 0);
    cr_assert_eq(xs_opt.exitcode, 7, "XISAN_OPTIONS is read once");
}

Test(options, init_rejects_bad_options)
{
    setenv("XISAN_OPTIONS", "exitcode=7:nope=1", 1);
    cr_redirect_stderr();
    cr_assert_eq(xisan_init(), -1);
    cr_assert_eq(xisan_init(), -1, "the failure sticks");
    unit_read_stderr(err, sizeof(err));
    cr_assert_str_eq(err, "xisan: error: XISAN_OPTIONS: unknown option 'nope' (see `xisan help`)\n");
}

Test(options, init_warns_about_unwritable_log_path)
{
    setenv("XISAN_OPTIONS", "log_path=/nonexistent-xisan-dir/log", 1);
    cr_redirect_stderr();
    cr_assert_eq(xisan_init(), 0, "a bad log_path is a warning, not an error");
    unit_read_stderr(err, sizeof(err));
    cr_assert_str_eq(err, "xisan: warning: log_path '/nonexistent-xisan-dir/log' is not "
                          "writable (No such file or directory); reports go to stderr only\n");
}

Test(options, init_quiet_about_log_path_under_xisan_run)
{
    /* `xisan run` checked log_path once for the whole run */
    setenv("XISAN_RUN_STATE", "/nonexistent-xisan-dir/state", 1);
    setenv("XISAN_OPTIONS", "log_path=/nonexistent-xisan-dir/log", 1);
    cr_redirect_stderr();
    cr_assert_eq(xisan_init(), 0);
    unit_read_stderr(err, sizeof(err));
    cr_assert_str_eq(err, "");
}
