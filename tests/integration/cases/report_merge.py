# `xisan report` merges the logs of a run: this program starts three
# processes, two with the cached-list bug and one with the slot-drop bug,
# under `xisan run` in continue mode with its own log_path (run 1; a second
# run writes a second set of logs).  The report lists two sites, the cached
# list with 2 occurrences in 2 processes first (3.12 frees one more block of
# the slot-drop bug's object, which makes a site of its own); the same in JSON (verify
# checks the counts) and SARIF (verify checks its structure and that the
# fingerprints of both runs are the same).  Suppressions take the sites out
# (exit status 0 when nothing is left); a malformed line is an error naming
# file and line (exit status 2), a cut-short last line a warning; a missing
# log is an error.
#
# RUN: mkdir -p logs logs2
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0:survivors=0:log_path=logs/run
# EXIT: 66
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0:survivors=0:log_path=logs2/run
# EXIT: 66
#
# RUN: %xisan report logs/run
# EXIT: 1
# CHECK-STDOUT: ^xisan report: \d+ sites in \d+ records from 3 processes$
# CHECK-STDOUT: ^#1 cross-interpreter-access: list object of interpreter 0 touched by interpreter 1 \(call\)$
# CHECK-STDOUT: ^    2 occurrences in 2 processes$
# CHECK-STDOUT: ^    at \S+/sub\.py:%line(tests/integration/support/sub.py, XISAN-EXPECT: cached_object) in use_cached$
# CHECK-STDOUT: ^    allocated at \S+/xfix\.c:%line(tests/fixtures/xfix.c, cached_list = PyList_New(0);) in get_cached$
# CHECK-STDOUT: ^#2 cross-interpreter-free: Payload object of interpreter 0 touched by interpreter 1 \(dealloc\)$
# CHECK-STDOUT: ^    1 occurrence in 1 process$
# CHECK-STDOUT: ^cross-interpreter-access: 1 site, 2 occurrences$
# CHECK-STDOUT: ^cross-interpreter-free: \d+ sites?, \d+ occurrences?$
#
# RUN: %xisan report --format json logs/run
# EXIT: 1
# RUN: %xisan report --format sarif --source-root %root --output run1.sarif logs/run
# EXIT: 1
# RUN: %xisan report --format sarif --source-root %root --output run2.sarif logs2/run
# EXIT: 1
#
# RUN: sh -c 'echo "cross-interpreter-access:^get_cached$" > known.supp; echo "*:slot_drop.py$" >> known.supp'
# RUN: %xisan report --suppressions known.supp logs/run
# EXIT: 0
# CHECK-STDOUT: ^xisan report: 0 sites in (\d+) records from 0 processes \(\1 suppressed\)$
#
# RUN: sh -c 'cat logs/run.*.jsonl > cut.jsonl; printf "{\"kind\":" >> cut.jsonl'
# RUN: %xisan report cut.jsonl
# EXIT: 1
# CHECK: ^xisan report: warning: cut\.jsonl: the last line is cut short \(a process killed while writing it\?\): left out$
# CHECK-STDOUT: ^xisan report: \d+ sites in \d+ records from 3 processes$
# RUN: sh -c 'cat logs/run.*.jsonl > broken.jsonl; echo "not json" >> broken.jsonl; echo "{}" >> broken.jsonl'
# RUN: %xisan report broken.jsonl
# EXIT: 2
# CHECK: ^xisan report: error: broken\.jsonl:\d+: not a record of xisan's: 
# RUN: %xisan report nowhere/run
# EXIT: 2
# CHECK: ^xisan report: error: nowhere/run: no such log file, and no nowhere/run\.<pid>\.jsonl$
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def verify(case):
    merged = json.loads(case.runs[4].stdout)
    case.check(merged["processes"] == 3, "processes", merged)
    counts = [(s["kind"], s["occurrences"], s["processes"]) for s in merged["sites"]]
    case.check(counts[0] == ("cross-interpreter-access", 2, 2)
               and all(c == ("cross-interpreter-free", 1, 1) for c in counts[1:]) and len(counts) > 1,
               "site counts", counts)
    case.check(merged["records"] == sum(c[1] for c in counts), "records", merged["records"])
    prints = []
    for name in ("run1.sarif", "run2.sarif"):
        with open(os.path.join(case.tmp, name)) as f:
            sarif = json.load(f)
        case.check(sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"],
                   "SARIF version and schema", sarif.get("version"))
        run = sarif["runs"][0]
        driver = run["tool"]["driver"]
        rule_ids = [r["id"] for r in driver["rules"]]
        case.check(driver["name"] == "xisan" and "crash" in rule_ids and "survivors" in rule_ids
                   and all(r["shortDescription"]["text"] for r in driver["rules"]), "rules", rule_ids)
        results = run["results"]
        case.check(len(results) == len(counts), "a result per site", len(results))
        for r in results:
            case.check(rule_ids[r["ruleIndex"]] == r["ruleId"], "ruleIndex", r["ruleId"])
            loc = r["locations"][0]["physicalLocation"]
            case.check(not loc["artifactLocation"]["uri"].startswith("/")
                       and loc["region"]["startLine"] > 0, "a location relative to the root", loc)
            rel = r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            case.check(rel.startswith("tests/"), "the allocation as a related location", rel)
            case.check(r["properties"]["occurrences"] >= 1 and r["message"]["text"], "counts", r)
        prints.append(sorted(r["partialFingerprints"]["xisanSite/v1"] for r in results))
    case.check(prints[0] == prints[1], "fingerprints differ between runs", prints)


if __name__ == "__main__":
    cases = os.path.dirname(os.path.abspath(__file__))
    for script in ("cached_object.py", "cached_object.py", "slot_drop.py"):
        subprocess.run([sys.executable, os.path.join(cases, script)])
