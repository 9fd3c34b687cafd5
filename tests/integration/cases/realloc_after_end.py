# A list made by a sub-interpreter outlives it in a C slot; the main
# interpreter grows it, so CPython reallocates the list's item array, a block
# of the ended interpreter: reported, and in continue mode the old block is
# quarantined (kept, its contents copied to a new block). A quarantined
# block is the checker's, not a survivor: the exit scan counts the list
# object and leaves the old item array out.
#
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: 66
# REPORTS: 3
# CHECK-STDOUT: ^109$
# REPORT-JSON: {"kind": "use-after-interpreter-end", "access": "realloc"}
# CHECK: quarantine holds 1 block, 80 bytes
# RECORD-JSON: {"kind": "survivors", "groups": [{"interp": 1, "type": "list", "count": 1}]}
# CHECK-NOT: other block
import xfix
import xinterp

interp = xinterp.create()
xinterp.run(interp, "import xfix\nxfix.put(1, [1, 2, 3, 4, 5, 6, 7, 8, 9])\n")
xinterp.destroy(interp)
items = xfix.get(1)
items.extend(range(100))
print(len(items))
