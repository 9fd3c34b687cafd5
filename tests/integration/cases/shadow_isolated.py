# shadow_gc=1 on isolated_threads.py (a correctly isolated module used by
# several interpreters in threads): scans run, each interpreter's as it ends,
# each visits edges, and none reports anything.
#
# RUN: %xisan run -- %python %S/isolated_threads.py
# OPTIONS: halt_on_error=0:shadow_gc=1:verbosity=1
# CHECK-STDOUT: ^isolated: ok$
# CHECK-COUNT: 5.. shadow GC of interpreter \d+: \d+ objects, \d+ edges
# CHECK-NOT: shadow GC of interpreter \d+: \d+ objects, 0 edges
# REPORTS: 0
# CHECK-NOT: ERROR: XISan
