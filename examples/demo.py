"""examples/demo.py: run the settings extension in two interpreters."""
try:
    import _interpreters as interpreters  # CPython 3.13

    def run(interp, code):
        interpreters.exec(interp, code)

    new = interpreters.create
except ImportError:
    import _xxsubinterpreters as interpreters  # CPython 3.12

    def run(interp, code):
        interpreters.run_string(interp, code)

    def new():
        return interpreters.create(isolated=True)

import settings

print("main sees", settings.get_defaults())
worker = new()
run(worker, """
import settings
config = settings.get_defaults()     # the main interpreter's dict
print("worker sees", config.get("mode"))
""")
interpreters.destroy(worker)
