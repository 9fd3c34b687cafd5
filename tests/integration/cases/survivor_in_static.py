# An interpreter ends while a C static still holds its dict, and nothing
# touches it again: no report, but the exit heap scan lists the survivors by
# type and allocation site (not CPython's immortal objects; verify checks the
# counts); survivors=0 turns the scan off.
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: destroyed
# REPORTS: 0
# CHECK-NOT: ERROR: XISan
# CHECK: ^==\d+==XISan: \d+ blocks of ended interpreters still allocated at exit \(\d+ objects, 0 found referenced by the shadow GC; immortal objects, never freed by design, not counted: \d+\):$
# CHECK-COUNT: 1 ^  interpreter (\d+) \(interpreter \1\): 1 Leaked object, allocated at <string>:5 in keep$
# CHECK-COUNT: 1 ^  interpreter (\d+) \(interpreter \1\): 1 type object, allocated at <string>:2 in <module>$
# CHECK-COUNT: 1 ^  interpreter (\d+) \(interpreter \1\): 2 dict objects, allocated at <string>:2 in <module> \(1\); <string>:5 in keep \(1\)$
#
# RUN: %xisan run -- %python %s
# OPTIONS: survivors=0
# CHECK-NOT: XISan


def verify(case):
    # the sub-interpreter's interned strings and the like are immortal, and
    # the summary of this small program fits its few objects
    head = case.runs[0].find(r"XISan: (\d+) blocks of ended interpreters .* not counted: (\d+)\):$")
    case.check(int(head.group(2)) > 1000 and int(head.group(1)) < 50,
               "immortal objects counted as survivors", head.group(0))


if __name__ == "__main__":
    import xfix  # noqa: F401
    import xinterp
    interp = xinterp.create()
    xinterp.run(interp, "import xfix\n"
                        "class Leaked:\n"
                        "    pass\n"
                        "def keep():\n"
                        "    xfix.put(2, {'kept': Leaked()})\n"
                        "keep()\n")
    xinterp.destroy(interp)
    print("destroyed")
