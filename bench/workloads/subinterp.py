"""The sub-interpreter shim the workloads share: CPython 3.12's
_xxsubinterpreters and 3.13's _interpreters, isolated interpreters."""
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
