# Two interpreters in two threads touch foreign objects at 40 sites each, at
# the same time: every report comes out whole (banner ... SUMMARY ... rule,
# never mixed with another), from both threads.
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: 66
# CHECK-STDOUT: ^parallel: done$
# REPORTS: 40..
import re


def verify(case):
    run = case.runs[0]
    state, blocks = "outside", 0
    for line in run.stderr.splitlines():
        if re.match(r"^==\d+==ERROR: XISan:", line):
            case.check(state == "rule", "a report started inside another one", run.stderr[-3000:])
            state = "inside"
        elif line.startswith("SUMMARY: XISan:"):
            case.check(state == "inside", "SUMMARY outside a report", run.stderr[-3000:])
            state, blocks = "summary", blocks + 1
        elif line == "=" * 65:
            state = "outside" if state == "summary" else "rule"
    case.check(blocks == len(run.reports), f"{blocks} whole text reports, {len(run.reports)} JSON")
    case.check(len({r["thread"] for r in run.reports}) == 2, "reports should come from both threads")


if __name__ == "__main__":
    import threading
    import xfix
    import xinterp
    for i in range(2):
        xfix.put(i, [i])
    body = "".join(f"    obj.__len__()  # site {n}\n" for n in range(40))
    code = ("import xfix\n"
            "def touch(obj):\n" + body +
            "for _ in range(20):\n"
            "    touch(xfix.get(SLOT))\n")

    def worker(slot):
        # the threads' sites are on lines of their own: the same site hit
        # from two interpreters is one site, reported once, by whichever
        # thread is first
        interp = xinterp.create()
        xinterp.run(interp, "\n" * 100 * slot + code.replace("SLOT", str(slot)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("parallel: done")
