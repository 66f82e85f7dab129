"""Seed program 2 in Python: `square` and `is_even` run as two processes over
one list; the parent joins both and prints "Done". The original, with `tubo`
for `multiprocessing`.
"""
import tubo


def square(numbers):
    for x in numbers:
        print('%s squared is %s' % (x, x**2))


def is_even(numbers):
    for x in numbers:
        if x % 2 == 0:
            print('%s is an even number' % (x))


if __name__ == '__main__':
    numbers = [43, 50, 5, 98, 34, 35]

    p1 = tubo.Process(target=square, args=(numbers,))
    p2 = tubo.Process(target=is_even, args=(numbers,))

    p1.start()
    p2.start()

    p1.join()
    p2.join()

    print("Done")
    raise SystemExit(p1.exitcode or p2.exitcode)
