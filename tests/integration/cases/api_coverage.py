# Every row of the C API table (hooks/api/api.inc) is a wrapper that checks
# the objects the table says: run in a sub-interpreter, each wrapper is
# called with the main interpreter's object in each object position and as
# each object result (CPython itself is not called), and each reports it; an
# object of the sub-interpreter's own, and an immortal one, are reported
# nowhere.  docs/api.md lists exactly the table's functions.
#
# RUN: %xisan run -- %python %s
# OPTIONS: monitor=none
# CHECK-STDOUT: ^functions: \d+$
# CHECK-STDOUT: ^foreign: \d+ places, missed \[\], extra \[\]$
# CHECK-STDOUT: ^own: \d+ places, missed \[\], extra \[\]$
# CHECK-STDOUT: ^immortal: \d+ places, missed \[\], extra \[\]$
# REPORTS: 0
import os
import re


def verify(case):
    out = case.runs[0].stdout
    functions = int(re.search(r"^functions: (\d+)$", out, re.M).group(1))
    case.check(functions >= 150, f"only {functions} functions in the table")
    version = re.search(r"^version: (\d+)$", out, re.M).group(1)
    with open(os.path.join(case.root, "docs", "api.md")) as f:
        rows = re.findall(r"^\| `(\w+)`( \(3\.13\))? \|", f.read(), re.M)
    documented = {name for name, only in rows if version == "13" or not only}
    listed = set(re.search(r"^names: (.*)$", out, re.M).group(1).split())
    case.check(documented == listed, "docs/api.md differs from the table: run scripts/update-docs",
               sorted(documented ^ listed))


if __name__ == "__main__":
    import xfix
    import xinterp
    xfix.put(0, ["owned by the main interpreter"])
    interp = xinterp.create()
    xinterp.run(interp, """
import _xisan, sys, xfix
rows = _xisan._api_functions()
print("version:", sys.version_info[1])
print("functions:", len(rows))
print("names:", " ".join(name for name, _, _ in rows))
for label, obj in [("foreign", xfix.get(0)), ("own", ["mine"]), ("immortal", None)]:
    places, missed, extra = _xisan._api_selftest(obj)
    print(f"{label}: {places} places, missed {missed}, extra {extra}")
""")
    xinterp.destroy(interp)
