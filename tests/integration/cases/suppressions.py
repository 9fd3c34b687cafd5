# Suppressions (option suppressions=FILE): the cached-list bug of
# cached_object.py, suppressed by a native function of its allocation, by a
# Python function of the touch, by a library, by the object's type, and by
# any kind with a wildcard: no report, exit status 0, and `xisan run` says
# what each line matched.  A line that matches nothing leaves the report.
# A malformed or missing file stops the run before the program starts
# (exit status 2, one line naming file and line), also in a process that
# `xisan run` did not start.  A crash is suppressed by its frames too.
#
# RUN: sh -c 'echo "# the cached list" > native.supp; echo "cross-interpreter-access:^get_cached$" >> native.supp'
# RUN: %xisan run -- %python %S/cached_object.py
# OPTIONS: suppressions=native.supp
# REPORTS: 0
# CHECK: ^xisan: 1 report suppressed by \S+/native\.supp:2 \(cross-interpreter-access:\^get_cached\$\)$
# CHECK-NOT: ERROR: XISan
#
# RUN: sh -c 'echo "cross-interpreter-access:^use_cached$" > python.supp'
# RUN: %xisan run -- %python %S/cached_object.py
# OPTIONS: suppressions=python.supp
# REPORTS: 0
# CHECK: ^xisan: 1 report suppressed by \S+/python\.supp:1
#
# RUN: sh -c 'echo "*:xfix.cpython-*.so" > library.supp'
# RUN: %xisan run -- %python %S/cached_object.py
# OPTIONS: suppressions=library.supp
# REPORTS: 0
# CHECK: ^xisan: 1 report suppressed by \S+/library\.supp:1 \(\*:xfix\.cpython-\*\.so\)$
#
# RUN: sh -c 'echo "crash:^list$" > type.supp; echo "cross-interpreter-access:^list$" >> type.supp'
# RUN: %xisan run -- %python %S/cached_object.py
# OPTIONS: suppressions=type.supp
# REPORTS: 0
# CHECK: ^xisan: 1 report suppressed by \S+/type\.supp:2
# CHECK-NOT: type\.supp:1
#
# RUN: sh -c 'echo "cross-interpreter-access:^nothing_matches$" > none.supp'
# RUN: %xisan run -- %python %S/cached_object.py
# OPTIONS: suppressions=none.supp
# EXIT: SIGABRT
# REPORTS: 1
# CHECK-NOT: suppressed by
#
# RUN: sh -c 'echo "# fine" > bad.supp; echo "cross-interpreter-access:ok" >> bad.supp; echo crash >> bad.supp'
# RUN: %xisan run -- %python -c "print('the program ran')"
# OPTIONS: suppressions=bad.supp
# EXIT: 2
# CHECK: ^xisan: error: bad\.supp:3: not KIND:PATTERN: 'crash'$
# CHECK-STDOUT-NOT: the program ran
#
# RUN: %xisan run -- %python -c "print('the program ran')"
# OPTIONS: suppressions=missing.supp
# EXIT: 2
# CHECK: ^xisan: error: missing\.supp: cannot read the suppressions file: No such file or directory$
# CHECK-STDOUT-NOT: the program ran
#
# RUN: env LD_PRELOAD=%build/lib/libxisan_preload.so XISAN_OPTIONS=suppressions=bad.supp %python -c "print('the program ran')"
# EXIT: 2
# CHECK: ^xisan: error: bad\.supp:3: not KIND:PATTERN: 'crash'$
# CHECK-STDOUT-NOT: the program ran
#
# RUN: sh -c 'echo "crash:^null_deref$" > crash.supp'
# RUN: %xisan run -- %python -c "import xcrash; xcrash.null_deref()"
# OPTIONS: suppressions=crash.supp
# EXIT: SIGSEGV
# REPORTS: 0
# CHECK-NOT: ERROR: XISan
# CHECK: ^xisan: '.*' was killed by signal 11 \(Segmentation fault\)$
