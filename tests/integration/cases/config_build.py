# `cc ... $(xisan config --cflags) mod.c $(xisan config --libs)` builds a
# checked extension: cached_object.py with it is reported at xfix.c's own
# Py_NewRef.  An unknown flag is an error.
#
# RUN: mkdir -p %tmp/config
# RUN: sh -c 'cflags=$(%xisan config --cflags) && libs=$(%xisan config --libs) && \
#   cc -shared -fPIC -g -O1 -I%pyinclude $cflags %root/tests/fixtures/xfix.c $libs \
#   -o %tmp/config/xfix%extsuffix'
#
# RUN: %xisan run -- %python %S/cached_object.py
# FIXTURES: %tmp/config
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"access": "incref", "native_stack": [{"function": "get_cached", \
#   "file": "re:.*/xfix\\.c", "line": %line(tests/fixtures/xfix.c, return Py_NewRef(cached_list);)}, "..."]}
#
# RUN: %xisan config --bogus
# EXIT: 2
# CHECK: --bogus
# EMPTY: stdout
