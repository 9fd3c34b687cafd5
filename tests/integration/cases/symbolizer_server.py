# Under `xisan run` the run's symbolizer (`xisan run` itself) looks frames
# up, so a process that reports never loads libdw, and its report is the
# same, frame for frame, as when the process symbolizes its own frames.
#
# RUN: %xisan run -o halt_on_error=0 -- %python %s
# EXIT: 66
# REPORTS: 1
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-access on list object
# CHECK: ^    #\d+ 0x[0-9a-f]+ in __libc_start_call_main \S+:\d+$
# CHECK: ^    #\d+ 0x[0-9a-f]+ in get_cached \S*xfix\.c:%line(tests/fixtures/xfix.c, cached_list = PyList_New(0);)$
# CHECK-STDOUT: ^libdw loaded: False$
#
# RUN: %xisan run -o halt_on_error=0 -o symbolize_server=0 -- %python %s
# EXIT: 66
# REPORTS: 1
# CHECK-STDOUT: ^libdw loaded: True$
#
# RUN: %xisan run -o halt_on_error=0 -o symbolize=0 -- %python %s
# EXIT: 66
# REPORTS: 1
# CHECK-STDOUT: ^libdw loaded: False$
import re


def report(text):
    """The report's lines, addresses, pids and thread ids masked."""
    start = text.index("ERROR: XISan:")
    end = text.index("SUMMARY: XISan:", start)
    body = text[text.rindex("\n", 0, start) + 1:end]
    body = re.sub(r"0x[0-9a-f]+", "0x?", body)
    return re.sub(r"(==|thread )\d+", r"\1?", body)


def verify(case):
    served, alone = case.runs[0].stderr, case.runs[1].stderr
    case.check(report(served) == report(alone),
               "the server's frames differ from the process's own", report(served),
               report(alone))


if __name__ == "__main__":
    import xfix
    import xinterp
    xfix.get_cached()
    xinterp.run(xinterp.create(), "import sub; sub.use_cached()")
    with open("/proc/self/maps") as maps:
        print("libdw loaded:", "/libdw" in maps.read())
