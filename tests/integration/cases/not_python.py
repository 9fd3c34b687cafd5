# Programs that are not a supported CPython run unchanged, and `xisan run`
# notes once that nothing was checked: a shell here, and any CPython 3.11 found
# (verify), whose output must be the same as without xisan.
#
# RUN: %xisan run -- sh -c "echo hi; echo err >&2"
# STDOUT: hi
# STDERR: err
# STDERR: xisan: note: no supported Python \(CPython 3\.12 or 3\.13\) ran under the checker
import glob
import os

NOTE = "xisan: note: no supported Python (CPython 3.12 or 3.13) ran under the checker\n"


def verify(case):
    older = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11*/bin/python3.11")))
    older += [p for p in ["/usr/bin/python3.11"] if os.path.exists(p)]
    for py in older:
        code = "import sys; print(sys.version_info[:2])"
        plain = case.run([py, "-c", code])
        checked = case.run([case.xisan, "run", "--", py, "-c", code])
        case.check(checked.stdout == plain.stdout and checked.stderr == plain.stderr + NOTE,
                   f"{py}: output changed under xisan", checked.describe(), plain.describe())
        print(f"{py}: unchanged under xisan")
