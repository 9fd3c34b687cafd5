"""Two isolated sub-interpreters, each busy in its own thread (own GIL)."""
import threading

from subinterp import create, destroy, run

CODE = """
def work(n):
    total = 0
    for i in range(n):
        items = [i, str(i)]
        total += len(items[1]) + (lambda v: v + 1)(i)
    return total
work(600_000)
"""


def worker():
    interp = create()
    run(interp, CODE)
    destroy(interp)


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
