# A crash in a forked child is reported by the child (its own pid in the
# banner and the record); the parent sees the child die of SIGSEGV and goes
# on to exit normally.
#
# RUN: %xisan run -- %python %s
# EXIT: 0
# REPORTS: 1
# REPORT-JSON: {"kind": "crash", "signal": "SIGSEGV", "fault_address": "0x0"}
# CHECK: ^==\d+==ERROR: XISan: SEGV on address 0x0
# CHECK-STDOUT: ^child \d+ killed by signal 11$
# CHECK-NOT: was killed by signal
import os
import re
import sys


def verify(case):
    run = case.runs[0]
    child = int(re.search(r"^child (\d+)", run.stdout, re.M).group(1))
    case.check([r["pid"] for r in run.reports] == [child], "the crash record is not the child's",
               [r["pid"] for r in run.reports], child)
    case.check(f"=={child}==ERROR: XISan: SEGV" in run.stderr, "the banner is not the child's")


if __name__ == "__main__":
    import xcrash

    pid = os.fork()
    if pid == 0:
        xcrash.null_deref()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(f"child {pid} killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
          else f"child {pid} exited {os.WEXITSTATUS(status)}")
    sys.stdout.flush()
