"""Sub-interpreters on CPython 3.12 (_xxsubinterpreters) and 3.13 (_interpreters)."""
try:
    import _interpreters as _impl

    def create():
        return _impl.create()

    def run(interp, code):
        failure = _impl.exec(interp, code)
        if failure is not None:
            raise RuntimeError(f"sub-interpreter raised {failure}")
except ImportError:
    import _xxsubinterpreters as _impl

    def create():
        return _impl.create(isolated=True)

    def run(interp, code):
        _impl.run_string(interp, code)


def destroy(interp):
    _impl.destroy(interp)
