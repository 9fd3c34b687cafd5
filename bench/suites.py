#!/usr/bin/env python3
"""CPython's own sub-interpreter suites, plain and under xisan: how a CI job
meets the checker.

    bench/suites.py --xisan build/bin/xisan --python /path/python3.13 [--rounds 3]

Each round runs `python -m test` on this version's interpreter suites
(test__interpreters, test__interpchannels, test_interpreters on 3.13; the
_xx names on 3.12) plain and under `xisan run`, one after the other, and
checks both print the same totals.  Printed: the median wall time of each,
the median of the per-round ratios (paired) and the largest peak RSS of a
process of each run (GNU time reports the largest of the tree).
"""
import os
import re
import statistics
import subprocess
import sys

from bench import measure, parser

SUITES = {
    "3.12": ["test__xxsubinterpreters", "test__xxinterpchannels", "test_interpreters"],
    "3.13": ["test__interpreters", "test__interpchannels", "test_interpreters"],
}


def run(argv, env, timeout):
    wall, rss, proc = measure(argv, env, timeout, stdout=subprocess.PIPE)
    output = proc.stdout + proc.stderr
    totals = re.findall(r"^Total tests: .*$", output, re.M)
    if proc.returncode != 0 or not totals:
        sys.exit(f"suites: {' '.join(argv)} exited {proc.returncode}:\n{output[-2000:]}")
    return wall, rss, totals[-1]


def main():
    ap = parser(__doc__, timeout=1200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    version = subprocess.run([args.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    argv = [args.python, "-m", "test"] + SUITES[version]
    env = dict(os.environ)
    env.pop("XISAN_OPTIONS", None)
    xenv = dict(env, XISAN_OPTIONS=args.options)
    plain, xisan, ratios, rss = [], [], [], [0, 0]
    for _ in range(args.rounds):
        pw, pr, ptotal = run(argv, env, args.timeout)
        xw, xr, xtotal = run([args.xisan, "run", "--"] + argv, xenv, args.timeout)
        if ptotal != xtotal:
            sys.exit(f"suites: totals differ: plain {ptotal!r}, xisan {xtotal!r}")
        plain.append(pw)
        xisan.append(xw)
        ratios.append(xw / pw)
        rss = [max(rss[0], pr), max(rss[1], xr)]
        print(f"round: plain {pw:.1f} s, xisan {xw:.1f} s (x{xw / pw:.2f}); {xtotal}", flush=True)
    p, x = statistics.median(plain), statistics.median(xisan)
    print(f"CPython {version} {' '.join(SUITES[version])}, {args.rounds} rounds: plain {p:.1f} s, "
          f"xisan {x:.1f} s, x{x / p:.2f} (paired x{statistics.median(ratios):.2f}); "
          f"peak RSS {rss[0] / 1024:.1f} / {rss[1] / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
