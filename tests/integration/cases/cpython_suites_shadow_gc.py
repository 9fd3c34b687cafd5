# cpython_suites.py with shadow_gc=1.
#
# LABEL: cpython
# TIMEOUT: 1500
# RUN: %python %S/cpython_suites.py
# TIMEOUT: 900
# CHECK-STDOUT: ^Total tests:
# RUN: %xisan run -- %python %S/cpython_suites.py
# TIMEOUT: 1200
# OPTIONS: halt_on_error=0:shadow_gc=1
# REPORTS: 0
# CHECK-STDOUT: ^Total tests:
# CHECK-NOT: xisan: note: no supported Python
# CHECK-NOT: XISan
# CHECK-STDOUT-NOT: XISan


def verify(case):
    import cpython_suites  # the same totals, plain and checked
    cpython_suites.verify(case)
