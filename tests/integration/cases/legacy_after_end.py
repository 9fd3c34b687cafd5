# A legacy sub-interpreter keeps its own list in an extension's C static and
# ends; the main interpreter then drops the list: whatever the interpreters'
# configuration, an object of an interpreter that has ended is reported.
#
# RUN: %xisan run -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "use-after-interpreter-end", "access": "dealloc", "object_type": "list", \
#   "owner_ended": true, "owner_interp_config": "legacy", "current_interp": 0, \
#   "summary": {"function": "drop", "file": "re:.*/xsingle\\.c"}}
import xinterp
import xsingle

interp = xinterp.create(legacy=True)
xinterp.run(interp, "import xsingle\nxsingle.keep([1, 2])\n")
xinterp.destroy(interp)
xsingle.drop()
