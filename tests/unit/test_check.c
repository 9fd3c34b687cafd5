/* The runtime check: xisan_check decides, reports, dedupes, logs, aborts. */
#include "unit.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

static char out[64 * 1024];
static uint32_t owner, other;

static void parse_options(const char *options)
{
    char err[256];
    cr_assert_eq(xs_options_parse(options, &xs_opt, err, sizeof(err)), 0, "%s", err);
}

/* Continue mode, two interpreters, the thread in the second one, stderr
 * captured.  A test's own .init runs after this one. */
static void setup(void)
{
    xs_tag_init();
    parse_options("halt_on_error=0");
    owner = xisan_interp_created(1, "sub-a"); /* owner 2 */
    other = xisan_interp_created(2, "sub-b"); /* owner 3 */
    xisan_set_current(other);
    cr_redirect_stderr();
}

TestSuite(check, .init = setup);

Test(check, other_owner_is_reported)
{
    void *block = unit_new_block(32, owner);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, "list"), 1);
    cr_assert_eq(xisan_report_count(), 1);
    unit_free_block(block);
    unit_read_stderr(out, sizeof(out));
    char banner[128];
    snprintf(banner, sizeof(banner),
             "==%d==ERROR: XISan: cross-interpreter-access on list object at %p (access: touch)\n",
             (int)getpid(), block);
    unit_assert_contains(out, banner);
    unit_assert_contains(out, "  owner: interpreter 1 (sub-a); touched by interpreter 2 (sub-b)");
    unit_assert_contains(out, "SUMMARY: XISan: cross-interpreter-access ");
    /* The native stack is symbolized down to the caller of xisan_check. */
    unit_assert_contains(out, " in check_other_owner_is_reported_impl ");
    unit_assert_contains(out, "test_check.c:");
}

static void setup_no_symbols(void)
{
    parse_options("halt_on_error=0:symbolize=0");
}

Test(check, symbolize_off_names_modules, .init = setup_no_symbols)
{
    void *block = unit_new_block(8, owner);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, "list"), 1);
    unit_free_block(block);
    unit_read_stderr(out, sizeof(out));
    /* Frames name their module, as the dynamic loader knows it. */
    Dl_info self;
    cr_assert(dladdr((void *)setup, &self));
    const char *slash = strrchr(self.dli_fname, '/');
    char module[256];
    snprintf(module, sizeof(module), " (%s)\n", slash ? slash + 1 : self.dli_fname);
    unit_assert_contains(out, module);
    cr_assert_null(strstr(out, "test_check.c:"), "libdw was used:\n%s", out);
}

Test(check, same_owner_passes)
{
    void *block = unit_new_block(32, owner);
    xisan_set_current(owner);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, "list"), 0);
    cr_assert_eq(xisan_report_count(), 0);
    unit_free_block(block);
}

Test(check, thread_without_interpreter_passes)
{
    void *block = unit_new_block(32, owner);
    xisan_set_current(XISAN_UNOWNED);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_FREE, "list"), 0);
    cr_assert_eq(xisan_report_count(), 0);
    unit_free_block(block);
}

Test(check, exempt_blocks_pass)
{
    void *unowned = unit_new_block(8, XISAN_UNOWNED);
    void *shared = unit_new_block(8, owner);
    xisan_set_shareable(shared, true);
    char *untagged = calloc(1, XISAN_HEADER_SIZE + 8);
    cr_assert_eq(xisan_check(unowned, XISAN_ACCESS_TOUCH, NULL), 0);
    cr_assert_eq(xisan_check(shared, XISAN_ACCESS_TOUCH, NULL), 0);
    cr_assert_eq(xisan_check(untagged + XISAN_HEADER_SIZE, XISAN_ACCESS_TOUCH, NULL), 0);
    cr_assert_eq(xisan_check(NULL, XISAN_ACCESS_TOUCH, NULL), 0);
    cr_assert_eq(xisan_report_count(), 0);
    unit_free_block(unowned);
    unit_free_block(shared);
    free(untagged);
}

Test(check, quiet_inside_the_runtime)
{
    /* Hooks re-entered from the runtime's own work must not report. */
    void *block = unit_new_block(8, owner);
    xs_in_runtime++;
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, NULL), 0);
    xs_in_runtime--;
    cr_assert_eq(xisan_report_count(), 0);
    unit_free_block(block);
}

Test(check, ended_owner_is_use_after_end)
{
    void *block = unit_new_block(8, owner);
    xisan_interp_ended(owner);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, "dict"), 1);
    unit_free_block(block);
    unit_read_stderr(out, sizeof(out));
    unit_assert_contains(out, "ERROR: XISan: use-after-interpreter-end on dict object");
    unit_assert_contains(out, "owner: interpreter 1 (sub-a), which has ended;");
}

Test(check, free_is_cross_interpreter_free)
{
    void *block = unit_new_block(8, owner);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_FREE, NULL), 1);
    unit_free_block(block);
    unit_read_stderr(out, sizeof(out));
    unit_assert_contains(out, "ERROR: XISan: cross-interpreter-free on memory block object at ");
    unit_assert_contains(out, "(access: free)");
}

Test(check, classify)
{
    cr_assert_eq(xs_classify(owner, XISAN_ACCESS_FREE), XS_KIND_CROSS_INTERPRETER_FREE);
    cr_assert_eq(xs_classify(owner, XISAN_ACCESS_DEALLOC), XS_KIND_CROSS_INTERPRETER_FREE);
    cr_assert_eq(xs_classify(owner, XISAN_ACCESS_REALLOC), XS_KIND_CROSS_INTERPRETER_FREE);
    cr_assert_eq(xs_classify(owner, XISAN_ACCESS_CALL), XS_KIND_CROSS_INTERPRETER_ACCESS);
    xs_interp_end(owner);
    cr_assert_eq(xs_classify(owner, XISAN_ACCESS_FREE), XS_KIND_USE_AFTER_INTERPRETER_END,
                 "the owner's end outranks the kind of access");
}

Test(check, same_site_reported_once)
{
    void *block = unit_new_block(8, owner);
    /* One call site hit three times; the volatile bound keeps the compiler
     * from unrolling the loop into three call sites. */
    volatile int times = 3;
    int sum = 0;
    for (int i = 0; i < times; i++)
        sum += xisan_check(block, XISAN_ACCESS_TOUCH, "list");
    cr_assert_eq(sum, 3, "every bad touch returns 1");
    cr_assert_eq(xisan_report_count(), 1);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, "list"), 1); /* another site */
    cr_assert_eq(xisan_report_count(), 2);
    unit_free_block(block);
    unit_read_stderr(out, sizeof(out));
    cr_assert_eq(unit_count(out, "ERROR: XISan:"), 2, "%s", out);
}

Test(check, allocation_site_is_reported)
{
    const xs_pyframe_t frame = {"/app/alloc.py", "make_list", 12};
    uint64_t word = xs_pyframe_word(&frame);
    uint32_t site = xs_capture_site(xs_depot_put(&word, 1));
    cr_assert_neq(site, 0);
    void *raw = malloc(XISAN_HEADER_SIZE + 8);
    void *block = xs_tag_block(raw, XISAN_LONG_HEADER, 8, owner, site);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, "list"), 1);
    unit_free_block(block);
    unit_read_stderr(out, sizeof(out));
    const char *alloc = strstr(out, "  allocated by interpreter 1 (sub-a) here:\n");
    cr_assert_not_null(alloc, "%s", out);
    /* the core's own frames (libxisan.so) are not part of the site */
    cr_assert_null(strstr(alloc, " in xs_"), "%s", alloc);
    unit_assert_contains(alloc, "    #0 0x");
    unit_assert_contains(alloc, " in check_allocation_site_is_reported_impl ");
    unit_assert_contains(alloc, "  Python stack at allocation (most recent call first):\n"
                                "    #0 File \"/app/alloc.py\", line 12, in make_list\n");
}

Test(check, exit_summary)
{
    void *block = unit_new_block(8, owner);
    volatile int times = 2;
    for (int i = 0; i < times; i++)
        xisan_check(block, XISAN_ACCESS_TOUCH, "list");
    xs_quarantine_add(100);
    xs_print_summary(XISAN_UNOWNED);
    unit_free_block(block);
    unit_read_stderr(out, sizeof(out));
    char line[160];
    snprintf(line, sizeof(line),
             "==%d==XISan: 1 report (1 repeats of reported sites not shown); "
             "quarantine holds 1 block, 100 bytes\n",
             (int)getpid());
    unit_assert_contains(out, line);
}

Test(check, no_summary_when_clean)
{
    xs_print_summary(XISAN_UNOWNED);
    unit_read_stderr(out, sizeof(out));
    cr_assert_str_eq(out, "");
}

static void setup_halt(void)
{
    struct rlimit none = {0, 0}; /* the abort below must not leave a core file */
    setrlimit(RLIMIT_CORE, &none);
    parse_options("halt_on_error=1");
}

Test(check, halt_on_error_aborts, .init = setup_halt, .signal = SIGABRT)
{
    void *block = unit_new_block(8, owner);
    xisan_check(block, XISAN_ACCESS_TOUCH, "list");
    cr_assert_fail("xisan_check returned with halt_on_error=1");
}

static char log_dir[64];

static void setup_log(void)
{
    strcpy(log_dir, "/tmp/xisan-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(log_dir));
    char options[128];
    snprintf(options, sizeof(options), "halt_on_error=0:log_path=%s/log", log_dir);
    parse_options(options);
}

Test(check, log_path_gets_json_lines, .init = setup_log)
{
    void *block = unit_new_block(40, owner);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, "list"), 1);
    unit_free_block(block);
    char path[128];
    snprintf(path, sizeof(path), "%s/log.%d.jsonl", log_dir, (int)getpid());
    size_t n = unit_read_file(path, out, sizeof(out));
    unlink(path);
    rmdir(log_dir);
    cr_assert_eq(unit_count(out, "\n"), 1, "one line per report:\n%s", out);
    cr_assert_eq(out[n - 1], '\n');
    cr_assert_eq(out[0], '{');
    unit_assert_contains(out, "\"kind\":\"cross-interpreter-access\"");
    unit_assert_contains(out, "\"object_type\":\"list\",");
    unit_assert_contains(out, "\"object_size\":40,");
    unit_assert_contains(out, "\"owner_interp\":1,\"owner_interp_name\":\"sub-a\"");
}

/* A report raised while the same thread is making one: one line, and the
 * outer report still comes out whole (no deadlock on the report lock). */
static void *nested_block;

static size_t reporting_python_stack(struct xisan_pyframe *frames,
                                     char (*names)[2][XISAN_PYNAME_MAX], size_t max,
                                     struct xisan_pystack_info *info)
{
    xs_touch_t t = {
        .kind = XS_KIND_CROSS_INTERPRETER_FREE,
        .access = XISAN_ACCESS_FREE,
        .user = nested_block,
        .object_address = (uintptr_t)nested_block,
        .owner = owner,
        .current = other,
    };
    cr_assert_not(xs_report_touch(&t), "a nested report is not made");
    return 0;
}

static const struct xisan_adapter nesting_adapter = {
    .abi_version = XISAN_ABI_VERSION,
    .python_stack = reporting_python_stack,
};

Test(check, nested_report_is_one_line)
{
    nested_block = unit_new_block(8, owner);
    xs_runtime_set_adapter(&nesting_adapter);
    void *block = unit_new_block(8, owner);
    cr_assert_eq(xisan_check(block, XISAN_ACCESS_TOUCH, "list"), 1);
    cr_assert_eq(xisan_report_count(), 1);
    xs_runtime_set_adapter(NULL);
    unit_free_block(block);
    unit_free_block(nested_block);
    unit_read_stderr(out, sizeof(out));
    char line[160];
    snprintf(line, sizeof(line),
             "==%d==XISan: cross-interpreter-free raised while making a report: not shown\n",
             (int)getpid());
    cr_assert_eq(unit_count(out, line), 1, "%s", out);
    cr_assert_eq(unit_count(out, "ERROR: XISan:"), 1, "%s", out);
    unit_assert_contains(out, "SUMMARY: XISan: cross-interpreter-access ");
}

Test(check, adapter_of_another_abi_is_refused)
{
    static const struct xisan_adapter old = {.abi_version = XISAN_ABI_VERSION - 1,
                                             .runtime_module = "libold"};
    xs_runtime_set_adapter(&old);
    cr_assert_null(xs_adapter()->runtime_module);
    cr_assert_eq(xisan_python_scan(), -1, "no adapter, no scan");
    unit_read_stderr(out, sizeof(out));
    unit_assert_contains(out, "xisan: warning: adapter of ABI version");
}

/* Each kind deduplicates by its own key (kinds.inc): a reference by holder
 * class, object class and allocation site; a check in instrumented code by
 * its source line, before any stack is captured. */
static xs_touch_t touch_of(void *block, xs_kind_t kind, xisan_access_t access)
{
    return (xs_touch_t){.kind = kind, .access = access, .user = block,
                        .object_address = (uintptr_t)block, .object_type = "list",
                        .object_class = 0x1000, .owner = owner, .current = other};
}

Test(check, dedup_key_per_kind)
{
    void *a = unit_new_block(8, owner), *b = unit_new_block(8, owner);
    xs_touch_t ref = touch_of(a, XS_KIND_CROSS_INTERPRETER_REFERENCE, XISAN_ACCESS_REFERENCE);
    ref.container_type = "dict";
    ref.container_class = 0x2000;
    cr_assert(xs_report_touch(&ref));
    ref.user = b; /* another object of the same classes and site: the same finding */
    cr_assert_not(xs_report_touch(&ref));
    ref.container_class = 0x3000;
    cr_assert(xs_report_touch(&ref), "another holder class is another site");

    xs_touch_t src = touch_of(a, XS_KIND_CROSS_INTERPRETER_ACCESS, XISAN_ACCESS_INCREF);
    src.src_file = "ext.c";
    src.src_line = 10;
    src.src_function = "f";
    cr_assert(xs_report_touch(&src));
    cr_assert_not(xs_report_touch(&src));
    src.src_line = 11;
    cr_assert(xs_report_touch(&src));
    cr_assert_eq(xisan_report_count(), 4);
    cr_assert_eq(xs_dedup_repeats(), 2);
    unit_free_block(a);
    unit_free_block(b);
}
