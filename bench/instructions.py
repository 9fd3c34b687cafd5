#!/usr/bin/env python3
"""Instructions executed, plain CPython vs under xisan, counted by callgrind.

    bench/instructions.py --xisan build/bin/xisan --python /path/python3.13
                          [--baseline OTHER/bin/xisan] [--scale 0.05] [--cases bare,calls]

Wall time on a shared machine drifts by tens of percent between runs of the
same build; the instructions a run executes do not (they vary by well under
a percent between runs).  So a lever's effect is measured here first, and
its wall-time effect with bench.py and startup.py.  Instructions are not
time: cache misses (the depot's index, a larger heap) cost time and no
instructions, so a ratio here is a lower bound of the time ratio.

Cases: startup.py's (`bare`, `imports`, `interp_create`) and bench.py's
workloads run at --scale of their size (XISAN_BENCH_SCALE).
Each case runs once per configuration under `valgrind --tool=callgrind
--trace-children=yes` (the `xisan run` process is counted too); threads'
instructions add up.  --baseline runs another build of xisan as well.

--layers counts the checker layer by layer (bench.py's --layers).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (bench.WORKLOADS, bench.parser)
import startup  # noqa: E402  (startup.CASES)

CASES = list(startup.CASES) + bench.WORKLOADS
REFS = re.compile(r"^==\d+== I\s+refs:\s+([\d,]+)", re.M)


def case_argv(python, case):
    if case in startup.CASES:
        return [python] + startup.CASES[case]
    return [python, os.path.join(HERE, "workloads", case + ".py")]


def count(prefix, argv, env, timeout):
    """Instructions of a run (all its processes), or why there are none."""
    with tempfile.TemporaryDirectory() as out:
        cmd = ["valgrind", "--tool=callgrind", "--trace-children=yes",
               "--callgrind-out-file=" + os.path.join(out, "callgrind.%p")] + prefix + argv
        # a session of its own: a timeout ends the traced children too
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, errors="replace", start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return f"timed out after {timeout:g}s"
    refs = [int(n.replace(",", "")) for n in REFS.findall(err)]
    if proc.returncode != 0 or not refs:
        lines = [l for l in err.splitlines() if not l.startswith("==")]
        return f"failed: {lines[-1] if lines else 'exit %d' % proc.returncode}"
    return sum(refs)


def main():
    ap = bench.parser(__doc__, timeout=1800)
    ap.add_argument("--baseline", help="another build's xisan, counted as well")
    ap.add_argument("--scale", type=float, default=0.05,
                    help="fraction of the workloads' sizes (default 0.05)")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--layers", action="store_true",
                    help="count the checker layer by layer (a -DXISAN_BENCH_LAYERS=ON build)")
    ap.add_argument("--retries", type=int, default=3,
                    help="runs again a run that failed (CPython 3.12.1 crashes by itself "
                         "now and then on api_heavy), and says so")
    args = ap.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case {unknown[0]!r} (cases: {', '.join(CASES)})")
    env = dict(os.environ, XISAN_BENCH_SCALE=str(args.scale), XISAN_OPTIONS=args.options)
    env.pop("PYTHONMALLOC", None)
    env.pop("XISAN_BENCH_LAYER", None)
    run = [args.xisan, "run", "--"]
    configs = [("plain", [], env)]
    if args.layers:
        if args.baseline or args.options:
            ap.error("--layers takes neither --baseline nor --options")
        configs += [(name, run, layer_env)
                    for name, layer_env in bench.layer_envs(ap, args.xisan, args.python, env)]
    else:
        if args.baseline:
            configs.append(("baseline", [args.baseline, "run", "--"], env))
        configs.append(("xisan", run, env))

    print(f"{args.python}: instructions (callgrind), workloads at scale {args.scale:g}; "
          + ("layers (--layers)" if args.layers
             else f"xisan options: {args.options or '(defaults)'}"))
    header = f"{'case':16}" + "".join(f"{name:>14}" for name, _, _ in configs)
    header += "".join(f"{'x ' + name:>14}" for name, _, _ in configs[1:])
    print(header)
    failed = False
    for case in cases:
        counts, retried = [], []
        for name, prefix, config_env in configs:
            c = count(prefix, case_argv(args.python, case), config_env, args.timeout)
            for _ in range(args.retries):
                if isinstance(c, int) or c.startswith("timed out"):
                    break
                retried.append(f"{name} ({c})")
                c = count(prefix, case_argv(args.python, case), config_env, args.timeout)
            counts.append(c)
        row = f"{case:16}"
        for c in counts:
            row += f"{c / 1e6:13.1f}M" if isinstance(c, int) else f"{'-':>14}"
        for c in counts[1:]:
            ok = isinstance(c, int) and isinstance(counts[0], int)
            row += f"{c / counts[0]:14.2f}" if ok else f"{'-':>14}"
        print(row + (f"  retried: {', '.join(retried)}" if retried else ""), flush=True)
        for (name, _, _), c in zip(configs, counts):
            if not isinstance(c, int):
                print(f"  {case} {name}: {c}", file=sys.stderr)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
