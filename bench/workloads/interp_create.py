"""Ten isolated sub-interpreters created and destroyed one after the other,
each importing a few stdlib modules: the cost of an interpreter's start."""
from subinterp import create, destroy, run

for _ in range(10):
    interp = create()
    run(interp, "import json, re, collections")
    destroy(interp)
