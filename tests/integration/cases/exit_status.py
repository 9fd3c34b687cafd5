# `xisan run` exits with the program's status, and leaves a clean program's
# output unchanged.
#
# RUN: %xisan run -- %python -c "raise SystemExit(3)"
# EXIT: 3
#
# RUN: %python -c "print('hello')"
# RUN: %xisan run -- %python -c "print('hello')"
# SAME-OUTPUT: 2
