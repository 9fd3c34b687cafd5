# `xisan help` lists every option of the options tables (src/options.inc, the
# core's, and hooks/options.inc, the CPython adapter's, when it exists) with
# its default.
#
# RUN: %xisan help
import os
import re


def verify(case):
    tables = [os.path.join(case.root, t) for t in ("src/options.inc", "hooks/options.inc")]
    lines = []
    for path in tables:
        if os.path.exists(path):
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
