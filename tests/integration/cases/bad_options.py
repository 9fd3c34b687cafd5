# A malformed or unknown option stops `xisan run` before the program starts
# (which would create %tmp/ran), with one error line naming it, exit status 2.
#
# RUN: %xisan run -- %python -c "open('%tmp/ran', 'w').close()"
# OPTIONS: halt_on_error=2
# EXIT: 2
# STDERR: xisan: error: XISAN_OPTIONS:.*halt_on_error.*
# RUN: test ! -e %tmp/ran
#
# RUN: %xisan run -- %python -c "open('%tmp/ran', 'w').close()"
# OPTIONS: frobnicate=1
# EXIT: 2
# STDERR: xisan: error: XISAN_OPTIONS:.*frobnicate.*
# RUN: test ! -e %tmp/ran
#
# RUN: %xisan run -- %python -c "open('%tmp/ran', 'w').close()"
# OPTIONS: exitcode
# EXIT: 2
# STDERR: xisan: error: XISAN_OPTIONS:.*exitcode.*
# RUN: test ! -e %tmp/ran
#
# RUN: %xisan run -- %python -c "open('%tmp/ran', 'w').close()"
# OPTIONS: exitcode=300
# EXIT: 2
# STDERR: xisan: error: XISAN_OPTIONS:.*exitcode.*
# RUN: test ! -e %tmp/ran
#
# RUN: %xisan run -- %python -c "open('%tmp/ran', 'w').close()"
# OPTIONS: monitor=call,bogus
# EXIT: 2
# STDERR: xisan: error: XISAN_OPTIONS:.*bogus.*
# RUN: test ! -e %tmp/ran
#
# The same from -o:
# RUN: %xisan run -o verbosity=9 -- %python -c "open('%tmp/ran', 'w').close()"
# EXIT: 2
# CHECK: verbosity
# RUN: test ! -e %tmp/ran
