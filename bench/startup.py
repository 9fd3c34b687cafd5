#!/usr/bin/env python3
"""Short processes: what a test suite's hundreds of processes pay at start.

    bench/startup.py --xisan build/bin/xisan --python /path/python3.13 [--rounds 9]

Cases: `bare` (python -c pass), `imports` (a start that imports json,
pickle, decimal, asyncio and unittest) and `interp_create`
(workloads/interp_create.py: ten sub-interpreters one after the other).
Each round times --batch launches of plain and of xisan, one after the
other; the table gives the median time per launch, the median over the
rounds of xisan's time divided by plain's of the same round (paired) and
the largest peak RSS of one launch (the child's, from GNU time).
--baseline runs another build of xisan in the same rounds (its rows are
labelled with the case and "baseline"), so a change is measured against
the same drift.
"""
import os
import statistics
import sys

from bench import parser, run_once

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = {
    "bare": ["-c", "pass"],
    "imports": ["-c", "import json, pickle, decimal, asyncio, unittest"],
    "interp_create": [os.path.join(HERE, "workloads", "interp_create.py")],
}


def batch(argv, env, n, timeout):
    """Wall seconds of n launches and the largest peak RSS (KiB)."""
    wall, rss = 0.0, 0
    for _ in range(n):
        result = run_once(argv, env, timeout)
        if isinstance(result, str):
            sys.exit(f"startup: {' '.join(argv)}: {result}")
        wall += result[0]
        rss = max(rss, result[1])
    return wall, rss


def main():
    ap = parser(__doc__, timeout=120)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--batch", type=int, default=5, help="launches per round and configuration")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--baseline", default="", help="another xisan command, run as 'baseline'")
    args = ap.parse_args()

    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "workloads"))
    env.pop("XISAN_OPTIONS", None)
    env.pop("PYTHONMALLOC", None)
    xenv = dict(env, XISAN_OPTIONS=args.options)
    print(f"{args.python}: {args.rounds} rounds of {args.batch} launches; "
          f"xisan options: {args.options or '(defaults)'}")
    print(f"{'case':<14} {'plain ms':>9} {'xisan ms':>9} {'x plain':>8} {'paired':>8} "
          f"{'plain MiB':>10} {'xisan MiB':>10} {'x plain':>8}")
    builds = [("", args.xisan)] + ([(" baseline", args.baseline)] if args.baseline else [])
    for name in args.cases.split(","):
        argv = [args.python] + CASES[name]
        plain, rss = [], {label: 0 for label, _ in builds}
        walls = {label: [] for label, _ in builds}
        ratios = {label: [] for label, _ in builds}
        plain_rss = 0
        for _ in range(args.rounds):
            pw, pr = batch(argv, env, args.batch, args.timeout)
            plain.append(pw / args.batch)
            plain_rss = max(plain_rss, pr)
            for label, xisan in builds:
                xw, xr = batch([xisan, "run", "--"] + argv, xenv, args.batch, args.timeout)
                walls[label].append(xw / args.batch)
                ratios[label].append(xw / pw)
                rss[label] = max(rss[label], xr)
        p = statistics.median(plain)
        for label, _ in builds:
            x = statistics.median(walls[label])
            print(f"{name + label:<14} {p * 1000:9.1f} {x * 1000:9.1f} {x / p:8.2f} "
                  f"{statistics.median(ratios[label]):8.2f} {plain_rss / 1024:10.1f} "
                  f"{rss[label] / 1024:10.1f} {rss[label] / plain_rss:8.2f}", flush=True)

if __name__ == "__main__":
    main()
