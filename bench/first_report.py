#!/usr/bin/env python3
"""The cost of a process's first report: a three-line bug case (a list the
main interpreter cached in a C static, used by a sub-interpreter) under
`xisan run` in continue mode.

    bench/first_report.py --xisan build/bin/xisan --python /path/python3.13 \\
                          --fixtures build/fixtures/py313 [--rounds 7] [--processes 8]

Configurations: `symbolize=0` (the loader's names only), `in-process`
(symbolize=1:symbolize_server=0: the reporting process loads libdw and the
debug data itself) and `server` (the default: the run's symbolizer,
`xisan run` itself, looks the frames up).  Printed per configuration: the
median wall time of the run, the peak RSS of the reporting process (GNU
time around the Python, inside the run) and of the run's largest process
(GNU time around `xisan run`: with the server, that is the server).  The
goal (issue 14) is at most 0.2 s and 10 MB more than symbolize=0 for the
reporting process.

Then a run of --processes such processes one after another under one
`xisan run`, as a test suite makes them: the wall time per process, the
largest reporting process and the run's largest process.  Each process
must make exactly one report.
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
# N reporting processes in one run, each under GNU time (its peak RSS to
# rss.<i>).
SUITE = """\
import subprocess, sys
for i in range(int(sys.argv[1])):
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f"{sys.argv[2]}/rss.{i}",
                    sys.executable, sys.argv[3]], check=False)
"""
CONFIGS = {
    "symbolize=0": "symbolize=0",
    "in-process": "symbolize=1:symbolize_server=0",
    "server": "symbolize=1",
}


def rss_files(tmp, prefix):
    out = []
    for name in os.listdir(tmp):
        if name.startswith(prefix):
            with open(os.path.join(tmp, name)) as f:
                out.append(int(f.read().split()[-1]))
            os.unlink(os.path.join(tmp, name))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xisan", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--fixtures", required=True, help="directory of the built xfix module")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--processes", type=int, default=8,
                    help="reporting processes in the suite-like run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "bug.py")
        with open(script, "w") as f:
            f.write(BUG)
        suite = os.path.join(tmp, "suite.py")
        with open(suite, "w") as f:
            f.write(SUITE)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [args.fixtures, os.path.join(ROOT, "tests", "integration", "support")]))

        def run(config, argv, reports):
            options = "halt_on_error=0:" + CONFIGS[config]
            wall, rss, proc = measure([args.xisan, "run", "--"] + argv,
                                      dict(env, XISAN_OPTIONS=options), 600)
            got = proc.stderr.count("ERROR: XISan:")
            if got != reports:
                sys.exit(f"first_report: {config}: {got} reports, not {reports}\n"
                         + proc.stderr[-2000:])
            return wall, rss

        print(f"{args.python}: one reporting process per run, {args.rounds} rounds "
              "(median wall, largest peak RSS)")
        print(f"{'config':12} {'wall s':>8} {'process MiB':>12} {'run MiB':>8}")
        first = {}
        for config in CONFIGS:
            walls, own, whole = [], [], []
            for _ in range(args.rounds):
                wall, rss = run(config, ["/usr/bin/time", "-f", "%M", "-o",
                                         os.path.join(tmp, "rss.one"), args.python, script], 1)
                walls.append(wall)
                whole.append(rss)
                own += rss_files(tmp, "rss.one")
            first[config] = (statistics.median(walls), max(own) / 1024, max(whole) / 1024)
            print(f"{config:12} {first[config][0]:8.3f} {first[config][1]:12.1f} "
                  f"{first[config][2]:8.1f}")
        base = first["symbolize=0"]
        for config in ("in-process", "server"):
            t, m, w = first[config]
            print(f"{config}: the reporting process +{t - base[0]:.3f} s, +{m - base[1]:.1f} MiB "
                  f"against symbolize=0 (the run's largest process +{w - base[2]:.1f} MiB)")

        n = args.processes
        print(f"\n{n} reporting processes in one run (wall per process, largest reporting "
              "process, the run's largest process)")
        for config in CONFIGS:
            wall, rss = run(config, [args.python, suite, str(n), tmp, script], n)
            own = rss_files(tmp, "rss.")
            print(f"{config:12} {wall / n:8.3f} {max(own) / 1024:12.1f} {rss / 1024:8.1f}")


if __name__ == "__main__":
    main()
