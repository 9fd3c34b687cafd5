/* Report rendering (text and JSON, against golden files) and the bounded
 * output buffer under it.
 *
 * To regenerate the golden files after a deliberate change of the format:
 *   XISAN_UPDATE_GOLDEN=1 build/bin/unit_report --filter 'report/golden_*'
 * then read the diff. */
#include "unit.h"

#include <regex.h>

static xs_report_t report; /* ~100 KB: not on the stack */
static char storage[16 * 1024];

static void set_native(xs_native_frame_t *f, uintptr_t pc, const char *module,
                       const char *function, const char *file, int line)
{
    f->pc = pc;
    snprintf(f->module, sizeof(f->module), "%s", module);
    snprintf(f->function, sizeof(f->function), "%s", function);
    snprintf(f->file, sizeof(f->file), "%s", file);
    f->line = line;
}

/* A list of interpreter 0 touched from interpreter 1 by native code called
 * through libpython; the SUMMARY line must skip the libpython frame. */
static void make_report(xs_report_t *r)
{
    memset(r, 0, sizeof(*r));
    r->kind = XS_KIND_CROSS_INTERPRETER_ACCESS;
    r->access = XISAN_ACCESS_TOUCH;
    snprintf(r->object_type, sizeof(r->object_type), "list");
    r->object_address = 0x7f12dead0010;
    r->object_size = 56;
    r->owner = 1;
    r->current = 2;
    snprintf(r->owner_name, sizeof(r->owner_name), "main");
    snprintf(r->current_name, sizeof(r->current_name), "sub \"1\"");
    r->owner_config = "main";
    r->current_config = "isolated";
    r->pid = 4242;
    r->thread = 4243;
    r->runtime = (xs_runtime_code_t){"libpython", NULL};
    r->n_native = 2;
    set_native(&r->native[0], 0x7f12aa001234, "libpython3.13.so.1.0", "PyList_Append",
               "Objects/listobject.c", 528);
    set_native(&r->native[1], 0x55d0cafe0abc, "_xfix.so", "xfix_append", "tests/fixtures/xfix.c",
               42);
    r->n_python = 1;
    r->python[0] = (xs_pyframe_t){"/app/worker.py", "run", 17};
    r->n_alloc_native = 1;
    set_native(&r->alloc_native[0], 0x7f12bb005678, "libxisan_py313.so", "", "", 0);
    r->n_alloc_python = 1;
    r->alloc_python[0] = (xs_pyframe_t){"/app/main.py", "<module>", 5};
}

static void replace_all(char *text, size_t cap, const char *pattern, const char *with)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED), 0, "bad pattern %s", pattern);
    char *result = malloc(cap);
    size_t len = 0, wlen = strlen(with);
    const char *p = text;
    regmatch_t m;
    while (regexec(&re, p, 1, &m, p == text ? 0 : REG_NOTBOL) == 0 && m.rm_eo > 0) {
        cr_assert_lt(len + (size_t)m.rm_so + wlen, cap);
        memcpy(result + len, p, (size_t)m.rm_so);
        memcpy(result + len + m.rm_so, with, wlen);
        len += (size_t)m.rm_so + wlen;
        p += m.rm_eo;
    }
    cr_assert_lt(len + strlen(p), cap);
    strcpy(result + len, p);
    strcpy(text, result);
    free(result);
    regfree(&re);
}

/* What varies from run to run: addresses, pids, thread ids. */
static void filter(char *text, size_t cap)
{
    replace_all(text, cap, "0x[0-9a-f]+", "0xADDR");
    replace_all(text, cap, "==[0-9]+==", "==PID==");
    replace_all(text, cap, "in thread [0-9]+", "in thread TID");
    replace_all(text, cap, "\"pid\":[0-9]+", "\"pid\":\"PID\"");
    replace_all(text, cap, "\"thread\":[0-9]+", "\"thread\":\"TID\"");
}

static void expect_golden(const char *name, char *actual, size_t cap)
{
    char path[512], golden[sizeof(storage)];
    snprintf(path, sizeof(path), "%s/%s", XISAN_GOLDEN_DIR, name);
    filter(actual, cap);
    if (getenv("XISAN_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "cannot write %s", path);
        fputs(actual, f);
        fclose(f);
    }
    unit_read_file(path, golden, sizeof(golden));
    cr_assert_str_eq(actual, golden, "%s differs; rendered (filtered):\n%s", path, actual);
}

Test(report, golden_text)
{
    xs_buf_t b;
    make_report(&report);
    xs_buf_init(&b, storage, sizeof(storage));
    xs_report_render_text(&report, &b);
    cr_assert_not(b.truncated);
    cr_assert_eq(strlen(storage), b.len);
    expect_golden("report.txt", storage, sizeof(storage));
}

Test(report, golden_json)
{
    xs_buf_t b;
    make_report(&report);
    xs_buf_init(&b, storage, sizeof(storage));
    xs_report_render_json(&report, &b);
    cr_assert_not(b.truncated);
    cr_assert_eq(unit_count(storage, "\n"), 1, "one line");
    expect_golden("report.json", storage, sizeof(storage));
}

/* The report rendered into `storage`, as text or as its JSON line. */
static const char *rendered_text(const xs_report_t *r)
{
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    xs_report_render_text(r, &b);
    return storage;
}

static const char *rendered_json(const xs_report_t *r)
{
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    xs_report_render_json(r, &b);
    return storage;
}

static const char *summary_line(const xs_report_t *r)
{
    rendered_text(r);
    char *line = strstr(storage, "SUMMARY: ");
    cr_assert_not_null(line);
    *strchr(line, '\n') = '\0';
    return line;
}

Test(report, summary_site)
{
    make_report(&report);
    /* At a Python event the innermost Python frame is the site. */
    report.access = XISAN_ACCESS_CALL;
    cr_assert_str_eq(summary_line(&report),
                     "SUMMARY: XISan: cross-interpreter-access /app/worker.py:17 in run");
    /* An inlined helper from a header yields to the .c line that called it. */
    report.access = XISAN_ACCESS_TOUCH;
    set_native(&report.native[0], 0x55d0cafe0a00, "_xfix.so", "Py_DECREF", "Include/object.h",
               700);
    cr_assert_str_eq(summary_line(&report), "SUMMARY: XISan: cross-interpreter-access "
                                            "tests/fixtures/xfix.c:42 in xfix_append");
    report.n_native = 1;
    cr_assert_str_eq(summary_line(&report), "SUMMARY: XISan: cross-interpreter-access "
                                            "Include/object.h:700 in Py_DECREF",
                     "a header line is better than none");
    make_report(&report);
    /* Only runtime frames: the Python frame beats them. */
    report.n_native = 1;
    cr_assert_str_eq(summary_line(&report),
                     "SUMMARY: XISan: cross-interpreter-access /app/worker.py:17 in run");
    /* Nothing better: the innermost native frame, even in the runtime. */
    report.n_python = 0;
    cr_assert_str_eq(summary_line(&report), "SUMMARY: XISan: cross-interpreter-access "
                                            "Objects/listobject.c:528 in PyList_Append");
    report.n_native = 0;
    cr_assert_str_eq(summary_line(&report),
                     "SUMMARY: XISan: cross-interpreter-access <unknown>:0 in <unknown>");
}

Test(report, note_and_unknown_type)
{
    make_report(&report);
    report.kind = XS_KIND_CROSS_INTERPRETER_FREE;
    report.access = XISAN_ACCESS_FREE;
    report.object_type[0] = '\0';
    report.note = "the block is quarantined (never freed)";
    rendered_text(&report);
    unit_assert_contains(storage, "ERROR: XISan: cross-interpreter-free on memory block object at "
                                  "0x7f12dead0010 (access: free)\n");
    unit_assert_contains(storage, "\n  the block is quarantined (never freed)\n");
    rendered_json(&report);
    unit_assert_contains(storage, ",\"note\":\"the block is quarantined (never freed)\",");
    unit_assert_contains(storage, "\"object_type\":\"\",");
}

Test(report, kind_and_access_names)
{
    cr_assert_str_eq(xs_kind_name(XS_KIND_CROSS_INTERPRETER_ACCESS), "cross-interpreter-access");
    cr_assert_str_eq(xs_kind_name(XS_KIND_CROSS_INTERPRETER_FREE), "cross-interpreter-free");
    cr_assert_str_eq(xs_kind_name(XS_KIND_USE_AFTER_INTERPRETER_END), "use-after-interpreter-end");
    cr_assert_str_eq(xs_access_name(XISAN_ACCESS_FREE), "free");
    cr_assert_str_eq(xs_access_name(XISAN_ACCESS_PY_START), "py-start");
    cr_assert_str_eq(xs_access_name(XISAN_ACCESS_TOUCH), "touch");
    cr_assert_str_eq(xs_access_name(XISAN_ACCESS_COUNT), "unknown");
}

Test(report, render_into_small_buffer)
{
    char small[100];
    xs_buf_t b;
    make_report(&report);
    xs_buf_init(&b, small, sizeof(small));
    xs_report_render_text(&report, &b);
    cr_assert(b.truncated);
    cr_assert_eq(b.len, sizeof(small) - 1);
    cr_assert_eq(strlen(small), b.len);
    xs_buf_init(&b, small, sizeof(small));
    xs_report_render_json(&report, &b);
    cr_assert(b.truncated);
    cr_assert_eq(strlen(small), sizeof(small) - 1);
}

Test(buf, fits_exactly)
{
    char s[8];
    xs_buf_t b;
    xs_buf_init(&b, s, sizeof(s));
    xs_buf_puts(&b, "abc");
    xs_buf_printf(&b, "%d", 1234);
    cr_assert_str_eq(s, "abc1234");
    cr_assert_eq(b.len, 7);
    cr_assert_not(b.truncated, "7 characters and a NUL fit in 8 bytes");
}

Test(buf, truncates)
{
    char s[16];
    memset(s, 'X', sizeof(s));
    xs_buf_t b;
    xs_buf_init(&b, s, 8);
    xs_buf_puts(&b, "abcdefghij");
    cr_assert(b.truncated);
    cr_assert_str_eq(s, "abcdefg");
    cr_assert_eq(b.len, 7);
    xs_buf_puts(&b, "more");
    xs_buf_printf(&b, "%s", "more");
    cr_assert_str_eq(s, "abcdefg", "a full buffer takes nothing more");
    cr_assert_eq(s[8], 'X', "wrote past the capacity");

    xs_buf_init(&b, s, 8);
    xs_buf_printf(&b, "%s-%d", "abcdef", 99);
    cr_assert(b.truncated);
    cr_assert_str_eq(s, "abcdef-");
    cr_assert_eq(b.len, 7);
}

static const char *json_of(const char *s)
{
    xs_buf_t b;
    xs_buf_init(&b, storage, sizeof(storage));
    xs_buf_json_string(&b, s);
    return storage;
}

Test(buf, json_escaping)
{
    cr_assert_str_eq(json_of("plain"), "\"plain\"");
    cr_assert_str_eq(json_of("say \"hi\""), "\"say \\\"hi\\\"\"");
    cr_assert_str_eq(json_of("C:\\dir"), "\"C:\\\\dir\"");
    cr_assert_str_eq(json_of("a\nb\tc"), "\"a\\nb\\tc\"");
    cr_assert_str_eq(json_of("\x01\r\x1f"), "\"\\u0001\\u000d\\u001f\"");
    cr_assert_str_eq(json_of("caf\xc3\xa9"), "\"caf\xc3\xa9\"", "UTF-8 passes through");
    cr_assert_str_eq(json_of(""), "\"\"");
    cr_assert_str_eq(json_of(NULL), "\"\"");
}

Test(output, message_is_one_prefixed_line)
{
    cr_redirect_stderr();
    xs_message("warning", "log_path '%s' is not writable", "/nope");
    char out[256];
    unit_read_stderr(out, sizeof(out));
    cr_assert_str_eq(out, "xisan: warning: log_path '/nope' is not writable\n");
}

Test(output, long_message_keeps_its_newline)
{
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_redirect_stderr();
    xs_message("error", "%s", big);
    char out[4096];
    unit_read_stderr(out, sizeof(out));
    cr_assert_eq(strlen(out), 1023, "cut to the 1024-byte message buffer");
    cr_assert_eq(strncmp(out, "xisan: error: xxx", 17), 0);
    cr_assert_eq(out[1022], '\n');
}

/* A static builtin type whose two views differ: the names in text, a
 * {name, difference} list in JSON, no allocation stack (never allocated). */
Test(report, views_payload)
{
    make_report(&report);
    report.kind = XS_KIND_STATIC_TYPE_DIVERGENCE;
    report.access = XISAN_ACCESS_VIEW;
    snprintf(report.object_type, sizeof(report.object_type), "type");
    snprintf(report.differences, sizeof(report.differences),
             "__repr__\town in interpreter 0 (main), inherited from object in interpreter 1\n"
             "we\"ird\tonly in interpreter 1\n");
    rendered_text(&report);
    cr_assert(strstr(storage, "\n  views of interpreter 0 (main) and interpreter 1 (sub \"1\", "
                              "isolated), compared in thread 4243\n"),
              "%s", storage);
    cr_assert(strstr(storage, "\n    '__repr__': own in interpreter 0 (main), inherited from "
                              "object in interpreter 1\n    'we\"ird': only in interpreter 1\n"),
              "%s", storage);
    cr_assert_null(strstr(storage, "allocated by"), "%s", storage);
    rendered_json(&report);
    cr_assert(strstr(storage,
                     ",\"differences\":[{\"name\":\"__repr__\",\"difference\":\"own in interpreter "
                     "0 (main), inherited from object in interpreter 1\"},{\"name\":\"we\\\"ird\","
                     "\"difference\":\"only in interpreter 1\"}]"),
              "%s", storage);
}

/* A holder every interpreter shares (a static type) has no owner. */
Test(report, shared_holder)
{
    make_report(&report);
    report.kind = XS_KIND_CROSS_INTERPRETER_REFERENCE;
    report.access = XISAN_ACCESS_REFERENCE;
    snprintf(report.container_type, sizeof(report.container_type), "type");
    report.container_address = 0x1000;
    report.container_owner = XISAN_UNOWNED;
    snprintf(report.path, sizeof(report.path), "m.Thing.__dict__['registry']");
    rendered_text(&report);
    cr_assert(strstr(storage, "\n  referenced by type object at 0x1000, shared by every "
                              "interpreter, at m.Thing.__dict__['registry']\n"),
              "%s", storage);
    rendered_json(&report);
    cr_assert(strstr(storage, "\"container_interp\":null,\"path\":\"m.Thing.__dict__['registry']\""),
              "%s", storage);
}

/* An import checked as it happens: the SUMMARY line names the import
 * statement, not CPython's import machinery. */
Test(report, summary_skips_import_machinery)
{
    make_report(&report);
    report.kind = XS_KIND_CROSS_INTERPRETER_REFERENCE;
    report.access = XISAN_ACCESS_REFERENCE;
    report.n_python = 3;
    report.python[0] = (xs_pyframe_t){"<frozen importlib._bootstrap>", "_load_unlocked", 947};
    report.python[1] = (xs_pyframe_t){"<frozen importlib._bootstrap>", "_find_and_load", 1360};
    report.python[2] = (xs_pyframe_t){"/app/main.py", "<module>", 3};
    cr_assert_str_eq(summary_line(&report),
                     "SUMMARY: XISan: cross-interpreter-reference /app/main.py:3 in <module>");
}
