# Continue mode reports a site once; the log keeps how often it came back
# (a "repeats" record written at exit, keyed by the report's "site"), so
# `xisan report` counts every occurrence: here the same access five times.
#
# RUN: mkdir -p logs
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0:survivors=0:log_path=logs/run
# EXIT: 66
# RUN: %xisan report logs/run
# EXIT: 1
# CHECK-STDOUT: ^xisan report: 1 site in 1 record from 1 process$
# CHECK-STDOUT: ^    5 occurrences in 1 process$
import glob
import json
import os

import sys


def verify(case):
    records = []
    for path in glob.glob(os.path.join(case.tmp, "logs", "run.*.jsonl")):
        with open(path) as f:
            records += [json.loads(line) for line in f]
    reports = [r for r in records if r["kind"] == "cross-interpreter-access"]
    repeats = [r for r in records if r["kind"] == "repeats"]
    case.check(len(reports) == 1 and len(repeats) == 1, "one report and one repeats record",
               [r["kind"] for r in records])
    case.check(repeats[0]["sites"].get(reports[0]["site"]) == 4,
               "the repeats of the reported site", repeats[0], reports[0].get("site"))


if __name__ == "__main__":
    import xfix
    import xinterp

    xfix.get_cached()
    interp = xinterp.create()
    xinterp.run(interp, "import sub\nfor _ in range(5):\n    sub.use_cached()")
    xinterp.destroy(interp)
