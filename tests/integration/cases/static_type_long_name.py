# A sub-interpreter gives `float` an attribute with a 500-character name:
# the static-type-divergence report names it cut at 200 characters (the
# report's line was once built from the whole name into a fixed buffer and
# copied past its end).
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: 66
# REPORTS: 1
# REPORT-JSON: {"kind": "static-type-divergence", "object_name": "float", \
#   "differences": [{"name": "re:^x{200}$", "difference": "only in interpreter 1"}]}
# CHECK: ^    'x{200}': only in interpreter 1$
# CHECK-STDOUT: ^done$
import xinterp

CODE = """
import xheaptype
xheaptype.set_in_type_dict(float, 'x' * 500, 1)
"""

if __name__ == "__main__":
    interp = xinterp.create()
    xinterp.run(interp, CODE)
    xinterp.destroy(interp)
    print("done")
