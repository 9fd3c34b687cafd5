# Isolated sub-interpreters made and ended one after the other by C code,
# with no work of the main interpreter in between: CPython gives each new
# interpreter the address the ended one had.  Each one's objects are its
# own, not the ended one's: no report.  (Before the fix, the thread's owner
# cache took the new interpreter for the ended one: a use-after-interpreter-
# end report at the new one's first free.)
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# CHECK-STDOUT: ^cycled: ok$
# REPORTS: 0
# CHECK-NOT: XISan
import xfix

xfix.cycle_interpreters(12, "items = [str(i) * 3 for i in range(2000)]\ndel items")
print("cycled: ok")
