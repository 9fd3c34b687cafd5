/* SARIF 2.1.0 for code-scanning dashboards: tool xisan with one rule per
 * report kind (and one for survivors), one result per site with its most
 * useful location, the allocation as a related location, a fingerprint
 * that stays the same across runs, and the counts in its properties. */
#include "sites.h"

#include "report.h"

#include <string.h>

static const char *const survivors_rule = "survivors";

static json_t *rules(void)
{
    json_t *list = json_array();
    for (size_t i = 0; i < XS_KIND_COUNT; i++) {
        const xs_kind_desc_t *k = xs_kind((xs_kind_t)i);
        json_array_append_new(
            list, json_pack("{s:s,s:{s:s},s:{s:s},s:{s:s}}", "id", k->name, "shortDescription",
                            "text", k->description, "help", "text",
                            "What is checked, how, and what cannot be seen: docs/checks.md; "
                            "the report format: docs/reports.md.",
                            "defaultConfiguration", "level", "error"));
    }
    json_array_append_new(
        list, json_pack("{s:s,s:{s:s},s:{s:s},s:{s:s}}", "id", survivors_rule, "shortDescription",
                        "text",
                        "blocks of an interpreter that had ended were still allocated at exit",
                        "help", "text", "docs/checks.md; docs/reports.md (survivors records)",
                        "defaultConfiguration", "level", "warning"));
    return list;
}

static long rule_index(const char *kind)
{
    for (size_t i = 0; i < XS_KIND_COUNT; i++)
        if (strcmp(xs_kind((xs_kind_t)i)->name, kind) == 0)
            return (long)i;
    return (long)XS_KIND_COUNT; /* survivors */
}

static json_t *physical(const location_t *l)
{
    json_t *p = json_pack("{s:{s:s}}", "artifactLocation", "uri", l->file);
    if (l->line > 0)
        json_object_set_new(p, "region", json_pack("{s:i}", "startLine", l->line));
    return p;
}

static bool known(const location_t *l)
{
    return l->file && l->file[0];
}

static json_t *result(const site_t *s)
{
    char fp[17];
    report_fingerprint(s, fp);
    json_t *tests = json_array();
    const char *test;
    json_t *unused;
    json_object_foreach(s->tests, test, unused) json_array_append_new(tests, json_string(test));
    bool survivors = strcmp(s->kind, "survivors") == 0;
    json_t *r = json_pack(
        "{s:s,s:i,s:s,s:{s:s},s:{s:s},s:{s:I,s:I,s:o}}", "ruleId", s->kind, "ruleIndex",
        (int)rule_index(s->kind), "level", survivors ? "warning" : "error", "message", "text",
        s->what, "partialFingerprints", "xisanSite/v1", fp, "properties", "occurrences",
        (json_int_t)s->occurrences, "processes", (json_int_t)json_object_size(s->pids), "tests",
        tests);
    const location_t *where = known(&s->where) ? &s->where : &s->alloc;
    json_t *locations = json_array();
    if (known(where))
        json_array_append_new(locations, json_pack("{s:o}", "physicalLocation", physical(where)));
    json_object_set_new(r, "locations", locations);
    if (known(&s->alloc) && !survivors)
        json_object_set_new(r, "relatedLocations",
                            json_pack("[{s:i,s:{s:s},s:o}]", "id", 1, "message", "text",
                                      "allocated here", "physicalLocation", physical(&s->alloc)));
    return r;
}

json_t *report_sarif(const merged_t *m)
{
    json_t *results = json_array();
    for (size_t i = 0; i < m->n; i++)
        json_array_append_new(results, result(&m->sites[i]));
    return json_pack("{s:s,s:s,s:[{s:{s:{s:s,s:s,s:o}},s:o}]}", "$schema",
                     "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
                     "tool", "driver", "name", "xisan", "version", XISAN_VERSION, "rules",
                     rules(), "results", results);
}
