# An unwritable log_path is a warning, not an error: reports still go to stderr.
#
# RUN: %xisan run -- %python %S/cached_object.py
# OPTIONS: log_path=/nonexistent/dir/log
# EXIT: SIGABRT
# CHECK: ^xisan: warning: log_path '/nonexistent/dir/log' is not writable
# CHECK: ERROR: XISan: cross-interpreter-access
#
# The warning comes once per run, not once per process: here a Python that
# starts a child Python (`xisan run` checks log_path before the program
# starts; the processes it runs stay quiet about it).
# RUN: %xisan run -- %python -c "import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'])"
# OPTIONS: log_path=/nonexistent/dir/log
# CHECK-COUNT: 1 ^xisan: warning: log_path '/nonexistent/dir/log' is not writable
