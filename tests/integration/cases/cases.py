"""The integration cases: `python cases.py NAME` runs one."""
import sys
import threading

import xinterp


def cached_object():
    import xfix
    xfix.get_cached()  # the main interpreter fills the cache
    interp = xinterp.create()
    xinterp.run(interp, "import sub; sub.use_cached()")


def callback():  # XISAN-EXPECT: stored_callback
    return 42


def stored_callback():
    import xfix
    xfix.set_callback(callback)
    interp = xinterp.create()
    xinterp.run(interp, "import sub; sub.run_stored_callback()")


class Payload:
    pass


def slot_drop():
    import xfix
    xfix.set_slot(Payload())
    interp = xinterp.create()
    xinterp.run(interp, "import sub; sub.replace_slot()")


def use_after_end():
    import xfix
    interp = xinterp.create()
    xinterp.run(interp, "import sub; sub.fill_slot()")
    xinterp.destroy(interp)
    xfix.clear_slot()


def all_bugs():
    """Every bug above in one run, for continue mode."""
    import xfix
    for _ in range(3):
        xfix.get_cached()
        xfix.set_callback(callback)
        xfix.set_slot(Payload())
        interp = xinterp.create()
        for _ in range(5):
            xinterp.run(interp, "import sub; sub.use_cached(); sub.run_stored_callback()")
        xinterp.run(interp, "import sub; sub.replace_slot()")
        xinterp.destroy(interp)
    print("all_bugs: done")


def parallel_reports():
    """Two interpreters in two threads touch foreign objects at 40 sites
    each, at the same time: the reports must come out whole."""
    import xfix
    for i in range(2):
        xfix.put(i, [i])
    body = "".join(f"    obj.__len__()  # site {n}\n" for n in range(40))
    code = ("import xfix\n"
            "def touch(obj):\n" + body +
            "for _ in range(20):\n"
            "    touch(xfix.get(SLOT))\n")

    def worker(slot):
        interp = xinterp.create()
        xinterp.run(interp, code.replace("SLOT", str(slot)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("parallel: done")


def shadow_exception_class():
    """The second interpreter imports a module whose exception class is the
    first interpreter's, then scans: no call, no free, just a reference."""
    import xerr  # the main interpreter creates xerr.Error
    interp = xinterp.create()
    xinterp.run(interp, "import xerr, _xisan\nprint('found', _xisan.scan())\n")


def survivor():
    """An interpreter ends while the main one still holds its list (through
    a C slot, then a global): a scan finds it, the exit summary lists it."""
    import xfix, _xisan
    interp = xinterp.create()
    xinterp.run(interp, "import xfix\nxfix.put(1, [1, 2, 3])\n")
    xinterp.destroy(interp)
    global kept
    kept = xfix.get(1)
    print("found", _xisan.scan())


def survivor_in_static():
    """An interpreter ends while a C static still holds its dict, and nothing
    ever touches it again: no report, but the exit summary lists it."""
    import xfix
    interp = xinterp.create()
    xinterp.run(interp, "import xfix\n"
                        "class Leaked:\n"
                        "    pass\n"
                        "def keep():\n"
                        "    xfix.put(2, {'kept': Leaked()})\n"
                        "keep()\n")
    xinterp.destroy(interp)
    print("destroyed")


def hammer(rounds=1_000_000):
    """Two own-GIL interpreters in two threads pair Py_INCREF/Py_DECREF on
    one object of the main interpreter, in parallel."""
    import xfix
    target = [1, 2, 3]
    xfix.put(0, target)
    before = sys.getrefcount(target)
    code = f"import xfix\nxfix.hammer(0, {rounds})\n"

    def worker():
        interp = xinterp.create()
        xinterp.run(interp, code)
        xinterp.destroy(interp)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = sys.getrefcount(target)
    print(f"refcount before {before} after {after} drift {after - before}")


def isolated_threads():
    import xiso
    errors = []

    def worker():
        try:
            interp = xinterp.create()
            xinterp.run(interp, "import sub; sub.use_isolated(3000)")
            xinterp.destroy(interp)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    import sub
    sub.use_isolated(3000)
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"worker failed: {errors[0]!r}")
    print("isolated: ok")


if __name__ == "__main__":
    globals()[sys.argv[1]]()
