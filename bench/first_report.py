#!/usr/bin/env python3
"""The cost of a process's first report: a three-line bug case (a list the
main interpreter cached in a C static, used by a sub-interpreter) under
`xisan run` in continue mode, with symbolize=0 and symbolize=1.

    bench/first_report.py --xisan build/bin/xisan --python /path/python3.13 \\
                          --fixtures build/fixtures/py313 [--rounds 7]

Printed: the median wall time and the largest peak RSS of each, and the
differences, which the symbolizer costs (goal: at most 0.2 s and 10 MB).
Each run must make exactly one report.
"""
import argparse
import os
import statistics
import sys
import tempfile

from bench import measure

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUG = """\
import xfix, xinterp
xfix.get_cached()
xinterp.run(xinterp.create(), "import sub; sub.use_cached()")
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xisan", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--fixtures", required=True, help="directory of the built xfix module")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "bug.py")
        with open(script, "w") as f:
            f.write(BUG)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [args.fixtures, os.path.join(ROOT, "tests", "integration", "support")]))
        results = {0: ([], []), 1: ([], [])}
        for _ in range(args.rounds):
            for symbolize in (0, 1):
                wall, rss, proc = measure([args.xisan, "run", "--", args.python, script],
                                          dict(env, XISAN_OPTIONS=f"halt_on_error=0:symbolize={symbolize}"),
                                          60)
                reports = proc.stderr.count("ERROR: XISan:")
                if reports != 1:
                    sys.exit(f"first_report: symbolize={symbolize}: {reports} reports, not 1")
                results[symbolize][0].append(wall)
                results[symbolize][1].append(rss)
    (t0, m0), (t1, m1) = [(statistics.median(w), max(m) / 1024) for w, m in results.values()]
    print(f"symbolize=0: {t0:.3f} s, {m0:.1f} MiB; symbolize=1: {t1:.3f} s, {m1:.1f} MiB; "
          f"symbolizer: +{t1 - t0:.3f} s, +{m1 - m0:.1f} MiB ({args.rounds} rounds)")


if __name__ == "__main__":
    main()
