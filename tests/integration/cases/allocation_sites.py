# Every object made after the hooks are in place has an allocation site: the
# main interpreter's start-up objects (made before any Python code ran: a
# native site), objects of Python code (its line), objects an extension's C
# code made when Python called it (the C line).  Static and immortal objects
# are not the hooks' to see.  _xisan.site() names a site as the exit summary
# does.
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^sys\.modules: \S+\.c:\d+ in \w+$
# CHECK-STDOUT: ^sys\.path: \S+\.c:\d+ in \w+$
# CHECK-STDOUT: ^sys\.__dict__: \S+\.c:\d+ in \w+$
# CHECK-STDOUT: ^builtins\.__dict__: \S+\.c:\d+ in \w+$
# CHECK-STDOUT: ^a list: %s:%line(%s, XISAN-EXPECT: python line) in <module>$
# CHECK-STDOUT: ^an extension's list: .*/xfix\.c:%line(tests/fixtures/xfix.c, cached_list = PyList_New(0);) in get_cached$
# CHECK-STDOUT: ^None: None$
# CHECK-STDOUT: ^int: None$
# EMPTY: stderr
import builtins
import sys

import _xisan
import xfix

made = [1, 2]  # XISAN-EXPECT: python line
for name, obj in [("sys.modules", sys.modules), ("sys.path", sys.path),
                  ("sys.__dict__", vars(sys)), ("builtins.__dict__", vars(builtins)),
                  ("a list", made), ("an extension's list", xfix.get_cached()),
                  ("None", None), ("int", int)]:
    print(f"{name}: {_xisan.site(obj)}")
