"""echo_worker in Python: an exec worker that takes channel `in` (read) and
`out` (write) and sends back every message unchanged until end of stream, then
exits 0. On a framing or channel error it prints the error on stderr and exits
non-zero. Exactly the contract of examples/cpp/echo_worker.cc.
"""
import sys

import tubo


def main():
    try:
        inbox = tubo.take_connection("in", "r")
        outbox = tubo.take_connection("out", "w")
        inbox.max_message_size = 2**64 - 1
        while True:
            try:
                message = inbox.recv_bytes()
            except EOFError:
                break
            outbox.send_bytes(message)
        outbox.close()
    except tubo.TuboError as e:
        print("echo_worker: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
