# Blocks take the 8-byte header (user pointer 8 bytes off a 16-byte
# boundary) only where their contents are known to need no more: floats,
# tuples and instances of classes defined in Python, over pymalloc.  A
# subclass of a ctypes type holding a `long double` stays 16-byte aligned
# although a slot makes its size 16k+8; so does everything with
# short_headers=0, beneath CPython's debug hooks (-X dev) and over glibc's
# malloc.  The header forms are the chain's: with pool_tags=0 (by default
# blocks of up to 512 bytes have no header, pool_tags.py).
#
# RUN: %xisan run -o pool_tags=0 -- %python %s
# CHECK-STDOUT: ^float 8$
# CHECK-STDOUT: ^pair 8$
# CHECK-STDOUT: ^instance 8$
# CHECK-STDOUT: ^long double 0$
# EMPTY: stderr
#
# RUN: %xisan run -o pool_tags=0 -o short_headers=0 -- %python %s
# CHECK-STDOUT: ^float 0$
# CHECK-STDOUT: ^pair 0$
# CHECK-STDOUT: ^instance 0$
# CHECK-STDOUT: ^long double 0$
#
# RUN: %xisan run -- %python -X dev %s
# CHECK-STDOUT: ^float 0$
# CHECK-STDOUT: ^pair 0$
# CHECK-STDOUT: ^instance 0$
# CHECK-STDOUT: ^long double 0$
#
# RUN: env PYTHONMALLOC=malloc %xisan run -- %python %s
# CHECK-STDOUT: ^float 0$
# CHECK-STDOUT: ^pair 0$
# CHECK-STDOUT: ^instance 0$
# CHECK-STDOUT: ^long double 0$
import ctypes
import sys


class Point:
    __slots__ = ("x",)


class LongDouble(ctypes.c_longdouble):
    __slots__ = ("tag",)


def offset(make):
    """id() mod 16 of fresh objects, if all the same."""
    seen = {id(o) % 16 for o in [make(i) for i in range(64)]}
    return seen.pop() if len(seen) == 1 else sorted(seen)


n = len(sys.argv)
print("float", offset(lambda i: i + n + 0.5))         # 24 bytes
print("pair", offset(lambda i: (i, n)))               # 56 bytes with GC links
print("instance", offset(lambda i: Point()))          # 40 bytes with GC links
print("long double", sum(ctypes.addressof(LongDouble(i)) % 16 for i in range(64)))
