# Continue mode (halt_on_error=0): every bug of cached_object, stored_callback
# and slot_drop, touched 3 x 5 times, runs to the end; each distinct site is
# reported once, repeats are counted, misdirected frees are quarantined.
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: 66
# CHECK-STDOUT: ^all_bugs: done$
# REPORTS: 3..14
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "call"}
# REPORT-JSON: {"kind": "cross-interpreter-access", "access": "py-start"}
# REPORT-JSON: {"kind": "cross-interpreter-free", "access": "dealloc"}
# CHECK: ^==\d+==XISan: %reports reports? \([1-9]\d* repeats.*quarantine holds [1-9]\d* blocks?, \d+ bytes$
import json


def verify(case):
    # a site: the place (kind, access, stacks) and the object (type, owner,
    # allocation site), as the runtime deduplicates
    sites = [(r["kind"], r["access"], json.dumps(r["native_stack"][:8]),
              json.dumps(r["python_stack"][:1]), r["object_type"], r["owner_interp"],
              json.dumps(r["alloc_native_stack"]), json.dumps(r["alloc_python_stack"]))
             for r in case.runs[0].reports]
    case.check(len(sites) == len(set(sites)), "a site was reported twice", sites)


def callback():
    return 42


class Payload:
    pass


if __name__ == "__main__":
    import xfix
    import xinterp
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
