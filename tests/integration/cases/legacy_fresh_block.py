# A legacy sub-interpreter makes a capsule in a block the main interpreter's
# malloc took and freed just before, in the same thread, and keeps it in a
# C static; the interpreter ends and the main interpreter drops the capsule:
# reported, as any object of an ended interpreter.  (The block's tag names
# the main interpreter when the capsule is made: the creation must give the
# object to the legacy interpreter all the same.  A memo of the block last
# tagged, tried in the ninth session, skipped that and missed this report.)
#
# RUN: %xisan run -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "use-after-interpreter-end", "access": "dealloc", \
#   "object_type": "PyCapsule", "owner_ended": true, "owner_interp_config": "legacy", \
#   "current_interp": 0, "summary": {"function": "drop_legacy_capsule", "file": "re:.*/xfix\\.c", \
#   "line": %line(tests/fixtures/xfix.c, XISAN-EXPECT: drop_legacy_capsule)}}
import xfix

xfix.keep_legacy_capsule()
xfix.drop_legacy_capsule()
