"""Stdlib extension modules at work (json, pickle, struct: C code calling the
C API all the time) in two isolated sub-interpreters, each in its own thread,
and in the main interpreter at the same time."""
import threading

from subinterp import create, destroy, run, scaled

CODE = """
import json, pickle, struct
record = {"id": 1, "name": "widget", "tags": ["a", "b", "c"], "price": 9.5,
          "parts": [{"n": i, "w": i * 0.5} for i in range(8)]}
packer = struct.Struct("<iid")
total = 0
for i in range(ROUNDS):
    record["id"] = i
    text = json.dumps(record)
    total += len(json.loads(text)["parts"])
    blob = pickle.dumps(record, protocol=5)
    total += pickle.loads(blob)["id"]
    total += packer.unpack(packer.pack(i, i + 1, i * 0.25))[1]
"""


def worker():
    interp = create()
    run(interp, CODE.replace("ROUNDS", str(scaled(25_000))))
    destroy(interp)


threads = [threading.Thread(target=worker) for _ in range(2)]
for t in threads:
    t.start()
exec(CODE.replace("ROUNDS", str(scaled(25_000))))
for t in threads:
    t.join()
print("done")
