# cpython_import_suites.py with shadow_gc=1: the broader suites (legacy
# interpreters, single-phase modules, test_capi, test_atexit...) give the
# same totals, and the same reports (none on 3.13.0, only 3.12.1's own
# use-after-end in _testsinglephase), with every interpreter walked at its
# collections and at its end, the main one from its atexit callback.
#
# LABEL: cpython
# TIMEOUT: 1500
# RUN: %python %S/cpython_import_suites.py
# TIMEOUT: 900
# CHECK-STDOUT: ^Total tests:


def verify(case):
    import cpython_import_suites
    cpython_import_suites.verify(case, "shadow_gc=1")
