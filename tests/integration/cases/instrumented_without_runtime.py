# An instrumented extension imported with no xisan in the process works.
#
# RUN: %python %S/isolated_threads.py
# FIXTURES: instrumented
# CHECK-STDOUT: ^isolated: ok$
# CHECK-NOT: XISan
