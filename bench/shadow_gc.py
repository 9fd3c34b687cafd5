#!/usr/bin/env python3
"""Speed of the shadow GC walk: objects, edges and edges per second.

    bench/shadow_gc.py --xisan build/bin/xisan --python /path/python3.13

Builds an object graph of --objects containers in a sub-interpreter (lists,
dicts, tuples, instances), then runs _xisan.scan() there three times under
`xisan run -o verbosity=1` and prints the runtime's own count of objects,
edges and time for each scan."""
import argparse
import re
import subprocess
import sys

CODE = r'''
import _xisan, gc
try:
    import _interpreters as I
    run = I.exec
    new = I.create
except ImportError:
    import _xxsubinterpreters as I
    run = I.run_string
    new = lambda: I.create(isolated=True)
interp = new()
run(interp, """
import _xisan
class Node:
    def __init__(self, i):
        self.i = i
        self.items = [i, str(i)]
graph = [({"k": i, "v": (i, i + 1)}, Node(i)) for i in range(__COUNT__)]
for _ in range(3):
    _xisan.scan()
""".replace("__COUNT__", str(OBJECTS)))
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--xisan", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--objects", type=int, default=200_000)
    args = ap.parse_args()
    code = CODE.replace("OBJECTS", str(args.objects))
    proc = subprocess.run([args.xisan, "run", "-o", "verbosity=1", "--", args.python, "-c", code],
                          capture_output=True, text=True)
    scans = re.findall(r"shadow GC of interpreter (\d+): (\d+) objects, (\d+) edges in ([0-9.]+) s "
                       r"\(([0-9.]+) M edges/s\), (\d+) cross", proc.stderr)
    if proc.returncode != 0 or not scans:
        sys.exit(f"bench: run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    print(f"shadow GC, {args.python}, graph of {args.objects:,} x (tuple, dict, tuple, Node, "
          f"dict, list)")
    print(f"{'scan':>4} {'objects':>10} {'edges':>11} {'seconds':>8} {'M edges/s':>10}")
    for n, (interp, objects, edges, secs, rate, found) in enumerate(scans[-3:], 1):
        print(f"{n:>4} {int(objects):>10,} {int(edges):>11,} {float(secs):>8.3f} {float(rate):>10.1f}")


if __name__ == "__main__":
    main()
