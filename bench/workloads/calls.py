"""Call-heavy: small Python functions, methods and builtins."""
from subinterp import scaled


class Acc:
    def __init__(self):
        self.value = 0

    def add(self, x):
        self.value += x
        return self.value


def square(x):
    return x * x


def work(n):
    acc = Acc()
    for i in range(n):
        acc.add(square(i) % 7)
        abs(-i)
    return acc.value


print(work(scaled(2_000_000)))
