# `xisan help` lists every option of the options tables (src/options.inc, the
# core's, and hooks/python_options.inc, the CPython adapter's) with its
# default, and every report kind of src/kinds.inc.
#
# RUN: %xisan help
import os
import re


def verify(case):
    tables = [os.path.join(case.root, t) for t in ("src/options.inc", "hooks/python_options.inc")]
    lines = []
    for path in tables:
        with open(path) as f:
            lines += [line.strip() for line in f if re.match(r"\s*XISAN_OPTION\(", line)]
    options = [re.match(r'XISAN_OPTION\((\w+), (\w+), ("[^"]*"|[^,]+),', line) for line in lines]
    case.check(all(options), "an XISAN_OPTION( line not understood",
               [line for line, m in zip(lines, options) if not m])
    case.check(len(options) >= 6, f"could not read the options tables: {len(options)} options")
    for m in options:
        name, default = m.group(2), m.group(3)
        case.check(re.search(rf"^  {name} +\w+ +default: {re.escape(default)}$",
                             case.runs[0].stdout, re.M),
                   f"option {name} (default {default}) not listed", case.runs[0].stdout)
    with open(os.path.join(case.root, "src", "kinds.inc")) as f:
        kinds = re.findall(r'^XS_KIND\(\w+, "([a-z-]+)"', f.read(), re.M)
    case.check(len(kinds) >= 4, f"could not read the kinds table: {kinds}")
    for kind in kinds:
        case.check(re.search(rf"^  {kind} +\S", case.runs[0].stdout, re.M),
                   f"report kind {kind} not listed", case.runs[0].stdout)
