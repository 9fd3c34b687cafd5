"""Two isolated sub-interpreters, each busy in its own thread (own GIL)."""
import threading

from subinterp import create, destroy, run, scaled

CODE = """
def work(n):
    total = 0
    for i in range(n):
        items = [i, str(i)]
        total += len(items[1]) + (lambda v: v + 1)(i)
    return total
work(N)
"""


def worker():
    interp = create()
    run(interp, CODE.replace("work(N)", f"work({scaled(600_000)})"))
    destroy(interp)


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
