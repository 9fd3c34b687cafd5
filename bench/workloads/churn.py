"""Object churn: short-lived lists, tuples, dicts, strings, instances."""
from subinterp import scaled


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def churn(n):
    total = 0
    for i in range(n):
        items = [i, i + 1, str(i)]
        record = {"a": items, "b": (i, i * 2)}
        p = Point(i, len(record))
        total += p.y + len(items[2])
    return total


print(churn(scaled(1_000_000)))
