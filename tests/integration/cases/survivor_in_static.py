# An interpreter ends while C statics still hold its objects (a dict and an
# int, whose tag is in its slot, put in numbered slots, the exception class
# of the first importer of xerr), and
# nothing touches them again: no report.  The exit heap scan finds them (not
# CPython's immortal objects; verify checks the counts), and the process,
# having made no report, leaves the summary to `xisan run`, which prints it
# once for the run and leaves the program's own stderr as it is without the
# checker; the log has it as a record of its own.  Objects an extension's C
# code made during an import show that C line.  survivors=0 turns the scan
# off; verbosity=1 makes the process print the summary itself.
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: destroyed
# REPORTS: 0
# CHECK-NOT: ^(?!xisan: |  )
# CHECK: ^xisan: \d+ blocks of ended interpreters still allocated at exit, in 1 process \(\d+ objects, 0 found referenced by the shadow GC; immortal objects, never freed by design, not counted: \d+\):$
# CHECK-COUNT: 1 ^  1 Leaked object, allocated at <string>:5 in keep$
# CHECK-COUNT: 1 ^  3 dict objects, allocated at .*/xerr\.c:%line(tests/fixtures/xerr.c, PyErr_NewException) in exec_module \(1\); <string>:2 in <module> \(1\); <string>:5 in keep \(1\)$
# CHECK-COUNT: 1 ^  1 int object, allocated at <string>:6 in keep$
# CHECK-COUNT: 1 ^  2 type objects, allocated at .*/xerr\.c:%line(tests/fixtures/xerr.c, PyErr_NewException) in exec_module \(1\); <string>:2 in <module> \(1\)$
# RECORD-JSON: {"kind": "survivors", "exit_scan": true, "referenced": 0, "groups": ["...", \
#   {"interp": 1, "type": "Leaked", "count": 1, "sites": [{"where": "<string>:5 in keep", "count": 1}]}, "..."]}
#
# RUN: %python %s
# CHECK-STDOUT: destroyed
# EMPTY: stderr
#
# RUN: %xisan run -- %python %s
# OPTIONS: verbosity=1
# CHECK-COUNT: 1 blocks of ended interpreters still allocated at exit
# CHECK: ^==\d+==XISan: \d+ blocks of ended interpreters still allocated at exit \(
# CHECK: ^  interpreter (\d+) \(interpreter \1\): 1 Leaked object, allocated at <string>:5 in keep$
#
# RUN: %xisan run -- %python %s
# OPTIONS: survivors=0
# EMPTY: stderr


def verify(case):
    # the sub-interpreter's interned strings and the like are immortal, and
    # the summary of this small program fits its few objects
    head = case.runs[0].find(r"xisan: (\d+) blocks of ended interpreters .* not counted: (\d+)\):$")
    case.check(int(head.group(2)) > 1000 and int(head.group(1)) < 50,
               "immortal objects counted as survivors", head.group(0))


if __name__ == "__main__":
    import xfix  # noqa: F401
    import xinterp
    interp = xinterp.create()
    xinterp.run(interp, "import xfix, xerr\n"
                        "class Leaked:\n"
                        "    pass\n"
                        "def keep():\n"
                        "    xfix.put(2, {'kept': Leaked()})\n"
                        "    xfix.put(3, 10**6 + len('abc'))\n"
                        "keep()\n")
    xinterp.destroy(interp)
    print("destroyed")
