# A code object made where a freed one was (same address, same offsets, the
# same line table object: `code.replace(co_firstlineno=...)`) gives its
# allocations its own lines, not the freed code's: the site cache and the
# frame memos tell code objects apart by CPython's co_version as well as by
# address.  The run says whether an address came back, so that the case
# cannot pass without the reuse it is about.
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^a code object's address came back: True$
# CHECK-STDOUT: ^every site names its own code's line$
# EMPTY: stderr
import os
import _xisan


def g():
    return [1, 2]


base = g.__code__
addresses, wrong = set(), []
came_back = False
for n in range(1, 9):
    g.__code__ = base.replace(co_firstlineno=100 * n)
    came_back |= id(g.__code__) in addresses
    addresses.add(id(g.__code__))
    site = _xisan.site(g())
    want = f"{os.path.abspath(__file__)}:{100 * n + 1} in g"
    if site != want:
        wrong.append(f"{n}: {site!r}, not {want!r}")
print("a code object's address came back:", came_back)
print("every site names its own code's line" if not wrong else "\n".join(wrong))
