"""Seed program 1 in Python: a process runs a function with an argument; the
parent joins it. The original, with `tubo` for `multiprocessing`:

    from multiprocessing import Process
"""
from tubo import Process


def f(name):
    print('hello', name)


if __name__ == '__main__':
    p = Process(target=f, args=('world',))
    p.start()
    p.join()
    raise SystemExit(p.exitcode)
