"""The sub-interpreter shim the workloads share: CPython 3.12's
_xxsubinterpreters and 3.13's _interpreters, isolated interpreters; and
the workloads' sizes, scaled by XISAN_BENCH_SCALE (bench/instructions.py
runs them smaller under callgrind)."""
import os


def scaled(n):
    return max(1, int(n * float(os.environ.get("XISAN_BENCH_SCALE", "1"))))

try:
    import _interpreters as interpreters

    def create():
        return interpreters.create()

    def run(interp, code):
        failure = interpreters.exec(interp, code)
        if failure is not None:
            raise RuntimeError(failure)
except ImportError:
    import _xxsubinterpreters as interpreters

    def create():
        return interpreters.create(isolated=True)

    def run(interp, code):
        interpreters.run_string(interp, code)


def destroy(interp):
    interpreters.destroy(interp)
