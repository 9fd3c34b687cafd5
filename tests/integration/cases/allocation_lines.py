# Allocation sites name the line that allocated, whichever order a code
# object's lines allocate in: the capture keeps, per code object, where its
# last line-table lookup ended and walks on from there, forwards or back.
# Here one function allocates at three lines, called so that each capture's
# line comes before or after the last one's; a second function allocates
# at one instruction under two callers (one site: a site is keyed by the
# allocating instruction, its native depth and caller, not the frames
# beneath).
#
# RUN: %xisan run -- %python %s
# CHECK-STDOUT: ^2: %s:%line(%s, XISAN-EXPECT: pair) in make$
# CHECK-STDOUT: ^1: %s:%line(%s, XISAN-EXPECT: dict) in make$
# CHECK-STDOUT: ^0: %s:%line(%s, XISAN-EXPECT: single) in make$
# CHECK-STDOUT: ^2: %s:%line(%s, XISAN-EXPECT: pair) in make$
# CHECK-STDOUT: ^1: %s:%line(%s, XISAN-EXPECT: dict) in make$
# CHECK-STDOUT: ^inner from a: %s:%line(%s, XISAN-EXPECT: inner) in inner$
# CHECK-STDOUT: ^inner from b: %s:%line(%s, XISAN-EXPECT: inner) in inner$
# CHECK-STDOUT: ^module: %s:%line(%s, XISAN-EXPECT: module) in <module>$
# EMPTY: stderr
import _xisan


def make(kind):
    if kind == 0:
        return [kind]  # XISAN-EXPECT: single
    if kind == 1:
        return {kind: kind}  # XISAN-EXPECT: dict
    return [kind, kind]  # XISAN-EXPECT: pair


def inner():
    return [object()]  # XISAN-EXPECT: inner


def a():
    return inner()


def b():
    return inner()


for kind in (2, 1, 0, 2, 1):
    print(f"{kind}: {_xisan.site(make(kind))}")
print(f"inner from a: {_xisan.site(a())}")
print(f"inner from b: {_xisan.site(b())}")
print(f"module: {_xisan.site([1, 2, 3])}")  # XISAN-EXPECT: module
