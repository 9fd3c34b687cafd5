/* Suppressions: the pattern language, the file format and its errors, and
 * matching by kind with counts. */
#include "unit.h"

#include "suppress.h"

#include <unistd.h>

static char dir[] = "/tmp/xisan-unit-supp-XXXXXX";
static char path[300];
static const char *const kinds[] = {"cross-interpreter-access", "crash", NULL};

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/supp.txt", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

TestSuite(suppress, .init = setup, .fini = teardown);

Test(suppress, substring_unless_anchored)
{
    cr_assert(xs_pattern_match("libfoo", "/usr/lib/libfoo.so.1"));
    cr_assert(xs_pattern_match("^/usr/lib/", "/usr/lib/libfoo.so.1"));
    cr_assert_not(xs_pattern_match("^lib", "/usr/lib/libfoo.so.1"));
    cr_assert(xs_pattern_match(".so.1$", "/usr/lib/libfoo.so.1"));
    cr_assert_not(xs_pattern_match(".so$", "/usr/lib/libfoo.so.1"));
    cr_assert(xs_pattern_match("^get_cached$", "get_cached"));
    cr_assert_not(xs_pattern_match("^get_cached$", "get_cached_list"));
}

Test(suppress, star_matches_any_run)
{
    cr_assert(xs_pattern_match("^Py*_New$", "PyList_New"));
    cr_assert(xs_pattern_match("^Py*_New$", "Py_New"));
    cr_assert_not(xs_pattern_match("^Py*_New$", "PyList_New2"));
    cr_assert(xs_pattern_match("fix*x.c", "tests/fixtures/xfix.c"));
    cr_assert(xs_pattern_match("*", "anything"));
    cr_assert(xs_pattern_match("a*b*c", "zzaXbYcZZ"));
    cr_assert_not(xs_pattern_match("a*b*c", "zzacb"));
}

Test(suppress, file_with_comments_and_blank_lines)
{
    write_file("# third-party noise\n\ncross-interpreter-access:libfoo.so\n  *:^get_cached$  \n");
    xs_suppressions_t s;
    char err[256];
    cr_assert_eq(xs_suppressions_load(path, kinds, &s, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.rules[0].kind, "cross-interpreter-access");
    cr_assert_str_eq(s.rules[0].pattern, "libfoo.so");
    cr_assert_eq(s.rules[0].line, 3);
    cr_assert_str_eq(s.rules[1].kind, "*");
    cr_assert_str_eq(s.rules[1].pattern, "^get_cached$");
    cr_assert_eq(s.rules[1].line, 4);
    xs_suppressions_free(&s);
}

Test(suppress, errors_name_file_and_line)
{
    xs_suppressions_t s;
    char err[256], want[400];
    write_file("crash:abort\nno colon here\n");
    cr_assert_eq(xs_suppressions_load(path, kinds, &s, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2: not KIND:PATTERN: 'no colon here'", path);
    cr_assert_str_eq(err, want);
    write_file("cross-interpreter-acess:foo\n");
    cr_assert_eq(xs_suppressions_load(path, kinds, &s, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:1: unknown report kind: 'cross-interpreter-acess:foo'", path);
    cr_assert_str_eq(err, want);
    write_file("crash:^$\n");
    cr_assert_eq(xs_suppressions_load(path, kinds, &s, err, sizeof(err)), -1);
    cr_assert(strstr(err, ":1: empty pattern"), "%s", err);
    unlink(path);
    cr_assert_eq(xs_suppressions_load(path, kinds, &s, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: cannot read the suppressions file: No such file or directory",
             path);
    cr_assert_str_eq(err, want);
}

Test(suppress, first_matching_rule_of_the_kind_counts)
{
    write_file("crash:libfoo\ncross-interpreter-access:Payload\n*:libfoo\n");
    xs_suppressions_t s;
    char err[256];
    cr_assert_eq(xs_suppressions_load(path, kinds, &s, err, sizeof(err)), 0, "%s", err);
    const char *texts[] = {"clear_slot", "", NULL, "/lib/libfoo.so", "Payload"};
    xs_suppression_t *r = xs_suppressions_match(&s, "cross-interpreter-access", texts, 5);
    cr_assert_not_null(r);
    cr_assert_eq(r->line, 2);
    r = xs_suppressions_match(&s, "crash", texts, 5);
    cr_assert_eq(r->line, 1);
    const char *other[] = {"main", "list"};
    cr_assert_null(xs_suppressions_match(&s, "crash", other, 2));
    cr_assert_eq(atomic_load(&s.rules[0].matched), 1);
    cr_assert_eq(atomic_load(&s.rules[1].matched), 1);
    cr_assert_eq(atomic_load(&s.rules[2].matched), 0);
    xs_suppressions_free(&s);
}
