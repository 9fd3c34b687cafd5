/* `xisan report [--format text|json|sarif] [--output FILE]
 *               [--suppressions FILE] [--source-root DIR] LOG...`
 *
 * Reads the JSON logs of a run (each LOG a `.jsonl` file or a `log_path`
 * prefix), merges the records of all processes into sites, the way the
 * runtime deduplicates (a kind, the place of the touch, the object's kind
 * and owner and where it was allocated), counts occurrences, processes and
 * tests, and writes one list.  Records are read with jansson. */
#include "sites.h"

#include "hash.h"
#include "report.h"
#include "runtime_code.h"
#include "stack.h"
#include "suppress.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* CPython's own code, as the adapter names it: the most useful frame of an
 * allocation is the first of the user's native code that interpreted code
 * called. */
static const xs_runtime_code_t cpython = {XH_RUNTIME_MODULE, xh_runtime_sources};

typedef struct options {
    const char *format, *output, *suppressions, *source_root;
} options_t;

static int bad_input(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "xisan report: error: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long num(const json_t *o, const char *key, long otherwise)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : otherwise;
}

/* ---- places ------------------------------------------------------------ */

static const char *source_root;

static location_t location(const char *file, int line, const char *function)
{
    if (source_root && file) {
        size_t n = strlen(source_root);
        while (n > 1 && source_root[n - 1] == '/')
            n--;
        if (strncmp(file, source_root, n) == 0 && file[n] == '/')
            file += n + 1;
    }
    return (location_t){file ? strdup(file) : NULL, line, function ? strdup(function) : NULL};
}

static size_t native_frames(const json_t *list, xs_native_frame_t *out, size_t max)
{
    size_t n = 0, i;
    json_t *f;
    json_array_foreach(list, i, f)
    {
        if (n == max)
            break;
        xs_native_frame_t *o = &out[n++];
        memset(o, 0, sizeof(*o));
        o->pc = (uintptr_t)strtoull(str(f, "pc"), NULL, 16);
        snprintf(o->module, sizeof(o->module), "%s", str(f, "module"));
        snprintf(o->function, sizeof(o->function), "%s", str(f, "function"));
        snprintf(o->file, sizeof(o->file), "%s", str(f, "file"));
        o->line = (int)num(f, "line", 0);
    }
    return n;
}

static size_t python_frames(const json_t *list, xs_pyframe_t *out, size_t max)
{
    size_t n = 0, i;
    json_t *f;
    json_array_foreach(list, i, f)
    {
        if (n == max)
            break;
        out[n++] = (xs_pyframe_t){str(f, "file"), str(f, "function"), (int)num(f, "line", 0)};
    }
    return n;
}

/* Where an allocation happened, for people: the runtime's choice for a
 * site (src/site.c xs_site_describe), from the record's stacks. */
static location_t alloc_location(const json_t *rec)
{
    static xs_native_frame_t frames[XS_MAX_NATIVE];
    size_t n = native_frames(json_object_get(rec, "alloc_native_stack"), frames, XS_MAX_NATIVE);
    long user = xs_first_user_frame(frames, n, &cpython, XH_EVAL_PREFIX);
    if (user >= 0)
        return location(frames[user].file, frames[user].line, frames[user].function);
    const json_t *py = json_array_get(json_object_get(rec, "alloc_python_stack"), 0);
    if (py)
        return location(str(py, "file"), (int)num(py, "line", 0), str(py, "function"));
    user = xs_first_user_frame(frames, n, NULL, NULL);
    if (user >= 0)
        return location(frames[user].file, frames[user].line, frames[user].function);
    return (location_t){NULL, 0, NULL};
}

/* "file:line in function", as survivors records write a site. */
static location_t parse_where(const char *where)
{
    char file[512] = "", function[256] = "";
    int line = 0;
    if (sscanf(where, "%511[^:]:%d in %255s", file, &line, function) >= 2)
        return location(file, line, function);
    return location(where, 0, NULL);
}

static void free_location(location_t *l)
{
    free(l->file);
    free(l->function);
}

/* ---- suppressions ------------------------------------------------------ */

static xs_suppressions_t suppressions;

static bool suppressed(const json_t *rec)
{
    if (suppressions.n == 0)
        return false;
    static xs_native_frame_t native[2][XS_MAX_NATIVE];
    static xs_pyframe_t python[2][XS_MAX_PYTHON];
    static const char *const keys[2][2] = {{"native_stack", "python_stack"},
                                           {"alloc_native_stack", "alloc_python_stack"}};
    xs_suppress_subject_t subject = {.kind = str(rec, "kind")};
    for (int k = 0; k < 2; k++) {
        subject.native[k] = native[k];
        subject.n_native[k] = native_frames(json_object_get(rec, keys[k][0]), native[k],
                                            XS_MAX_NATIVE);
        subject.python[k] = python[k];
        subject.n_python[k] = python_frames(json_object_get(rec, keys[k][1]), python[k],
                                            XS_MAX_PYTHON);
    }
    subject.object_type = str(rec, "object_type");
    return xs_suppressions_match_subject(&suppressions, &subject) != NULL;
}

/* ---- merging ----------------------------------------------------------- */

static json_t *index_of_key;  /* key -> index into the sites */
static json_t *index_of_site; /* "pid:site" of a record -> index into the sites */

static site_t *site_for(merged_t *m, const char *key)
{
    json_t *at = json_object_get(index_of_key, key);
    if (at)
        return &m->sites[json_integer_value(at)];
    if ((m->n & (m->n - 1)) == 0) {
        site_t *more = realloc(m->sites, (m->n ? 2 * m->n : 1) * sizeof(site_t));
        if (more == NULL)
            return NULL;
        m->sites = more;
    }
    site_t *s = &m->sites[m->n];
    memset(s, 0, sizeof(*s));
    s->key = strdup(key);
    s->pids = json_object();
    s->tests = json_object();
    json_object_set_new(index_of_key, key, json_integer((json_int_t)m->n));
    m->n++;
    return s;
}

static void count(merged_t *m, site_t *s, const json_t *rec, unsigned long occurrences)
{
    char pid[32];
    snprintf(pid, sizeof(pid), "%ld", num(rec, "pid", -1));
    json_object_set_new(s->pids, pid, json_true());
    json_object_set_new(m->pids, pid, json_true());
    const char *test = json_string_value(json_object_get(rec, "test"));
    if (test && test[0])
        json_object_set_new(s->tests, test, json_true());
    s->occurrences += occurrences;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

static char *describe_loc(const location_t *l)
{
    return format("%s:%d:%s", l->file ? l->file : "", l->line, l->function ? l->function : "");
}

/* A holder every interpreter shares (a static type): container_interp null. */
static bool shared_holder(const json_t *rec)
{
    return json_object_get(rec, "container_type") &&
           json_is_null(json_object_get(rec, "container_interp"));
}

/* "__repr__, extra" of a static-type-divergence record. */
static char *difference_names(const json_t *differences)
{
    char *out = strdup("");
    size_t i;
    const json_t *d;
    json_array_foreach(differences, i, d) {
        char *more = out ? format("%s%s%s", out, i ? ", " : "", str(d, "name")) : NULL;
        free(out);
        out = more;
    }
    return out;
}

static void add_finding(merged_t *m, const json_t *rec)
{
    const char *kind = str(rec, "kind");
    const json_t *summary = json_object_get(rec, "summary");
    location_t where = location(str(summary, "file"), (int)num(summary, "line", 0),
                                str(summary, "function"));
    location_t alloc = alloc_location(rec);
    char *w = describe_loc(&where), *a = describe_loc(&alloc);
    bool crash = strcmp(kind, "crash") == 0;
    const json_t *differences = json_object_get(rec, "differences");
    char *names = differences ? difference_names(differences) : NULL;
    const char *type = crash ? str(json_object_get(rec, "fault"), "object_type") : str(rec, "object_type");
    char *key = crash ? format("crash\t%s\t%s\t%s\t%s\t%s", str(rec, "signal"), w,
                               str(json_object_get(rec, "fault"), "memory"), type, a)
                      : format("%s\t%s\t%s\t%s\t%ld\t%s\t%s\t%s", kind, str(rec, "access"), w, type,
                               num(rec, "owner_interp", -1), str(rec, "container_type"), a,
                               shared_holder(rec) || differences ? str(rec, "path")[0]
                                                                       ? str(rec, "path")
                                                                       : str(rec, "object_name")
                                                                 : "");
    site_t *s = key ? site_for(m, key) : NULL;
    if (s && s->kind == NULL) {
        s->kind = strdup(kind);
        s->where = where;
        s->alloc = alloc;
        if (crash)
            s->what = format("%s (%s memory%s%s)", str(rec, "signal"),
                             str(json_object_get(rec, "fault"), "memory")[0]
                                 ? str(json_object_get(rec, "fault"), "memory")
                                 : "no fault address:",
                             type[0] ? ", " : "", type);
        else if (differences)
            s->what = format("type %s: the views of interpreter %ld and interpreter %ld differ in %s",
                             str(rec, "object_name"), num(rec, "owner_interp", -1),
                             num(rec, "current_interp", -1), names);
        else if (shared_holder(rec))
            s->what = format("%s object of interpreter %ld referenced by a %s every interpreter "
                             "shares, at %s",
                             type[0] ? type : "memory block", num(rec, "owner_interp", -1),
                             str(rec, "container_type"), str(rec, "path"));
        else if (json_object_get(rec, "container_type"))
            s->what = format("%s object of interpreter %ld referenced by %s of interpreter %ld",
                             type[0] ? type : "memory block", num(rec, "owner_interp", -1),
                             str(rec, "container_type"), num(rec, "container_interp", -1));
        else
            s->what = format("%s object of interpreter %ld%s touched by interpreter %ld (%s)",
                             type[0] ? type : "memory block", num(rec, "owner_interp", -1),
                             json_is_true(json_object_get(rec, "owner_ended")) ? " (ended)" : "",
                             num(rec, "current_interp", -1), str(rec, "access"));
    } else {
        free_location(&where);
        free_location(&alloc);
    }
    if (s) {
        count(m, s, rec, 1);
        const char *site = str(rec, "site");
        char *id = site[0] ? format("%ld:%s", num(rec, "pid", -1), site) : NULL;
        if (id)
            json_object_set_new(index_of_site, id, json_integer((json_int_t)(s - m->sites)));
        free(id);
    }
    free(key);
    free(w);
    free(a);
    free(names);
}

/* A process's repeats of the sites it reported once (continue mode). */
static void add_repeats(merged_t *m, const json_t *rec)
{
    const char *site;
    json_t *n;
    json_object_foreach(json_object_get(rec, "sites"), site, n)
    {
        char *id = format("%ld:%s", num(rec, "pid", -1), site);
        json_t *at = id ? json_object_get(index_of_site, id) : NULL;
        if (at && json_is_integer(n))
            m->sites[json_integer_value(at)].occurrences += (unsigned long)json_integer_value(n);
        free(id);
    }
}

/* Each group of a survivors record is a site of its own. */
static void add_survivors(merged_t *m, const json_t *rec)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(rec, "groups"), i, g)
    {
        const char *type = json_is_string(json_object_get(g, "type")) ? str(g, "type") : "";
        const char *where = str(json_array_get(json_object_get(g, "sites"), 0), "where");
        char *key = format("survivors\t%ld\t%s\t%s", num(g, "interp", -1), type, where);
        site_t *s = key ? site_for(m, key) : NULL;
        free(key);
        if (s == NULL)
            continue;
        if (s->kind == NULL) {
            s->kind = strdup("survivors");
            s->what = format("%s of interpreter %ld still allocated at exit, after it ended",
                             type[0] ? type : "blocks that are no object", num(g, "interp", -1));
            s->alloc = parse_where(where);
            s->where = parse_where(where);
        }
        count(m, s, rec, (unsigned long)num(g, "count", 1));
    }
}

/* ---- reading ----------------------------------------------------------- */

static int read_log(merged_t *m, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return bad_input("%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long number = 0;
    int status = 0;
    while (status == 0 && (len = getline(&line, &cap, f)) > 0) {
        number++;
        bool whole = line[len - 1] == '\n';
        json_error_t err;
        json_t *rec = json_loadb(line, (size_t)len, 0, &err);
        if (rec == NULL || !json_is_object(rec) || !json_is_string(json_object_get(rec, "kind"))) {
            if (!whole && fgetc(f) == EOF) {
                fprintf(stderr, "xisan report: warning: %s: the last line is cut short (a "
                                "process killed while writing it?): left out\n", path);
            } else {
                char where[64];
                snprintf(where, sizeof(where), "%ld", number);
                fprintf(stderr, "xisan report: error: %s:%s: not a record of xisan's: %s\n", path,
                        where, rec ? "no \"kind\"" : err.text);
                status = 2;
            }
            json_decref(rec);
            continue;
        }
        if (strcmp(str(rec, "kind"), "repeats") == 0) {
            add_repeats(m, rec);
            json_decref(rec);
            continue;
        }
        m->records++;
        if (strcmp(str(rec, "kind"), "survivors") == 0)
            add_survivors(m, rec);
        else if (suppressed(rec))
            m->suppressed++;
        else
            add_finding(m, rec);
        json_decref(rec);
    }
    free(line);
    fclose(f);
    return status;
}

/* A LOG argument: a file, or a log_path prefix (PREFIX.<pid>.jsonl). */
static int read_arg(merged_t *m, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISREG(st.st_mode))
        return read_log(m, arg);
    char *pattern = format("%s.*.jsonl", arg);
    glob_t g = {0};
    int found = pattern ? glob(pattern, 0, NULL, &g) : GLOB_NOSPACE;
    free(pattern);
    if (found != 0) {
        globfree(&g);
        return bad_input("%s: no such log file, and no %s.<pid>.jsonl", arg, arg);
    }
    int status = 0;
    for (size_t i = 0; i < g.gl_pathc && status == 0; i++)
        status = read_log(m, g.gl_pathv[i]);
    globfree(&g);
    return status;
}

/* ---- writing ----------------------------------------------------------- */

static int by_occurrences(const void *a, const void *b)
{
    const site_t *x = a, *y = b;
    if (x->occurrences != y->occurrences)
        return x->occurrences < y->occurrences ? 1 : -1;
    return strcmp(x->key, y->key);
}

void report_fingerprint(const site_t *s, char out[17])
{
    /* the key holds no address and no process id: kinds, types, interpreter
     * numbers, files (relative to --source-root), lines and functions */
    snprintf(out, 17, "%016llx", (unsigned long long)xs_hash_str(0x78697361, s->key));
}

static void print_location(FILE *out, const char *label, const location_t *l)
{
    if (l->file == NULL || !l->file[0])
        return;
    if (l->line > 0)
        fprintf(out, "    %s %s:%d in %s\n", label, l->file, l->line,
                l->function && l->function[0] ? l->function : "??");
    else
        fprintf(out, "    %s %s\n", label, l->file);
}

static const char *plural(unsigned long n)
{
    return n == 1 ? "" : "s";
}

static void write_text(const merged_t *m, FILE *out)
{
    fprintf(out, "xisan report: %zu site%s in %lu record%s from %zu process%s", m->n, plural(m->n),
            m->records, plural(m->records), json_object_size(m->pids),
            json_object_size(m->pids) == 1 ? "" : "es");
    if (m->suppressed)
        fprintf(out, " (%lu suppressed)", m->suppressed);
    fputs("\n", out);
    json_t *totals = json_object();
    for (size_t i = 0; i < m->n; i++) {
        const site_t *s = &m->sites[i];
        size_t procs = json_object_size(s->pids);
        fprintf(out, "\n#%zu %s: %s\n    %lu occurrence%s in %zu process%s\n", i + 1, s->kind,
                s->what, s->occurrences, plural(s->occurrences), procs, procs == 1 ? "" : "es");
        if (strcmp(s->kind, "survivors") != 0)
            print_location(out, "at", &s->where);
        print_location(out, "allocated at", &s->alloc);
        if (json_object_size(s->tests)) {
            fputs("    tests:", out);
            const char *test;
            json_t *unused;
            json_object_foreach(s->tests, test, unused) fprintf(out, " %s", test);
            fputs("\n", out);
        }
        json_t *t = json_object_get(totals, s->kind);
        if (t == NULL) {
            t = json_pack("{s:i,s:i}", "sites", 0, "occurrences", 0);
            json_object_set_new(totals, s->kind, t);
        }
        json_object_set_new(t, "sites", json_integer(json_integer_value(json_object_get(t, "sites")) + 1));
        json_object_set_new(t, "occurrences",
                            json_integer(json_integer_value(json_object_get(t, "occurrences")) +
                                         (json_int_t)s->occurrences));
    }
    if (m->n)
        fputs("\n", out);
    /* by test: which tests found what */
    json_t *by_test = json_object();
    for (size_t i = 0; i < m->n; i++) {
        const char *test;
        json_t *unused;
        json_object_foreach(m->sites[i].tests, test, unused)
        {
            json_t *list = json_object_get(by_test, test);
            if (list == NULL) {
                list = json_array();
                json_object_set_new(by_test, test, list);
            }
            json_array_append_new(list, json_integer((json_int_t)i + 1));
        }
    }
    const char *test;
    json_t *sites;
    json_object_foreach(by_test, test, sites)
    {
        fprintf(out, "test %s: site%s", test, json_array_size(sites) == 1 ? "" : "s");
        size_t k;
        json_t *n;
        json_array_foreach(sites, k, n) fprintf(out, " #%lld", (long long)json_integer_value(n));
        fputs("\n", out);
    }
    json_decref(by_test);
    const char *kind;
    json_t *t;
    json_object_foreach(totals, kind, t)
    {
        long sites = (long)json_integer_value(json_object_get(t, "sites"));
        long occ = (long)json_integer_value(json_object_get(t, "occurrences"));
        fprintf(out, "%s: %ld site%s, %ld occurrence%s\n", kind, sites, plural((unsigned long)sites),
                occ, plural((unsigned long)occ));
    }
    json_decref(totals);
}

static json_t *location_json(const location_t *l)
{
    if (l->file == NULL)
        return json_null();
    return json_pack("{s:s,s:i,s:s?}", "file", l->file, "line", l->line, "function", l->function);
}

static json_t *set_keys(const json_t *set)
{
    json_t *list = json_array();
    const char *key;
    json_t *unused;
    json_object_foreach((json_t *)set, key, unused) json_array_append_new(list, json_string(key));
    return list;
}

static json_t *merged_json(const merged_t *m)
{
    json_t *sites = json_array();
    for (size_t i = 0; i < m->n; i++) {
        const site_t *s = &m->sites[i];
        char fp[17];
        report_fingerprint(s, fp);
        json_array_append_new(
            sites, json_pack("{s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:s}", "kind", s->kind, "what", s->what,
                             "location", location_json(&s->where), "alloc_location",
                             location_json(&s->alloc), "occurrences", (json_int_t)s->occurrences,
                             "processes", (json_int_t)json_object_size(s->pids), "tests",
                             set_keys(s->tests), "fingerprint", fp));
    }
    return json_pack("{s:I,s:I,s:I,s:o}", "records", (json_int_t)m->records, "processes",
                     (json_int_t)json_object_size(m->pids), "suppressed",
                     (json_int_t)m->suppressed, "sites", sites);
}

static void free_merged(merged_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        site_t *s = &m->sites[i];
        free(s->key);
        free(s->kind);
        free(s->what);
        free_location(&s->where);
        free_location(&s->alloc);
        json_decref(s->pids);
        json_decref(s->tests);
    }
    free(m->sites);
    json_decref(m->pids);
}

static const char usage[] =
    "usage: xisan report [--format text|json|sarif] [--output FILE] [--suppressions FILE]\n"
    "                    [--source-root DIR] LOG...\n";

static int parse_args(int argc, char **argv, options_t *o, int *first_log)
{
    *o = (options_t){"text", NULL, NULL, NULL};
    int i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char **slot = strcmp(argv[i], "--format") == 0         ? &o->format
                            : strcmp(argv[i], "--output") == 0       ? &o->output
                            : strcmp(argv[i], "--suppressions") == 0 ? &o->suppressions
                            : strcmp(argv[i], "--source-root") == 0  ? &o->source_root
                                                                     : NULL;
        if (slot == NULL || i + 1 >= argc) {
            fputs(usage, stderr);
            return bad_input("%s%s", argv[i], slot ? " needs a value" : ": unknown flag");
        }
        *slot = argv[++i];
    }
    if (strcmp(o->format, "text") && strcmp(o->format, "json") && strcmp(o->format, "sarif"))
        return bad_input("--format %s%s: text, json or sarif", o->format, "");
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    *first_log = i;
    return 0;
}

int report_main(int argc, char **argv)
{
    options_t o;
    int first;
    if (parse_args(argc, argv, &o, &first) != 0)
        return 2;
    source_root = o.source_root;
    char err[512];
    if (o.suppressions &&
        xs_suppressions_load(o.suppressions, xs_kind_names(), &suppressions, err, sizeof(err)) < 0)
        return bad_input("%s%s", err, "");
    merged_t m = {.pids = json_object()};
    index_of_key = json_object();
    index_of_site = json_object();
    int status = 0;
    for (int i = first; i < argc && status == 0; i++)
        status = read_arg(&m, argv[i]);
    if (status == 0) {
        qsort(m.sites, m.n, sizeof(site_t), by_occurrences);
        FILE *out = o.output ? fopen(o.output, "w") : stdout;
        if (out == NULL) {
            status = bad_input("%s: %s", o.output, strerror(errno));
        } else {
            if (strcmp(o.format, "text") == 0) {
                write_text(&m, out);
            } else {
                json_t *doc = strcmp(o.format, "json") == 0 ? merged_json(&m) : report_sarif(&m);
                json_dumpf(doc, out, JSON_INDENT(2));
                fputs("\n", out);
                json_decref(doc);
            }
            if (out != stdout && fclose(out) != 0)
                status = bad_input("%s: %s", o.output, strerror(errno));
            else if (m.n > 0)
                status = 1;
        }
    }
    free_merged(&m);
    json_decref(index_of_key);
    json_decref(index_of_site);
    xs_suppressions_free(&suppressions);
    return status;
}
