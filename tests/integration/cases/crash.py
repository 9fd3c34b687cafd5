# A program killed by a signal: `xisan run` dies of the same signal and says so.
#
# RUN: %xisan run -- %python -c "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
# EXIT: SIGSEGV
# CHECK: ^xisan: '.*' was killed by signal 11 \(
