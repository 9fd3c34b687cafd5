"""Sub-interpreters on CPython 3.12 (_xxsubinterpreters) and 3.13 (_interpreters).

create() makes an isolated interpreter (its own GIL and object allocator);
create(legacy=True) one that shares the main interpreter's (CPython's
legacy configuration)."""
try:
    import _interpreters as _impl

    def create(legacy=False):
        return _impl.create("legacy" if legacy else "isolated")

    def run(interp, code):
        failure = _impl.exec(interp, code)
        if failure is not None:
            raise RuntimeError(f"sub-interpreter raised {failure}")
except ImportError:
    import _xxsubinterpreters as _impl

    def create(legacy=False):
        return _impl.create(isolated=not legacy)

    def run(interp, code):
        _impl.run_string(interp, code)


def destroy(interp):
    _impl.destroy(interp)
