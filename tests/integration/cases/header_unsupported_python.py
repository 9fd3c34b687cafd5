# xisan/python.h with another CPython's headers (3.10 or 3.11, when this
# machine has them) stops the build with an #error naming the supported
# versions.  Skipped without such headers.
import glob
import os


def verify(case):
    includes = sorted(glob.glob(os.path.expanduser(
        "~/.pyenv/versions/3.1[01]*/include/python3.1[01]")))
    includes += [p for p in ["/usr/include/python3.11"] if os.path.exists(p + "/Python.h")]
    if not includes:
        case.skip("no CPython 3.10/3.11 headers on this machine")
    src = os.path.join(case.tmp, "mod.c")
    with open(src, "w") as f:
        f.write("#include <Python.h>\nint answer(void) { return 42; }\n")
    for include in includes:
        result = case.run(f"sh -c 'cc -c -I{include} $(%xisan config --cflags) {src} -o %tmp/mod.o'")
        case.check(result.status != 0 and "supports CPython 3.12 and 3.13 only" in result.stderr,
                   f"{include}: expected the #error", result.describe())
        print(f"{include}: #error as expected")
