# Heavy use of CPython's own static types in sub-interpreters (int and str
# methods, collections, itertools, functools, a subclass of a builtin
# type, exceptions) while the main interpreter does the same: CPython's
# static builtin types, with their per-interpreter dicts, and the types of
# its own extension modules are never reported, with the default options
# and with the shadow GC (which walks through them).
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^done$
# REPORTS: 0
# EMPTY: stderr
# RUN: %xisan run -- %python %s
# OPTIONS: shadow_gc=1
# CHECK-STDOUT: ^done$
# REPORTS: 0
# EMPTY: stderr
import threading

import xinterp

CODE = """
import collections, itertools, functools, operator, json, _xisan
class Count(int):
    def twice(self):
        return Count(self * 2)
total = 0
for i in range(2000):
    words = str(i).zfill(6).split('0')
    total += int(''.join(words) or '0').bit_length() + Count(i).twice()
    d = collections.OrderedDict.fromkeys(words)
    d.move_to_end(words[0])
    c = collections.Counter(words)
    q = collections.deque(itertools.islice(itertools.cycle(words), 10), maxlen=5)
    total += sum(itertools.accumulate(map(len, q))) + len(c.most_common(2))
    total += functools.reduce(operator.add, itertools.chain([1], [2]))
    try:
        {}[i]
    except KeyError as e:
        total += len(e.args)
assert json.loads(json.dumps({'t': total}))['t'] == total
_xisan.scan()
"""

if __name__ == "__main__":
    interps = [xinterp.create() for _ in range(2)]
    threads = [threading.Thread(target=xinterp.run, args=(i, CODE)) for i in interps]
    for t in threads:
        t.start()
    exec(CODE.replace("_xisan.scan()", ""))
    for t in threads:
        t.join()
    for i in interps:
        xinterp.destroy(i)
    print("done")
