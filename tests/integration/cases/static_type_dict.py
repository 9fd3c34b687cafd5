# An extension that says it supports a GIL per interpreter but keeps a
# static type: its exec function fills the type's dict once, with the
# first importer's objects ("cached once"), and a second isolated
# interpreter only imports the module and loads attributes (no call, no
# API use of those objects).  With the default options the import in the
# second interpreter is reported, naming the type and the key, the owner
# and where the object was made; in halting mode this is the first report.
#
# RUN: %xisan run -- %python %s
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"kind": "cross-interpreter-reference", "object_type": "list", \
#   "path": "xstatic.Thing.__dict__['registry']", "container_type": "type", \
#   "container_interp": null, "owner_interp": 0, "current_interp": 1}
# CHECK: ^==%pid==ERROR: XISan: cross-interpreter-reference on list object at 0x[0-9a-f]+ \(access: reference\)$
# CHECK: ^  referenced by type object at 0x[0-9a-f]+, shared by every interpreter, at xstatic\.Thing\.__dict__\['registry'\]$
# CHECK: ^  allocated by interpreter 0 \(main\) here:$
# CHECK: ^SUMMARY: XISan: cross-interpreter-reference <string>:1 in <module>$
#
# The same in continue mode: each object the type's dict holds for the
# main interpreter, and the dict PyType_Ready made, once each.
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0
# EXIT: 66
# REPORTS: 4
# REPORT-JSON: {"path": "xstatic.Thing.__dict__['registry']", "object_type": "list"}
# REPORT-JSON: {"path": "xstatic.Thing.__dict__['default']", "object_type": "xstatic.Thing"}
# REPORT-JSON: {"path": "xstatic.Thing.__dict__['limits']", "object_type": "dict"}
# REPORT-JSON: {"path": "xstatic.Thing.__dict__", "object_type": "dict"}
# CHECK-STDOUT: ^done$
# RUN: %xisan report log-2-*
# EXIT: 1
# CHECK-STDOUT: ^#\d cross-interpreter-reference: list object of interpreter 0 referenced by a type every interpreter shares, at xstatic\.Thing\.__dict__\['registry'\]$
#
# With shadow_gc=1 (and the import check off) the walk reaches the type
# from the module's dict and reports the same objects with their paths.
# RUN: %xisan run -- %python %s
# OPTIONS: halt_on_error=0:shadow_gc=1:static_types=0:monitor=none:api_checks=0
# EXIT: 66
# REPORTS: 4
# REPORT-JSON: {"path": "xstatic.Thing.__dict__['registry']", "object_type": "list", \
#   "current_interp": 1}
import xinterp
import xstatic

if __name__ == "__main__":
    assert xstatic.Thing.registry == []
    interp = xinterp.create()
    xinterp.run(interp, "import xstatic\nxstatic.Thing.registry\nxstatic.Thing.limits")
    xinterp.destroy(interp)
    print("done")
