"""A heap of about two million small live objects in two interpreters: the
main one and an isolated sub-interpreter in a thread each build a million
floats, ints and 2-tuples, keep them alive and read them back."""
import threading

from subinterp import create, destroy, run, scaled

CODE = """
def build(n):
    floats = [i * 0.5 for i in range(n)]
    ints = [i * 7 + 1_000_000 for i in range(n)]
    pairs = [(i, -i) for i in range(n)]
    return floats, ints, pairs

def total(heap):
    floats, ints, pairs = heap
    return sum(floats) + sum(ints) + sum(a + b for a, b in pairs)

heap = build(N)
for _ in range(3):
    total(heap)
"""


def worker():
    interp = create()
    run(interp, CODE.replace("N)", f"{scaled(200_000)})"))
    destroy(interp)


thread = threading.Thread(target=worker)
thread.start()
exec(CODE.replace("N)", f"{scaled(200_000)})"))
thread.join()
print("done")
