#!/usr/bin/env python3
"""Wall time and peak RSS of workloads: plain CPython vs under xisan.

    bench/bench.py --xisan build/bin/xisan --python /path/python3.13 [--runs 3]
                   [--baseline OTHER/bin/xisan]

Each configuration runs --runs times; the table shows the fastest wall time
and the largest peak RSS (the child's ru_maxrss).  Ratios are against plain.
PYTHONMALLOC=debug and -X tracemalloc=1 are printed for reference.  With
--baseline, another build of xisan (an earlier commit's, say) runs in the
same rounds as "baseline", so a change is measured against the same drift.

--layers runs the checker layer by layer instead, with a build configured
with -DXISAN_BENCH_LAYERS=ON (hooks/bench_layers.h) as --xisan:
  passthrough  the allocator hooks installed, calling the allocator beneath
               untagged; object events returning at once;
  hooks        passthrough and the sys.monitoring events of the default
               `monitor` set, dispatched by CPython to callbacks returning
               at once (the floor: what the hooks CPython offers cost before
               any check); a side branch: the layers after it run without
               monitoring, which only `defaults` turns on;
  chain        blocks tagged by the chain's forms only (pool_tags=0:
               headers and slots) and frees checked; object events returning;
  tags         blocks tagged, those of up to 512 bytes from xisan's pools
               (the default); object events returning;
  events       and object creation and destruction (allocation sites
               stamped from the site cache, deallocations checked);
  defaults     and what the default options add: stack captures,
               sys.monitoring checks, static types, API checks, the exit scan
               (LAYER_OFF turns them off for the layers below).
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["churn", "calls", "subinterp_threads", "api_heavy", "heap_heavy"]


def measure(argv, env, timeout, stdout=subprocess.DEVNULL):
    """Wall seconds, peak RSS (KiB) and the finished process of one run;
    stderr is captured as text.  Peak RSS comes from GNU time, a small
    process: a child forked from this Python would inherit this process's
    high-water mark.  Raises subprocess.TimeoutExpired."""
    with tempfile.NamedTemporaryFile("r") as rss_file:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + argv,
                              env=env, stdout=stdout, stderr=subprocess.PIPE, text=True,
                              errors="replace", timeout=timeout)
        wall = time.perf_counter() - start
        rss_kib = int(rss_file.read().split()[-1])
    return wall, rss_kib, proc


def parser(doc, timeout):
    """An argument parser with what every benchmark here takes: the xisan
    command, the Python, XISAN_OPTIONS for the xisan runs and a run's time
    limit (default `timeout` seconds)."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xisan", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--options", default="", help="XISAN_OPTIONS for the xisan runs")
    ap.add_argument("--timeout", type=float, default=timeout, help="seconds a run may take")
    return ap


# The configurations printed for reference only: a failed run of one is
# shown, not retried or fatal.
REFERENCE = ("PYTHONMALLOC=debug", "-X tracemalloc=1")

# What the default options add above the object events, all off; the
# `hooks` layer keeps the default monitoring on.
CHECKS_OFF = ("alloc_stack_depth=0:python_stack_depth=0:static_types=0:api_checks=0:"
              "survivors=0")
LAYER_OFF = "monitor=none:" + CHECKS_OFF


def layer_envs(ap, xisan, python, env):
    """[(layer, environment)] for --layers, from the bottom up; an error
    through `ap` unless `xisan` is a -DXISAN_BENCH_LAYERS=ON build (which
    refuses a layer it does not know)."""
    probe = subprocess.run([xisan, "run", "--", python, "-c", "pass"], capture_output=True,
                           text=True, env=dict(env, XISAN_BENCH_LAYER="?"))
    if "not a layer" not in probe.stderr:
        ap.error(f"--layers: {xisan} is not a build configured with -DXISAN_BENCH_LAYERS=ON")
    env = {k: v for k, v in env.items() if k != "XISAN_BENCH_LAYER"}
    off = dict(env, XISAN_OPTIONS=LAYER_OFF)
    return [("passthrough", dict(off, XISAN_BENCH_LAYER="passthrough")),
            ("hooks", dict(off, XISAN_BENCH_LAYER="passthrough", XISAN_OPTIONS=CHECKS_OFF)),
            ("chain", dict(off, XISAN_BENCH_LAYER="tags", XISAN_OPTIONS=LAYER_OFF + ":pool_tags=0")),
            ("tags", dict(off, XISAN_BENCH_LAYER="tags")),
            ("events", off),
            ("defaults", env)]


def run_once(argv, env, timeout):
    """(wall, peak RSS) of a run that must succeed, or why it did not."""
    try:
        wall, rss_kib, proc = measure(argv, env, timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:g}s"
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        return f"failed: {err[-1] if err else 'exit %d' % proc.returncode}"
    return wall, rss_kib


def main():
    ap = parser(__doc__, timeout=120)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--configs", default="", help="comma-separated subset, e.g. plain,xisan")
    ap.add_argument("--retries", type=int, default=3,
                    help="times a failed run of plain or of a build of xisan is run again")
    ap.add_argument("--baseline", default="", help="another xisan command, run as 'baseline'")
    ap.add_argument("--layers", action="store_true",
                    help="run the checker layer by layer (a -DXISAN_BENCH_LAYERS=ON build)")
    args = ap.parse_args()

    base_env = dict(os.environ)
    base_env.pop("XISAN_OPTIONS", None)
    base_env.pop("PYTHONMALLOC", None)
    xisan_env = dict(base_env, XISAN_OPTIONS=args.options)
    configs = [
        ("plain", lambda s: [args.python, s], base_env),
        ("xisan", lambda s: [args.xisan, "run", "--", args.python, s], xisan_env),
        ("baseline", lambda s: [args.baseline, "run", "--", args.python, s], xisan_env),
        ("PYTHONMALLOC=debug", lambda s: [args.python, s], dict(base_env, PYTHONMALLOC="debug")),
        ("-X tracemalloc=1", lambda s: [args.python, "-X", "tracemalloc=1", s], base_env),
    ]
    if args.layers:
        if args.baseline or args.options or args.configs:
            ap.error("--layers takes none of --baseline, --options and --configs")
        configs = configs[:1] + [
            (name, lambda s: [args.xisan, "run", "--", args.python, s], env)
            for name, env in layer_envs(ap, args.xisan, args.python, base_env)]
    elif args.configs:
        wanted = args.configs.split(",") + (["baseline"] if args.baseline else [])
        configs = [c for c in configs if c[0] in wanted]
    if not args.baseline:
        configs = [c for c in configs if c[0] != "baseline"]
    version = subprocess.run([args.python, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    print(f"CPython {version}, {args.runs} runs each, best wall time, largest peak RSS")
    print("paired: median over the rounds of (this run's wall time / the plain run's of the same round)")
    print("layers (--layers): " + ", ".join(label for label, _, _ in configs[1:]) if args.layers
          else f"xisan options: {args.options or '(defaults)'}")
    header = (f"{'workload':<18} {'config':<19} {'wall s':>8} {'x plain':>8} {'paired':>8} "
              f"{'RSS MiB':>8} {'x plain':>8}")
    print(header)
    print("-" * len(header))
    ratios = {}
    for name in args.workloads.split(","):
        script = os.path.join(HERE, "workloads", name + ".py")
        # Round-robin over the configurations, so drift in the machine's
        # speed lands on all of them alike; keep each one's best time.
        best = {label: None for label, _, _ in configs}
        paired = {label: [] for label, _, _ in configs}
        retried = {}
        for _ in range(args.runs):
            walls = {}
            for label, make_argv, env in configs:
                if isinstance(best[label], str):
                    continue
                result = run_once(make_argv(script), env, args.timeout)
                # CPython 3.12.1 itself crashes now and then on some
                # workloads (api_heavy: free(): invalid pointer, without
                # xisan too; under xisan, a use-after-interpreter-end report
                # on the keyword tuple of pickle.dumps's argument parser,
                # made by a sub-interpreter): such a run is retried, and
                # counted.
                for _ in range(args.retries):
                    if not (isinstance(result, str) and result.startswith("failed")
                            and label not in REFERENCE):
                        break
                    retried[label] = retried.get(label, 0) + 1
                    result = run_once(make_argv(script), env, args.timeout)
                if not isinstance(result, str):
                    walls[label] = result[0]
                if isinstance(result, str):
                    if label not in REFERENCE:
                        sys.exit(f"bench: {name} {label}: {result}")
                    best[label] = result
                elif best[label] is None:
                    best[label] = result
                else:
                    best[label] = (min(best[label][0], result[0]), max(best[label][1], result[1]))
            for label, wall in walls.items():
                paired[label].append(wall / walls["plain"])
        plain = best["plain"]
        for label, _, _ in configs:
            result = best[label]
            if isinstance(result, str):
                print(f"{name:<18} {label:<19} {result}", flush=True)
                continue
            wall, rss = result
            tr, rr = wall / plain[0], rss / plain[1]
            pr = statistics.median(paired[label])
            ratios.setdefault(label, []).append((tr, rr, pr))
            note = f"  ({retried[label]} failed runs retried)" if label in retried else ""
            print(f"{name:<18} {label:<19} {wall:8.2f} {tr:8.2f} {pr:8.2f} {rss / 1024:8.1f} "
                  f"{rr:8.2f}{note}", flush=True)
    print("-" * len(header))
    for label, rs in ratios.items():
        geo = math.exp(sum(math.log(t) for t, _, _ in rs) / len(rs))
        pgeo = math.exp(sum(math.log(p) for _, _, p in rs) / len(rs))
        print(f"{label:<19} time geomean x{geo:.2f} (paired x{pgeo:.2f}), worst "
              f"x{max(t for t, _, _ in rs):.2f} (paired x{max(p for _, _, p in rs):.2f}), "
              f"peak RSS worst x{max(r for _, r, _ in rs):.2f}")


if __name__ == "__main__":
    main()
