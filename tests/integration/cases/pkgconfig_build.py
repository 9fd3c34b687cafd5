# pkg-config's xisan.pc (from the build tree) builds a checked extension:
# cached_object.py with it is reported at xfix.c's own Py_NewRef.
#
# RUN: mkdir -p %tmp/pkgconfig
# RUN: env PKG_CONFIG_PATH=%build/lib/pkgconfig sh -c 'cflags=$(pkg-config --cflags xisan) && \
#   libs=$(pkg-config --libs xisan) && \
#   cc -shared -fPIC -g -O1 -I%pyinclude $cflags %root/tests/fixtures/xfix.c $libs \
#   -o %tmp/pkgconfig/xfix%extsuffix'
#
# RUN: %xisan run -- %python %S/cached_object.py
# FIXTURES: %tmp/pkgconfig
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"access": "incref", "native_stack": [{"function": "get_cached", \
#   "file": "re:.*/xfix\\.c", "line": %line(tests/fixtures/xfix.c, return Py_NewRef(cached_list);)}, "..."]}
