#!/usr/bin/env python3
"""Cost of a checked Py_INCREF: ns per Py_INCREF+Py_DECREF pair, plain build
vs built with <xisan/python.h>, with and without the runtime.

    bench/incref/run.py --xisan build/bin/xisan --python /path/python3.13

Builds both modules into a temporary folder with the C compiler, then runs
the loop (on a list owned by the calling interpreter: the check passes, as
it does for nearly every refcount operation of a correct extension)."""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAIRS = 50_000_000

MEASURE = f"""
import xbench_plain, xbench_checked
obj = [1, 2, 3]
for mod in (xbench_plain, xbench_checked):
    best = min(mod.pair_ns(obj, {PAIRS}) for _ in range(5))
    print(mod.__name__, f"{{best:.2f}}")
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--xisan", required=True)
    ap.add_argument("--python", required=True)
    args = ap.parse_args()
    facts = subprocess.run(
        [args.python, "-c", "import sysconfig; print(sysconfig.get_paths()['include']);"
         "print(sysconfig.get_config_var('EXT_SUFFIX'))"], capture_output=True, text=True,
        check=True).stdout.split()
    out = tempfile.mkdtemp(prefix="xbench-")
    cflags = subprocess.run([args.xisan, "config", "--cflags"], capture_output=True, text=True,
                            check=True).stdout.split()
    for name, extra in (("xbench_plain", []), ("xbench_checked", cflags)):
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", f"-I{facts[0]}", f"-DXBENCH_NAME={name}"]
                       + extra + [os.path.join(HERE, "xbench.c"), "-o",
                                  os.path.join(out, name + facts[1])], check=True)
    env = dict(os.environ, PYTHONPATH=out)
    env.pop("XISAN_OPTIONS", None)
    rows = {}
    for label, argv in (("without xisan", [args.python, "-c", MEASURE]),
                        ("under xisan run", [args.xisan, "run", "--", args.python, "-c", MEASURE])):
        res = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        for line in res.stdout.splitlines():
            name, ns = line.split()
            rows[(label, name)] = float(ns)
    print(f"ns per Py_INCREF+Py_DECREF pair, best of 5 x {PAIRS:,} ({args.python})")
    print(f"{'':18} {'plain build':>12} {'checked build':>14}")
    for label in ("without xisan", "under xisan run"):
        print(f"{label:18} {rows[(label, 'xbench_plain')]:12.2f} "
              f"{rows[(label, 'xbench_checked')]:14.2f}")
    extra = rows[("under xisan run", "xbench_checked")] - rows[("under xisan run", "xbench_plain")]
    print(f"checked Py_INCREF+Py_DECREF under xisan: +{extra:.2f} ns a pair, "
          f"+{extra / 2:.2f} ns an operation")


if __name__ == "__main__":
    sys.exit(main())
